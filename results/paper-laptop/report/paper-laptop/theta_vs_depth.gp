# Written by `depthscale plot`; the numbers are in theta_vs_depth.csv beside this file.
# Edit and rerun in this folder with: gnuplot theta_vs_depth.gp
set encoding utf8
# pngcairo draws antialiased text; plain png (libgd) is the fallback without cairo.
if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {
  set terminal pngcairo size 900,600 enhanced font 'Sans,11' linewidth 1.2
} else {
  set terminal png size 900,600 enhanced
}
set output 'theta_vs_depth.png'
set datafile separator comma
set grid lc rgb '#d9d9d9' lw 1
set border lw 1
set key box opaque reverse Left samplen 2.5 spacing 1.1
set title 'Mean angle between consecutive hidden states against depth'."\n".'{/*0.8 mean over probe inputs and middle layers 1..ℓ−2;  lines: fitted power law}' font ',13'
set xlabel 'student depth ℓ (log scale)'
set ylabel '⟨θ⟩_{D,l}  (radians, log scale)'
set logscale xy
set format x '%g'
set format y '%g'
set key outside right top
set xtics (6, 12, 24, 48)
set xrange [5.217391304347826:55.199999999999996]
set yrange [0.015913523178995612:0.3106033442181796]
set ytics (0.02, 0.05, 0.1, 0.2)
set mytics default
plot 'theta_vs_depth.csv' skip 1 using 5:($1==0 ? $6 : NaN) with points pt 7 ps 1.2 lc rgb '#0072B2' title 'ρ = 0', \
     0.5373205840564688 * x**(-0.8700703506173951) with lines lw 2 lc rgb '#0072B2' title 'slope -0.87 ± 0.05', \
     'theta_vs_depth.csv' skip 1 using 5:($1==1 ? $6 : NaN) with points pt 7 ps 1.2 lc rgb '#D55E00' title 'ρ = 1', \
     0.878955413440303 * x**(-0.6780510704583907) with lines lw 2 lc rgb '#D55E00' title 'slope -0.68 ± 0.06', \
     0.6779046487235973 / x with lines lw 1.2 dt 2 lc rgb '#777777' title '1/ℓ'
