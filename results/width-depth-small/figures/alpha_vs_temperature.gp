# Written by `depthscale plot`; the numbers are in alpha_vs_temperature.csv beside this file.
# Edit and rerun in this folder with: gnuplot alpha_vs_temperature.gp
set encoding utf8
# pngcairo draws antialiased text; plain png (libgd) is the fallback without cairo.
if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {
  set terminal pngcairo size 900,600 enhanced font 'Sans,11' linewidth 1.2
} else {
  set terminal png size 900,600 enhanced
}
set output 'alpha_vs_temperature.png'
set datafile separator comma
set grid lc rgb '#d9d9d9' lw 1
set border lw 1
set key box opaque reverse Left samplen 2.5 spacing 1.1
set multiplot title 'Depth-scaling exponent α_ℓ at the end of training'."\n".'{/*0.8 α_ℓ from fitting L(ℓ) = c·ℓ^{-α_ℓ} + L_0 over the student depths ℓ;  error bars: SEM over 2 teacher replicates}' font ',13'
unset key
set lmargin at screen 0.1022
set rmargin at screen 0.9800
set bmargin at screen 0.2300
set tmargin at screen 0.8950
set xlabel 'temperature T of the teacher targets (log scale)'
set ylabel 'depth-scaling exponent α_ℓ'
set logscale x
set format x '%g'
set offsets graph 0.03, graph 0.03, graph 0.05, graph 0.05
set arrow from graph 0, first 1 to graph 1, first 1 nohead dt 2 lw 1.2 lc rgb '#777777' back
set arrow from graph 0, first 2 to graph 1, first 2 nohead dt 3 lw 1.2 lc rgb '#777777' back
set arrow from graph 0, first 3 to graph 1, first 3 nohead dt 3 lw 1.2 lc rgb '#777777' back
set yrange [*:3.2<*]
plot 'alpha_vs_temperature.csv' skip 1 using 4:($1==0 ? $5 : NaN):($1==0 ? ($6==$6 ? $6 : 0) : NaN) with yerrorlines lw 2 pt 7 ps 1.2 lc rgb '#0072B2' notitle, \
     'alpha_vs_temperature.csv' skip 1 using 4:($1==1 ? $5 : NaN):($1==1 ? ($6==$6 ? $6 : 0) : NaN) with yerrorlines lw 2 pt 7 ps 1.2 lc rgb '#D55E00' notitle, \
     'alpha_vs_temperature.csv' skip 1 using 4:($1==2 ? $5 : NaN):($1==2 ? ($6==$6 ? $6 : 0) : NaN) with yerrorlines lw 2 pt 7 ps 1.2 lc rgb '#009E73' notitle, \
     'alpha_vs_temperature.csv' skip 1 using 4:($1==3 ? $5 : NaN):($1==3 ? ($6==$6 ? $6 : 0) : NaN) with yerrorlines lw 2 pt 7 ps 1.2 lc rgb '#CC79A7' notitle
unset arrow
set offsets 0, 0, 0, 0
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
set tmargin at screen 0.1367
set key center center horizontal maxcols 2 box opaque reverse Left samplen 2.5 spacing 1.05
plot 2 with linespoints lw 2 pt 7 ps 1.2 lc rgb '#0072B2' title 'width-depth-small m=8: ρ = 0', \
     2 with linespoints lw 2 pt 7 ps 1.2 lc rgb '#D55E00' title 'width-depth-small m=16: ρ = 0', \
     2 with linespoints lw 2 pt 7 ps 1.2 lc rgb '#009E73' title 'width-depth-small m=32: ρ = 0', \
     2 with linespoints lw 2 pt 7 ps 1.2 lc rgb '#CC79A7' title 'width-depth-small m=64: ρ = 0', \
     2 with lines lw 1.2 dt 2 lc rgb '#777777' title 'theory: ensemble averaging, α = 1', \
     2 with lines lw 1.2 dt 3 lc rgb '#777777' title 'theory: first-order procedural, α = 2, 3'
unset multiplot
