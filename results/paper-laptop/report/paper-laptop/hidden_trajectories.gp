# Written by `depthscale plot`; the numbers are in hidden_trajectories.csv beside this file.
# Edit and rerun in this folder with: gnuplot hidden_trajectories.gp
set encoding utf8
# pngcairo draws antialiased text; plain png (libgd) is the fallback without cairo.
if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {
  set terminal pngcairo size 900,600 enhanced font 'Sans,11' linewidth 1.2
} else {
  set terminal png size 900,600 enhanced
}
set output 'hidden_trajectories.png'
set datafile separator comma
set grid lc rgb '#d9d9d9' lw 1
set border lw 1
set key box opaque reverse Left samplen 2.5 spacing 1.1
# Each line below is one block of hidden_trajectories.csv's rows (counted from 0 after the header), plotted with `every ::first::last`.
set multiplot title 'Angle between consecutive hidden states h_l and h_{l+1}, input by input'."\n".'{/*0.8 grey: the first 20 probe inputs, one line each;  bold: the mean over all 2048 inputs}' font ',13'
unset key
set xlabel 'layer index l'
set ylabel 'θ(h_l, h_{l+1})  (radians, log scale)'
set logscale y
set format y '%g'
set title 'ρ = 0, T = 1, replicate 0: student ℓ = 48'
set lmargin at screen 0.1022
set rmargin at screen 0.4800
set bmargin at screen 0.1450
set tmargin at screen 0.8483
set yrange [0.005967471512234129:0.0385994627658137]
set ytics (0.007, 0.01, 0.02, 0.03)
set mytics default
set xrange [-0.5:47.5]
set xtics 10
set format x '%g'
plot 'hidden_trajectories.csv' skip 1 every ::0::47 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_trajectories.csv' skip 1 every ::48::95 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_trajectories.csv' skip 1 every ::96::143 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_trajectories.csv' skip 1 every ::144::191 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_trajectories.csv' skip 1 every ::192::239 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_trajectories.csv' skip 1 every ::240::287 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_trajectories.csv' skip 1 every ::288::335 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_trajectories.csv' skip 1 every ::336::383 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_trajectories.csv' skip 1 every ::384::431 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_trajectories.csv' skip 1 every ::432::479 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_trajectories.csv' skip 1 every ::480::527 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_trajectories.csv' skip 1 every ::528::575 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_trajectories.csv' skip 1 every ::576::623 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_trajectories.csv' skip 1 every ::624::671 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_trajectories.csv' skip 1 every ::672::719 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_trajectories.csv' skip 1 every ::720::767 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_trajectories.csv' skip 1 every ::768::815 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_trajectories.csv' skip 1 every ::816::863 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_trajectories.csv' skip 1 every ::864::911 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_trajectories.csv' skip 1 every ::912::959 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_trajectories.csv' skip 1 every ::960::1007 using 9:10 with linespoints lw 2.5 pt 7 ps 0.55 lc rgb '#D55E00' notitle
set title 'ρ = 1, T = 1, replicate 0: student ℓ = 48'
set lmargin at screen 0.6022
set rmargin at screen 0.9800
set bmargin at screen 0.1450
set tmargin at screen 0.8483
set yrange [0.01079119033841444:0.3885837759881773]
set ytics (0.02, 0.05, 0.1, 0.2)
set mytics default
set xrange [-0.5:47.5]
set xtics 10
set format x '%g'
plot 'hidden_trajectories.csv' skip 1 every ::1008::1055 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_trajectories.csv' skip 1 every ::1056::1103 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_trajectories.csv' skip 1 every ::1104::1151 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_trajectories.csv' skip 1 every ::1152::1199 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_trajectories.csv' skip 1 every ::1200::1247 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_trajectories.csv' skip 1 every ::1248::1295 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_trajectories.csv' skip 1 every ::1296::1343 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_trajectories.csv' skip 1 every ::1344::1391 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_trajectories.csv' skip 1 every ::1392::1439 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_trajectories.csv' skip 1 every ::1440::1487 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_trajectories.csv' skip 1 every ::1488::1535 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_trajectories.csv' skip 1 every ::1536::1583 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_trajectories.csv' skip 1 every ::1584::1631 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_trajectories.csv' skip 1 every ::1632::1679 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_trajectories.csv' skip 1 every ::1680::1727 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_trajectories.csv' skip 1 every ::1728::1775 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_trajectories.csv' skip 1 every ::1776::1823 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_trajectories.csv' skip 1 every ::1824::1871 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_trajectories.csv' skip 1 every ::1872::1919 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_trajectories.csv' skip 1 every ::1920::1967 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_trajectories.csv' skip 1 every ::1968::2015 using 9:10 with linespoints lw 2.5 pt 7 ps 0.55 lc rgb '#D55E00' notitle
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
set key center center horizontal maxcols 2 box opaque reverse Left samplen 2.5 spacing 1.05
plot 2 with lines lw 1 lc rgb '#60505050' title 'single probe inputs', \
     2 with linespoints lw 2.5 pt 7 ps 0.55 lc rgb '#D55E00' title 'mean over all probe inputs'
unset multiplot
