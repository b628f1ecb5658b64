# Written by `depthscale plot`; the numbers are in model_shapes.csv beside this file.
# Edit and rerun in this folder with: gnuplot model_shapes.gp
set encoding utf8
# pngcairo draws antialiased text; plain png (libgd) is the fallback without cairo.
if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {
  set terminal pngcairo size 900,600 enhanced font 'Sans,11' linewidth 1.2
} else {
  set terminal png size 900,600 enhanced
}
set output 'model_shapes.png'
set datafile separator comma
set grid lc rgb '#d9d9d9' lw 1
set border lw 1
set key box opaque reverse Left samplen 2.5 spacing 1.1
set multiplot title 'Depth against width of real model shapes (the study''s Figs 11, 15)'."\n".'{/*0.8 lines (key: slope ± SE): least squares of log(ℓ − 2) on log m; the scaling fit''s optimum ℓ*(m) ∝ m^γ at fixed N = m²ℓ, γ = α_m/α_ℓ}' font ',13'
unset key
set lmargin at screen 0.1022
set rmargin at screen 0.9800
set bmargin at screen 0.2400
set tmargin at screen 0.8950
set logscale xy
set format x '%g'
set format y '%g'
set xrange [456.09893774707655:10345.544813824214]
set xtics (500, 1000, 2000, 5000, 10000)
set mxtics default
set yrange [5.358999397667014:113.21587994575827]
set ytics (10, 20, 50, 100)
set mytics default
set xlabel 'width m = d_{model} (log scale)'
set ylabel 'depth ℓ = number of layers (log scale)'
plot 'model_shapes.csv' skip 1 using 4:(strcol(1)eq'point' && strcol(2)eq'fitting data' ? $5 : NaN) with points pt 7 ps 0.6 lc rgb '#aaaaaa' notitle, \
     'model_shapes.csv' skip 1 using 4:(strcol(1)eq'point' && strcol(2)eq'Pythia' ? $5 : NaN) with points pt 7 ps 1.3 lc rgb '#D55E00' notitle, \
     'model_shapes.csv' skip 1 using 4:(strcol(1)eq'point' && strcol(2)eq'OPT' ? $5 : NaN) with points pt 9 ps 1.3 lc rgb '#009E73' notitle, \
     'model_shapes.csv' skip 1 using 4:(strcol(1)eq'point' && strcol(2)eq'Qwen2.5' ? $5 : NaN) with points pt 11 ps 1.3 lc rgb '#CC79A7' notitle, \
     'model_shapes.csv' skip 1 using 4:(strcol(1)eq'line' && strcol(2)eq'fitting data' ? $5 : NaN) with lines lw 2 lc rgb '#666666' notitle, \
     'model_shapes.csv' skip 1 using 4:(strcol(1)eq'line' && strcol(2)eq'shapes: all' ? $5 : NaN) with lines lw 2 lc rgb '#D55E00' notitle, \
     'model_shapes.csv' skip 1 using 4:(strcol(1)eq'line' && strcol(2)eq'the fit''s optimum' ? $5 : NaN) with lines lw 2.5 dt 2 lc rgb '#000000' notitle
# the shared key: an empty plot across the bottom
unset title
unset xlabel
unset ylabel
unset border
unset tics
unset grid
unset logscale
set xrange [0:1]
set yrange [0:1]
set lmargin at screen 0.0200
set rmargin at screen 0.9800
set bmargin at screen 0.0040
set tmargin at screen 0.1467
set key center center horizontal maxcols 2 box opaque reverse Left samplen 2.5 spacing 1.05
plot 2 with points pt 7 ps 0.6 lc rgb '#aaaaaa' title 'Chinchilla fitting data (203 rows)', \
     2 with points pt 7 ps 1.3 lc rgb '#D55E00' title 'Pythia', \
     2 with points pt 9 ps 1.3 lc rgb '#009E73' title 'OPT', \
     2 with points pt 11 ps 1.3 lc rgb '#CC79A7' title 'Qwen2.5', \
     2 with lines lw 2 lc rgb '#666666' title 'Chinchilla shapes: 0.659 ± 0.020', \
     2 with lines lw 2 lc rgb '#D55E00' title 'supplied shapes: 0.690 ± 0.085', \
     2 with lines lw 2.5 dt 2 lc rgb '#000000' title 'fit''s optimum ℓ*(m), γ: 0.867 ± 0.273'
unset multiplot
