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
set multiplot title 'Angle between consecutive residual updates, input by input'."\n".'{/*0.8 grey: the first 20 probe inputs, one line each;  bold: the mean over all 512 inputs;  Δh_l = h_l − h_{l−1}}' font ',13'
unset key
set xlabel 'layer index l'
set ylabel 'θ(Δh_l, Δh_{l+1})  (radians, log scale)'
set logscale y
set format y '%g'
set title 'ρ = 0, T = 1, replicate 0: student ℓ = 8'
set lmargin at screen 0.1022
set rmargin at screen 0.4800
set bmargin at screen 0.1450
set tmargin at screen 0.8483
set yrange [0.8598545316234855:1.9836065490036796]
set ytics (1, 1.25, 1.5, 1.75)
set mytics default
set xrange [0.5:7.5]
set xtics 1
set format x '%g'
plot 'hidden_dh_trajectories.csv' skip 1 every ::0::6 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_trajectories.csv' skip 1 every ::7::13 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_trajectories.csv' skip 1 every ::14::20 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_trajectories.csv' skip 1 every ::21::27 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_trajectories.csv' skip 1 every ::28::34 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_trajectories.csv' skip 1 every ::35::41 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_trajectories.csv' skip 1 every ::42::48 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_trajectories.csv' skip 1 every ::49::55 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_trajectories.csv' skip 1 every ::56::62 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_trajectories.csv' skip 1 every ::63::69 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_trajectories.csv' skip 1 every ::70::76 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_trajectories.csv' skip 1 every ::77::83 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_trajectories.csv' skip 1 every ::84::90 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_trajectories.csv' skip 1 every ::91::97 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_trajectories.csv' skip 1 every ::98::104 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_trajectories.csv' skip 1 every ::105::111 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_trajectories.csv' skip 1 every ::112::118 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_trajectories.csv' skip 1 every ::119::125 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_trajectories.csv' skip 1 every ::126::132 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_trajectories.csv' skip 1 every ::133::139 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_trajectories.csv' skip 1 every ::140::146 using 9:10 with linespoints lw 2.5 pt 7 ps 0.55 lc rgb '#D55E00' notitle
set title 'ρ = 1, T = 1, replicate 0: student ℓ = 8'
set lmargin at screen 0.6022
set rmargin at screen 0.9800
set bmargin at screen 0.1450
set tmargin at screen 0.8483
set yrange [0.7298403146698453:1.8380668543793341]
set ytics (0.75, 1, 1.25, 1.5, 1.75)
set mytics default
set xrange [0.5:7.5]
set xtics 1
set format x '%g'
plot 'hidden_dh_trajectories.csv' skip 1 every ::147::153 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_trajectories.csv' skip 1 every ::154::160 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_trajectories.csv' skip 1 every ::161::167 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_trajectories.csv' skip 1 every ::168::174 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_trajectories.csv' skip 1 every ::175::181 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_trajectories.csv' skip 1 every ::182::188 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_trajectories.csv' skip 1 every ::189::195 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_trajectories.csv' skip 1 every ::196::202 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_trajectories.csv' skip 1 every ::203::209 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_trajectories.csv' skip 1 every ::210::216 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_trajectories.csv' skip 1 every ::217::223 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_trajectories.csv' skip 1 every ::224::230 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_trajectories.csv' skip 1 every ::231::237 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_trajectories.csv' skip 1 every ::238::244 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_trajectories.csv' skip 1 every ::245::251 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_trajectories.csv' skip 1 every ::252::258 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_trajectories.csv' skip 1 every ::259::265 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_trajectories.csv' skip 1 every ::266::272 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_trajectories.csv' skip 1 every ::273::279 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_trajectories.csv' skip 1 every ::280::286 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_trajectories.csv' skip 1 every ::287::293 using 9:10 with linespoints lw 2.5 pt 7 ps 0.55 lc rgb '#D55E00' notitle
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
