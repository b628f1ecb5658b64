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
set title 'Depth-scaling exponent α_ℓ at the end of training'."\n".'{/*0.8 α_ℓ from fitting L(ℓ) = c·ℓ^{-α_ℓ} + L_0 over the student depths ℓ;  error bars: SEM over 2 teacher replicates}' font ',13'
set xlabel 'temperature T of the teacher targets (log scale)'
set ylabel 'depth-scaling exponent α_ℓ'
set logscale x
set format x '%g'
set key outside right top
set offsets graph 0.03, graph 0.03, graph 0.05, graph 0.05
plot 'alpha_vs_temperature.csv' skip 1 using 3:($1==0 ? $4 : NaN):($1==0 ? ($5==$5 ? $5 : 0) : NaN) with yerrorlines lw 2 pt 7 ps 1.2 lc rgb '#0072B2' title 'ρ = 0', \
     'alpha_vs_temperature.csv' skip 1 using 3:($1==1 ? $4 : NaN):($1==1 ? ($5==$5 ? $5 : 0) : NaN) with yerrorlines lw 2 pt 7 ps 1.2 lc rgb '#D55E00' title 'ρ = 1'
