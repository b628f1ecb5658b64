# Written by `depthscale plot`; the numbers are in alpha_vs_step.csv beside this file.
# Edit and rerun in this folder with: gnuplot alpha_vs_step.gp
set encoding utf8
# pngcairo draws antialiased text; plain png (libgd) is the fallback without cairo.
if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {
  set terminal pngcairo size 900,600 enhanced font 'Sans,11' linewidth 1.2
} else {
  set terminal png size 900,600 enhanced
}
set output 'alpha_vs_step.png'
set datafile separator comma
set grid lc rgb '#d9d9d9' lw 1
set border lw 1
set key box opaque reverse Left samplen 2.5 spacing 1.1
set multiplot title 'Depth-scaling exponent α_ℓ during training'."\n".'{/*0.8 line: α_ℓ of the fit at that step;  band: SEM over 2 teacher replicates}' font ',13'
unset key
set lmargin at screen 0.1022
set rmargin at screen 0.9800
set bmargin at screen 0.2300
set tmargin at screen 0.8950
set xlabel 'training step'
set ylabel 'depth-scaling exponent α_ℓ'
set style fill transparent solid 0.15 noborder
set arrow from graph 0, first 1 to graph 1, first 1 nohead dt 2 lw 1.2 lc rgb '#777777' back
set arrow from graph 0, first 2 to graph 1, first 2 nohead dt 3 lw 1.2 lc rgb '#777777' back
set arrow from graph 0, first 3 to graph 1, first 3 nohead dt 3 lw 1.2 lc rgb '#777777' back
set yrange [*:3.2<*]
plot 'alpha_vs_step.csv' skip 1 using 5:($1==0 && $7==$7 ? $6-$7 : NaN):($1==0 && $7==$7 ? $6+$7 : NaN) with filledcurves lc rgb '#440154' notitle, \
     'alpha_vs_step.csv' skip 1 using 5:($1==0 ? $6 : NaN) with lines lw 2 dt 1 lc rgb '#440154' notitle, \
     'alpha_vs_step.csv' skip 1 using 5:($1==1 && $7==$7 ? $6-$7 : NaN):($1==1 && $7==$7 ? $6+$7 : NaN) with filledcurves lc rgb '#440154' notitle, \
     'alpha_vs_step.csv' skip 1 using 5:($1==1 ? $6 : NaN) with lines lw 2 dt 2 lc rgb '#440154' notitle, \
     'alpha_vs_step.csv' skip 1 using 5:($1==2 && $7==$7 ? $6-$7 : NaN):($1==2 && $7==$7 ? $6+$7 : NaN) with filledcurves lc rgb '#440154' notitle, \
     'alpha_vs_step.csv' skip 1 using 5:($1==2 ? $6 : NaN) with lines lw 2 dt 3 lc rgb '#440154' notitle, \
     'alpha_vs_step.csv' skip 1 using 5:($1==3 && $7==$7 ? $6-$7 : NaN):($1==3 && $7==$7 ? $6+$7 : NaN) with filledcurves lc rgb '#440154' notitle, \
     'alpha_vs_step.csv' skip 1 using 5:($1==3 ? $6 : NaN) with lines lw 2 dt 4 lc rgb '#440154' notitle
unset arrow
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
plot 2 with lines lw 2 dt 1 lc rgb '#440154' title 'width-depth-small m=8: ρ = 0, T = 1', \
     2 with lines lw 2 dt 2 lc rgb '#440154' title 'width-depth-small m=16: ρ = 0, T = 1', \
     2 with lines lw 2 dt 3 lc rgb '#440154' title 'width-depth-small m=32: ρ = 0, T = 1', \
     2 with lines lw 2 dt 4 lc rgb '#440154' title 'width-depth-small m=64: ρ = 0, T = 1', \
     2 with lines lw 1.2 dt 2 lc rgb '#777777' title 'theory: ensemble averaging, α = 1', \
     2 with lines lw 1.2 dt 3 lc rgb '#777777' title 'theory: first-order procedural, α = 2, 3'
unset multiplot
