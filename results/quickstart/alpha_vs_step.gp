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
set title 'Depth-scaling exponent α_ℓ during training'."\n".'{/*0.8 line: α_ℓ of the fit at that step;  band: SEM over 2 teacher replicates}' font ',13'
set xlabel 'training step'
set ylabel 'depth-scaling exponent α_ℓ'
set key outside right top
set style fill transparent solid 0.15 noborder
plot 'alpha_vs_step.csv' skip 1 using 4:($1==0 && $6==$6 ? $5-$6 : NaN):($1==0 && $6==$6 ? $5+$6 : NaN) with filledcurves lc rgb '#440154' notitle, \
     'alpha_vs_step.csv' skip 1 using 4:($1==0 ? $5 : NaN) with lines lw 2 dt 1 lc rgb '#440154' title 'ρ = 0, T = 1', \
     'alpha_vs_step.csv' skip 1 using 4:($1==1 && $6==$6 ? $5-$6 : NaN):($1==1 && $6==$6 ? $5+$6 : NaN) with filledcurves lc rgb '#440154' notitle, \
     'alpha_vs_step.csv' skip 1 using 4:($1==1 ? $5 : NaN) with lines lw 2 dt 2 lc rgb '#440154' title 'ρ = 1, T = 1'
