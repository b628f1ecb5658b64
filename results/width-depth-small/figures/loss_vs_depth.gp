# Written by `depthscale plot`; the numbers are in loss_vs_depth.csv beside this file.
# Edit and rerun in this folder with: gnuplot loss_vs_depth.gp
set encoding utf8
# pngcairo draws antialiased text; plain png (libgd) is the fallback without cairo.
if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {
  set terminal pngcairo size 900,600 enhanced font 'Sans,11' linewidth 1.2
} else {
  set terminal png size 900,600 enhanced
}
set output 'loss_vs_depth.png'
set datafile separator comma
set grid lc rgb '#d9d9d9' lw 1
set border lw 1
set key box opaque reverse Left samplen 2.5 spacing 1.1
set multiplot title 'Final test loss against student depth, with fits c·ℓ^{-α_ℓ} + L_0'."\n".'{/*0.8 points: test loss of each trained student;  lines: fit at the end}'."\n".'{/*0.8 lowest teacher replicate of each (ρ, T) group; ± is the fit SE}' font ',13'
unset key
set lmargin at screen 0.1022
set rmargin at screen 0.9800
set bmargin at screen 0.2667
set tmargin at screen 0.8667
set xlabel 'student depth ℓ (residual blocks, log scale)'
set ylabel 'test loss after training (log scale)'
set logscale xy
set format y '%g'
set yrange [1.77130882650224e-05:0.003601274595801003]
set ytics (2e-05, 5e-05, 0.0001, 0.0002, 0.0005, 0.001, 0.002)
set mytics default
set xrange [0.8928571428571428:8.96]
set xtics (1, 2, 4, 8)
set mxtics default
plot 'loss_vs_depth.csv' skip 1 using 7:($1==0 && strcol(6)eq'fit' ? $8 : NaN) with lines lw 2 lc rgb '#0072B2' notitle, \
     'loss_vs_depth.csv' skip 1 using 7:($1==0 && strcol(6)eq'data' ? $8 : NaN) with points pt 7 ps 1.3 lc rgb '#0072B2' notitle, \
     'loss_vs_depth.csv' skip 1 using 7:($1==1 && strcol(6)eq'fit' ? $8 : NaN) with lines lw 2 lc rgb '#D55E00' notitle, \
     'loss_vs_depth.csv' skip 1 using 7:($1==1 && strcol(6)eq'data' ? $8 : NaN) with points pt 7 ps 1.3 lc rgb '#D55E00' notitle, \
     'loss_vs_depth.csv' skip 1 using 7:($1==2 && strcol(6)eq'fit' ? $8 : NaN) with lines lw 2 lc rgb '#009E73' notitle, \
     'loss_vs_depth.csv' skip 1 using 7:($1==2 && strcol(6)eq'data' ? $8 : NaN) with points pt 7 ps 1.3 lc rgb '#009E73' notitle, \
     'loss_vs_depth.csv' skip 1 using 7:($1==3 && strcol(6)eq'fit' ? $8 : NaN) with lines lw 2 lc rgb '#CC79A7' notitle, \
     'loss_vs_depth.csv' skip 1 using 7:($1==3 && strcol(6)eq'data' ? $8 : NaN) with points pt 7 ps 1.3 lc rgb '#CC79A7' notitle
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
set tmargin at screen 0.1733
set key center center horizontal maxcols 1 box opaque reverse Left samplen 2.5 spacing 1.05
plot 2 with linespoints pt 7 ps 1.3 lw 2 lc rgb '#0072B2' title 'width-depth-small m=8: ρ = 0, T = 1:  α_ℓ = 1.14 ± 0.07', \
     2 with linespoints pt 7 ps 1.3 lw 2 lc rgb '#D55E00' title 'width-depth-small m=16: ρ = 0, T = 1:  α_ℓ = 1.91 ± 0.18', \
     2 with linespoints pt 7 ps 1.3 lw 2 lc rgb '#009E73' title 'width-depth-small m=32: ρ = 0, T = 1:  α_ℓ = 1.27 ± 0.11', \
     2 with linespoints pt 7 ps 1.3 lw 2 lc rgb '#CC79A7' title 'width-depth-small m=64: ρ = 0, T = 1:  α_ℓ = 1.32 ± 0.12'
unset multiplot
