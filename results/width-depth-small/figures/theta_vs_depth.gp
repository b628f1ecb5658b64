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
set xtics (4, 8)
set xrange [3.4782608695652177:9.2]
set yrange [0.07066485015710743:0.17834114429408968]
set ytics (0.075, 0.1, 0.125, 0.15, 0.175)
set mytics default
plot 'theta_vs_depth.csv' skip 1 using 5:($1==0 ? $6 : NaN) with points pt 7 ps 1.2 lc rgb '#0072B2' title 'width-depth-small m=8: ρ = 0', \
     0.6254460254259478 * x**(-0.9383421856075893) with lines lw 2 lc rgb '#0072B2' title 'slope -0.94', \
     'theta_vs_depth.csv' skip 1 using 5:($1==1 ? $6 : NaN) with points pt 7 ps 1.2 lc rgb '#D55E00' title 'width-depth-small m=16: ρ = 0', \
     0.5660305679125911 * x**(-0.8820244040740176) with lines lw 2 lc rgb '#D55E00' title 'slope -0.88', \
     'theta_vs_depth.csv' skip 1 using 5:($1==2 ? $6 : NaN) with points pt 7 ps 1.2 lc rgb '#009E73' title 'width-depth-small m=32: ρ = 0', \
     0.5420318988866004 * x**(-0.8885380793856423) with lines lw 2 lc rgb '#009E73' title 'slope -0.89', \
     'theta_vs_depth.csv' skip 1 using 5:($1==3 ? $6 : NaN) with points pt 7 ps 1.2 lc rgb '#CC79A7' title 'width-depth-small m=64: ρ = 0', \
     0.4373522373853237 * x**(-0.854430811257915) with lines lw 2 lc rgb '#CC79A7' title 'slope -0.85', \
     0.681257882333739 / x with lines lw 1.2 dt 2 lc rgb '#777777' title '1/ℓ'
