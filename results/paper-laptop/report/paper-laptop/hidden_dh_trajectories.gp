# Written by `depthscale plot`; the numbers are in hidden_dh_trajectories.csv beside this file.
# Edit and rerun in this folder with: gnuplot hidden_dh_trajectories.gp
set encoding utf8
# pngcairo draws antialiased text; plain png (libgd) is the fallback without cairo.
if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {
  set terminal pngcairo size 900,600 enhanced font 'Sans,11' linewidth 1.2
} else {
  set terminal png size 900,600 enhanced
}
set output 'hidden_dh_trajectories.png'
set datafile separator comma
set grid lc rgb '#d9d9d9' lw 1
set border lw 1
set key box opaque reverse Left samplen 2.5 spacing 1.1
# Each line below is one block of hidden_dh_trajectories.csv's rows (counted from 0 after the header), plotted with `every ::first::last`.
set multiplot title 'Angle between consecutive residual updates, input by input'."\n".'{/*0.8 grey: the first 20 probe inputs, one line each;  bold: the mean over all 2048 inputs;  Δh_l = h_l − h_{l−1}}' font ',13'
unset key
set xlabel 'layer index l'
set ylabel 'θ(Δh_l, Δh_{l+1})  (radians, log scale)'
set logscale y
set format y '%g'
set title 'ρ = 0, T = 1, replicate 0: student ℓ = 48'
set lmargin at screen 0.1022
set rmargin at screen 0.4800
set bmargin at screen 0.1450
set tmargin at screen 0.8483
set yrange [0.8566554586469565:2.052202977756866]
set ytics (1, 1.25, 1.5, 1.75, 2)
set mytics default
set xrange [0.5:47.5]
set xtics 10
set format x '%g'
plot 'hidden_dh_trajectories.csv' skip 1 every ::0::46 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_trajectories.csv' skip 1 every ::47::93 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_trajectories.csv' skip 1 every ::94::140 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_trajectories.csv' skip 1 every ::141::187 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_trajectories.csv' skip 1 every ::188::234 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_trajectories.csv' skip 1 every ::235::281 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_trajectories.csv' skip 1 every ::282::328 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_trajectories.csv' skip 1 every ::329::375 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_trajectories.csv' skip 1 every ::376::422 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_trajectories.csv' skip 1 every ::423::469 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_trajectories.csv' skip 1 every ::470::516 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_trajectories.csv' skip 1 every ::517::563 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_trajectories.csv' skip 1 every ::564::610 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_trajectories.csv' skip 1 every ::611::657 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_trajectories.csv' skip 1 every ::658::704 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_trajectories.csv' skip 1 every ::705::751 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_trajectories.csv' skip 1 every ::752::798 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_trajectories.csv' skip 1 every ::799::845 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_trajectories.csv' skip 1 every ::846::892 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_trajectories.csv' skip 1 every ::893::939 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_trajectories.csv' skip 1 every ::940::986 using 9:10 with linespoints lw 2.5 pt 7 ps 0.55 lc rgb '#D55E00' notitle
set title 'ρ = 1, T = 1, replicate 0: student ℓ = 48'
set lmargin at screen 0.6022
set rmargin at screen 0.9800
set bmargin at screen 0.1450
set tmargin at screen 0.8483
set yrange [0.662574494190432:2.413774928028462]
set ytics (0.7, 1, 2)
set mytics default
set xrange [0.5:47.5]
set xtics 10
set format x '%g'
plot 'hidden_dh_trajectories.csv' skip 1 every ::987::1033 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_trajectories.csv' skip 1 every ::1034::1080 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_trajectories.csv' skip 1 every ::1081::1127 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_trajectories.csv' skip 1 every ::1128::1174 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_trajectories.csv' skip 1 every ::1175::1221 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_trajectories.csv' skip 1 every ::1222::1268 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_trajectories.csv' skip 1 every ::1269::1315 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_trajectories.csv' skip 1 every ::1316::1362 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_trajectories.csv' skip 1 every ::1363::1409 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_trajectories.csv' skip 1 every ::1410::1456 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_trajectories.csv' skip 1 every ::1457::1503 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_trajectories.csv' skip 1 every ::1504::1550 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_trajectories.csv' skip 1 every ::1551::1597 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_trajectories.csv' skip 1 every ::1598::1644 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_trajectories.csv' skip 1 every ::1645::1691 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_trajectories.csv' skip 1 every ::1692::1738 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_trajectories.csv' skip 1 every ::1739::1785 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_trajectories.csv' skip 1 every ::1786::1832 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_trajectories.csv' skip 1 every ::1833::1879 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_trajectories.csv' skip 1 every ::1880::1926 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_trajectories.csv' skip 1 every ::1927::1973 using 9:10 with linespoints lw 2.5 pt 7 ps 0.55 lc rgb '#D55E00' notitle
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
