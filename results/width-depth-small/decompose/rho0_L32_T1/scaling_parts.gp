# Written by `depthscale plot`; the numbers are in scaling_parts.csv beside this file.
# Edit and rerun in this folder with: gnuplot scaling_parts.gp
set encoding utf8
# pngcairo draws antialiased text; plain png (libgd) is the fallback without cairo.
if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {
  set terminal pngcairo size 900,600 enhanced font 'Sans,11' linewidth 1.2
} else {
  set terminal png size 900,600 enhanced
}
set output 'scaling_parts.png'
set datafile separator comma
set grid lc rgb '#d9d9d9' lw 1
set border lw 1
set key box opaque reverse Left samplen 2.5 spacing 1.1
set multiplot title 'Scaling-law fit  L = c_m/m^{α_m} + c_ℓ/ℓ^{α_ℓ} + c_D/D^{α_D} + L_0'."\n".'{/*0.8 points: loss minus the other fitted terms (448 points); line: the fitted term}'."\n".'{/*0.8 L_0 = 4.966e-06;  mean relative error of the fit 33.61%}' font ',13'
unset key
set logscale xy
set format x '%g'
set format y '%g'
set style line 1 lc rgb '#0072B2' pt 7 ps 0.6
set style line 2 lc rgb '#D55E00' lw 2
set title 'depth:  L − c_m/m^{α_m} − c_D/D^{α_D} − L_0 (185 ≤ 0 hidden)'
set xlabel 'depth ℓ used in the fit (layers, log scale)'
set ylabel 'leftover loss (log scale)'
set lmargin at screen 0.1022
set rmargin at screen 0.4800
set bmargin at screen 0.5683
set tmargin at screen 0.8200
set xrange [0.9201876506248752:8.693878900208464]
set xtics (1, 2, 3, 4, 5, 7)
set mxtics default
set yrange [1.278851131682486e-07:0.0014642912789851875]
set ytics (1e-06, 1e-05, 0.0001, 0.001)
set mytics default
plot 'scaling_parts.csv' skip 1 using 2:($10 > 0 ? $10 : NaN) with points ls 1 notitle, '' skip 1 using 2:6 smooth unique with lines ls 2 notitle
set title 'width:  L − c_ℓ/ℓ^{α_ℓ} − c_D/D^{α_D} − L_0 (19 ≤ 0 hidden)'
set xlabel 'student width m (log scale)'
set ylabel 'leftover loss (log scale)'
set lmargin at screen 0.6022
set rmargin at screen 0.9800
set bmargin at screen 0.5683
set tmargin at screen 0.8200
set xrange [7.361501204999001:69.55103120166771]
set xtics (10, 20, 30, 40, 50)
set mxtics default
set yrange [8.998042621518086e-08:0.00592550826661949]
set ytics (1e-07, 1e-06, 1e-05, 0.0001, 0.001)
set mytics default
plot 'scaling_parts.csv' skip 1 using 1:($11 > 0 ? $11 : NaN) with points ls 1 notitle, '' skip 1 using 1:7 smooth unique with lines ls 2 notitle
set format x '%.0s%c'
set title 'data:  L − c_m/m^{α_m} − c_ℓ/ℓ^{α_ℓ} − L_0 (188 ≤ 0 hidden)'
set xlabel 'inputs seen D = step × batch (log scale; k = 10^3, M = 10^6)'
set ylabel 'leftover loss (log scale)'
set lmargin at screen 0.1022
set rmargin at screen 0.4800
set bmargin at screen 0.1433
set tmargin at screen 0.3950
set xrange [70042.43246253386:842095.2546379662]
set xtics (100000, 200000, 500000)
set mxtics default
set yrange [5.081733185345773e-07:0.001532359768535321]
set ytics (1e-06, 1e-05, 0.0001, 0.001)
set mytics default
plot 'scaling_parts.csv' skip 1 using 3:($12 > 0 ? $12 : NaN) with points ls 1 notitle, '' skip 1 using 3:8 smooth unique with lines ls 2 notitle
set title 'predicted against observed loss (dashed: equal)'
set format x '%g'
set format y '%g'
set lmargin at screen 0.6022
set rmargin at screen 0.9800
set bmargin at screen 0.1433
set tmargin at screen 0.3950
set xrange [1.350963828671843e-05:0.0051410986380741415]
set xtics (2e-05, 5e-05, 0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005)
set mxtics default
set yrange [1.350963828671843e-05:0.0051410986380741415]
set ytics (2e-05, 5e-05, 0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005)
set mytics default
set xlabel 'observed loss L'
set ylabel 'predicted loss L̂'
plot 'scaling_parts.csv' skip 1 using 4:5 with points ls 1 notitle, x with lines lc rgb '#555555' dt 2 notitle
unset multiplot
