# Written by `depthscale plot`; the numbers are in hidden_angles.csv beside this file.
# Edit and rerun in this folder with: gnuplot hidden_angles.gp
set encoding utf8
# pngcairo draws antialiased text; plain png (libgd) is the fallback without cairo.
if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {
  set terminal pngcairo size 900,600 enhanced font 'Sans,11' linewidth 1.2
} else {
  set terminal png size 900,600 enhanced
}
set output 'hidden_angles.png'
set datafile separator comma
set grid lc rgb '#d9d9d9' lw 1
set border lw 1
set key box opaque reverse Left samplen 2.5 spacing 1.1
set multiplot title 'Angle between consecutive hidden states h_l and h_{l+1}'."\n".'{/*0.8 mean over probe inputs, trained students and their teacher}' font ',13'
unset key
set xlabel 'layer index l'
set ylabel '⟨θ(h_l, h_{l+1})⟩  (radians, log scale)'
set logscale y
set format y '%g'
set title 'ρ = 0, T = 1, teacher replicate 0'
set lmargin at screen 0.1022
set rmargin at screen 0.4800
set bmargin at screen 0.1450
set tmargin at screen 0.8483
set yrange [0.015199526728404035:0.1286683094226995]
set ytics (0.02, 0.03, 0.04, 0.05, 0.07, 0.1)
set mytics default
set xrange [-1:128]
plot 'hidden_angles.csv' skip 1 using 8:($1==0 && strcol(6)eq'student' && $7==6 ? $9 : NaN) with linespoints lw 1.5 pt 7 ps 0.5 lc rgb '#440154' notitle, \
     'hidden_angles.csv' skip 1 using 8:($1==0 && strcol(6)eq'student' && $7==12 ? $9 : NaN) with linespoints lw 1.5 pt 7 ps 0.5 lc rgb '#365c8d' notitle, \
     'hidden_angles.csv' skip 1 using 8:($1==0 && strcol(6)eq'student' && $7==24 ? $9 : NaN) with linespoints lw 1.5 pt 7 ps 0.5 lc rgb '#1fa187' notitle, \
     'hidden_angles.csv' skip 1 using 8:($1==0 && strcol(6)eq'student' && $7==48 ? $9 : NaN) with linespoints lw 1.5 pt 7 ps 0.5 lc rgb '#9ad23a' notitle, \
     'hidden_angles.csv' skip 1 using 8:($1==0 && strcol(6)eq'teacher' && $7==128 ? $9 : NaN) with linespoints lw 2.5 pt 7 ps 0.5 lc rgb '#000000' notitle
set title 'ρ = 1, T = 1, teacher replicate 0'
set lmargin at screen 0.6022
set rmargin at screen 0.9800
set bmargin at screen 0.1450
set tmargin at screen 0.8483
set yrange [0.0037026961381257076:0.36396104266337537]
set ytics (0.005, 0.01, 0.02, 0.05, 0.1, 0.2)
set mytics default
set xrange [-1:128]
plot 'hidden_angles.csv' skip 1 using 8:($1==1 && strcol(6)eq'student' && $7==6 ? $9 : NaN) with linespoints lw 1.5 pt 7 ps 0.5 lc rgb '#440154' notitle, \
     'hidden_angles.csv' skip 1 using 8:($1==1 && strcol(6)eq'student' && $7==12 ? $9 : NaN) with linespoints lw 1.5 pt 7 ps 0.5 lc rgb '#365c8d' notitle, \
     'hidden_angles.csv' skip 1 using 8:($1==1 && strcol(6)eq'student' && $7==24 ? $9 : NaN) with linespoints lw 1.5 pt 7 ps 0.5 lc rgb '#1fa187' notitle, \
     'hidden_angles.csv' skip 1 using 8:($1==1 && strcol(6)eq'student' && $7==48 ? $9 : NaN) with linespoints lw 1.5 pt 7 ps 0.5 lc rgb '#9ad23a' notitle, \
     'hidden_angles.csv' skip 1 using 8:($1==1 && strcol(6)eq'teacher' && $7==128 ? $9 : NaN) with linespoints lw 2.5 pt 7 ps 0.5 lc rgb '#000000' notitle
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
set tmargin at screen 0.0517
set key center center horizontal maxcols 5 box opaque reverse Left samplen 2.5 spacing 1.05
plot 2 with linespoints lw 1.5 pt 7 ps 0.5 lc rgb '#440154' title 'student ℓ = 6', \
     2 with linespoints lw 1.5 pt 7 ps 0.5 lc rgb '#365c8d' title 'student ℓ = 12', \
     2 with linespoints lw 1.5 pt 7 ps 0.5 lc rgb '#1fa187' title 'student ℓ = 24', \
     2 with linespoints lw 1.5 pt 7 ps 0.5 lc rgb '#9ad23a' title 'student ℓ = 48', \
     2 with linespoints lw 2.5 pt 7 ps 0.5 lc rgb '#000000' title 'teacher ℓ* = 128'
unset multiplot
