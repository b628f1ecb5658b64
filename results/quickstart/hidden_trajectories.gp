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
set multiplot title 'Angle between consecutive hidden states h_l and h_{l+1}, input by input'."\n".'{/*0.8 grey: the first 20 probe inputs, one line each;  bold: the mean over all 512 inputs}' font ',13'
unset key
set xlabel 'layer index l'
set ylabel 'θ(h_l, h_{l+1})  (radians, log scale)'
set logscale y
set format y '%g'
set title 'ρ = 0, T = 1, replicate 0: student ℓ = 8'
set lmargin at screen 0.1022
set rmargin at screen 0.4800
set bmargin at screen 0.1450
set tmargin at screen 0.8483
set yrange [0.02829817639038226:0.1202862773363379]
set ytics (0.03, 0.04, 0.05, 0.07, 0.1)
set mytics default
set xrange [-0.5:7.5]
set xtics 1
set format x '%g'
plot 'hidden_trajectories.csv' skip 1 every ::0::7 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_trajectories.csv' skip 1 every ::8::15 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_trajectories.csv' skip 1 every ::16::23 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_trajectories.csv' skip 1 every ::24::31 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_trajectories.csv' skip 1 every ::32::39 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_trajectories.csv' skip 1 every ::40::47 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_trajectories.csv' skip 1 every ::48::55 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_trajectories.csv' skip 1 every ::56::63 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_trajectories.csv' skip 1 every ::64::71 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_trajectories.csv' skip 1 every ::72::79 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_trajectories.csv' skip 1 every ::80::87 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_trajectories.csv' skip 1 every ::88::95 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_trajectories.csv' skip 1 every ::96::103 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_trajectories.csv' skip 1 every ::104::111 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_trajectories.csv' skip 1 every ::112::119 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_trajectories.csv' skip 1 every ::120::127 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_trajectories.csv' skip 1 every ::128::135 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_trajectories.csv' skip 1 every ::136::143 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_trajectories.csv' skip 1 every ::144::151 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_trajectories.csv' skip 1 every ::152::159 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_trajectories.csv' skip 1 every ::160::167 using 9:10 with linespoints lw 2.5 pt 7 ps 0.55 lc rgb '#D55E00' notitle
set title 'ρ = 1, T = 1, replicate 0: student ℓ = 8'
set lmargin at screen 0.6022
set rmargin at screen 0.9800
set bmargin at screen 0.1450
set tmargin at screen 0.8483
set yrange [0.06477573501054502:0.45033581710994125]
set ytics (0.07, 0.1, 0.2, 0.3, 0.4)
set mytics default
set xrange [-0.5:7.5]
set xtics 1
set format x '%g'
plot 'hidden_trajectories.csv' skip 1 every ::168::175 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_trajectories.csv' skip 1 every ::176::183 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_trajectories.csv' skip 1 every ::184::191 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_trajectories.csv' skip 1 every ::192::199 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_trajectories.csv' skip 1 every ::200::207 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_trajectories.csv' skip 1 every ::208::215 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_trajectories.csv' skip 1 every ::216::223 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_trajectories.csv' skip 1 every ::224::231 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_trajectories.csv' skip 1 every ::232::239 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_trajectories.csv' skip 1 every ::240::247 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_trajectories.csv' skip 1 every ::248::255 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_trajectories.csv' skip 1 every ::256::263 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_trajectories.csv' skip 1 every ::264::271 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_trajectories.csv' skip 1 every ::272::279 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_trajectories.csv' skip 1 every ::280::287 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_trajectories.csv' skip 1 every ::288::295 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_trajectories.csv' skip 1 every ::296::303 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_trajectories.csv' skip 1 every ::304::311 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_trajectories.csv' skip 1 every ::312::319 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_trajectories.csv' skip 1 every ::320::327 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_trajectories.csv' skip 1 every ::328::335 using 9:10 with linespoints lw 2.5 pt 7 ps 0.55 lc rgb '#D55E00' notitle
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
