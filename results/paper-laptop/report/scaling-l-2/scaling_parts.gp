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
set multiplot title 'Scaling-law fit  L = c_m/m^{α_m} + c_ℓ/(ℓ − 2)^{α_ℓ} + c_D/D^{α_D} + L_0'."\n".'{/*0.8 points: loss minus the other fitted terms (203 points); line: the fitted term;  L_0 = 1.745;  mean relative error of the fit 0.40%}' font ',13'
unset key
set logscale xy
set format x '%g'
set format y '%g'
set style line 1 lc rgb '#0072B2' pt 7 ps 0.6
set style line 2 lc rgb '#D55E00' lw 2
set title 'depth:  L − c_m/m^{α_m} − c_D/D^{α_D} − L_0'
set xlabel 'depth used in the fit ℓ − 2 (layers, log scale)'
set ylabel 'leftover loss (log scale)'
set lmargin at screen 0.1022
set rmargin at screen 0.4800
set bmargin at screen 0.5792
set tmargin at screen 0.8483
set xrange [9.416109482022302:47.79043838213246]
set xtics (10, 20, 30, 40)
set mxtics default
set yrange [0.01938232380723345:0.2867789021386954]
set ytics (0.02, 0.05, 0.1, 0.2)
set mytics default
plot 'scaling_parts.csv' skip 1 using 2:($10 > 0 ? $10 : NaN) with points ls 1 notitle, '' skip 1 using 2:6 smooth unique with lines ls 2 notitle
set title 'width:  L − c_ℓ/(ℓ − 2)^{α_ℓ} − c_D/D^{α_D} − L_0'
set xlabel 'width m = d_{model} (log scale)'
set ylabel 'leftover loss (log scale)'
set lmargin at screen 0.6022
set rmargin at screen 0.9800
set bmargin at screen 0.5792
set tmargin at screen 0.8483
set xrange [711.8768505576242:5523.652014979667]
set xtics (1000, 2000, 3000, 4000, 5000)
set mxtics default
set yrange [0.07434888437918905:0.5549041644390175]
set ytics (0.1, 0.2, 0.3, 0.4, 0.5)
set mytics default
plot 'scaling_parts.csv' skip 1 using 1:($11 > 0 ? $11 : NaN) with points ls 1 notitle, '' skip 1 using 1:7 smooth unique with lines ls 2 notitle
set format x '%.0s%c'
set title 'data:  L − c_m/m^{α_m} − c_ℓ/(ℓ − 2)^{α_ℓ} − L_0'
set xlabel 'training tokens D (log scale; G = 10^9)'
set ylabel 'leftover loss (log scale)'
set lmargin at screen 0.1022
set rmargin at screen 0.4800
set bmargin at screen 0.1367
set tmargin at screen 0.4058
set xrange [2184200073.0303593:384836523530.3944]
set xtics (5e+09, 1e+10, 2e+10, 5e+10, 1e+11, 2e+11)
set mxtics default
set yrange [0.143839691308048:0.8806189816420971]
set ytics (0.2, 0.3, 0.4, 0.5, 0.7)
set mytics default
plot 'scaling_parts.csv' skip 1 using 3:($12 > 0 ? $12 : NaN) with points ls 1 notitle, '' skip 1 using 3:8 smooth unique with lines ls 2 notitle
set title 'predicted against observed loss (dashed: equal)'
unset logscale
set format x '%g'
set format y '%g'
set xtics autofreq
set ytics autofreq
set lmargin at screen 0.6022
set rmargin at screen 0.9800
set bmargin at screen 0.1367
set tmargin at screen 0.4058
set xrange [2.0407657500704657:3.0297351149617655]
set yrange [2.0407657500704657:3.0297351149617655]
set xlabel 'observed loss L'
set ylabel 'predicted loss L̂'
plot 'scaling_parts.csv' skip 1 using 4:5 with points ls 1 notitle, x with lines lc rgb '#555555' dt 2 notitle
unset multiplot
