# Written by `depthscale plot`; the numbers are in hidden_dh_angles.csv beside this file.
# Edit and rerun in this folder with: gnuplot hidden_dh_angles.gp
set encoding utf8
# pngcairo draws antialiased text; plain png (libgd) is the fallback without cairo.
if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {
  set terminal pngcairo size 900,600 enhanced font 'Sans,11' linewidth 1.2
} else {
  set terminal png size 900,600 enhanced
}
set output 'hidden_dh_angles.png'
set datafile separator comma
set grid lc rgb '#d9d9d9' lw 1
set border lw 1
set key box opaque reverse Left samplen 2.5 spacing 1.1
set multiplot title 'Angle between consecutive residual updates Δh_l = h_l − h_{l−1}'."\n".'{/*0.8 mean over probe inputs, trained students and their teacher}' font ',13'
unset key
set xlabel 'layer index l'
set ylabel '⟨θ(Δh_l, Δh_{l+1})⟩  (radians, log scale)'
set logscale y
set format y '%g'
set title 'width-depth-small m=8: ρ = 0, T = 1, teacher replicate 0'
set lmargin at screen 0.1022
set rmargin at screen 0.4800
set bmargin at screen 0.6008
set tmargin at screen 0.8483
set yrange [0.7981386747884568:1.7783047600163522]
set ytics (0.8, 1, 1.2, 1.4, 1.6)
set mytics default
set xrange [0:32]
plot 'hidden_dh_angles.csv' skip 1 using 8:($1==0 && strcol(6)eq'student' && $7==2 ? $9 : NaN) with linespoints lw 1.5 pt 7 ps 0.5 lc rgb '#365c8d' notitle, \
     'hidden_dh_angles.csv' skip 1 using 8:($1==0 && strcol(6)eq'student' && $7==4 ? $9 : NaN) with linespoints lw 1.5 pt 7 ps 0.5 lc rgb '#1fa187' notitle, \
     'hidden_dh_angles.csv' skip 1 using 8:($1==0 && strcol(6)eq'student' && $7==8 ? $9 : NaN) with linespoints lw 1.5 pt 7 ps 0.5 lc rgb '#9ad23a' notitle, \
     'hidden_dh_angles.csv' skip 1 using 8:($1==0 && strcol(6)eq'teacher' && $7==32 ? $9 : NaN) with linespoints lw 2.5 pt 7 ps 0.5 lc rgb '#000000' notitle
set title 'width-depth-small m=16: ρ = 0, T = 1, teacher replicate 0'
set lmargin at screen 0.6022
set rmargin at screen 0.9800
set bmargin at screen 0.6008
set tmargin at screen 0.8483
set yrange [0.8156874667317151:1.7783047600163522]
set ytics (1, 1.2, 1.4, 1.6)
set mytics default
set xrange [0:32]
plot 'hidden_dh_angles.csv' skip 1 using 8:($1==1 && strcol(6)eq'student' && $7==2 ? $9 : NaN) with linespoints lw 1.5 pt 7 ps 0.5 lc rgb '#365c8d' notitle, \
     'hidden_dh_angles.csv' skip 1 using 8:($1==1 && strcol(6)eq'student' && $7==4 ? $9 : NaN) with linespoints lw 1.5 pt 7 ps 0.5 lc rgb '#1fa187' notitle, \
     'hidden_dh_angles.csv' skip 1 using 8:($1==1 && strcol(6)eq'student' && $7==8 ? $9 : NaN) with linespoints lw 1.5 pt 7 ps 0.5 lc rgb '#9ad23a' notitle, \
     'hidden_dh_angles.csv' skip 1 using 8:($1==1 && strcol(6)eq'teacher' && $7==32 ? $9 : NaN) with linespoints lw 2.5 pt 7 ps 0.5 lc rgb '#000000' notitle
set title 'width-depth-small m=32: ρ = 0, T = 1, teacher replicate 0'
set lmargin at screen 0.1022
set rmargin at screen 0.4800
set bmargin at screen 0.1800
set tmargin at screen 0.4275
set yrange [0.8248991385440863:1.7783047600163522]
set ytics (1, 1.2, 1.4, 1.6)
set mytics default
set xrange [0:32]
plot 'hidden_dh_angles.csv' skip 1 using 8:($1==2 && strcol(6)eq'student' && $7==2 ? $9 : NaN) with linespoints lw 1.5 pt 7 ps 0.5 lc rgb '#365c8d' notitle, \
     'hidden_dh_angles.csv' skip 1 using 8:($1==2 && strcol(6)eq'student' && $7==4 ? $9 : NaN) with linespoints lw 1.5 pt 7 ps 0.5 lc rgb '#1fa187' notitle, \
     'hidden_dh_angles.csv' skip 1 using 8:($1==2 && strcol(6)eq'student' && $7==8 ? $9 : NaN) with linespoints lw 1.5 pt 7 ps 0.5 lc rgb '#9ad23a' notitle, \
     'hidden_dh_angles.csv' skip 1 using 8:($1==2 && strcol(6)eq'teacher' && $7==32 ? $9 : NaN) with linespoints lw 2.5 pt 7 ps 0.5 lc rgb '#000000' notitle
set title 'width-depth-small m=64: ρ = 0, T = 1, teacher replicate 0'
set lmargin at screen 0.6022
set rmargin at screen 0.9800
set bmargin at screen 0.1800
set tmargin at screen 0.4275
set yrange [0.4975280618259488:1.7803830263685534]
set ytics (0.5, 0.7, 1)
set mytics default
set xrange [0:32]
plot 'hidden_dh_angles.csv' skip 1 using 8:($1==3 && strcol(6)eq'student' && $7==2 ? $9 : NaN) with linespoints lw 1.5 pt 7 ps 0.5 lc rgb '#365c8d' notitle, \
     'hidden_dh_angles.csv' skip 1 using 8:($1==3 && strcol(6)eq'student' && $7==4 ? $9 : NaN) with linespoints lw 1.5 pt 7 ps 0.5 lc rgb '#1fa187' notitle, \
     'hidden_dh_angles.csv' skip 1 using 8:($1==3 && strcol(6)eq'student' && $7==8 ? $9 : NaN) with linespoints lw 1.5 pt 7 ps 0.5 lc rgb '#9ad23a' notitle, \
     'hidden_dh_angles.csv' skip 1 using 8:($1==3 && strcol(6)eq'teacher' && $7==32 ? $9 : NaN) with linespoints lw 2.5 pt 7 ps 0.5 lc rgb '#000000' notitle
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
set tmargin at screen 0.0633
set key center center horizontal maxcols 4 box opaque reverse Left samplen 2.5 spacing 1.05
plot 2 with linespoints lw 1.5 pt 7 ps 0.5 lc rgb '#365c8d' title 'student ℓ = 2', \
     2 with linespoints lw 1.5 pt 7 ps 0.5 lc rgb '#1fa187' title 'student ℓ = 4', \
     2 with linespoints lw 1.5 pt 7 ps 0.5 lc rgb '#9ad23a' title 'student ℓ = 8', \
     2 with linespoints lw 2.5 pt 7 ps 0.5 lc rgb '#000000' title 'teacher ℓ* = 32'
unset multiplot
