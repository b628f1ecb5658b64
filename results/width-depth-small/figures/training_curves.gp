# Written by `depthscale plot`; the numbers are in training_curves.csv beside this file.
# Edit and rerun in this folder with: gnuplot training_curves.gp
set encoding utf8
# pngcairo draws antialiased text; plain png (libgd) is the fallback without cairo.
if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {
  set terminal pngcairo size 900,600 enhanced font 'Sans,11' linewidth 1.2
} else {
  set terminal png size 900,600 enhanced
}
set output 'training_curves.png'
set datafile separator comma
set grid lc rgb '#d9d9d9' lw 1
set border lw 1
set key box opaque reverse Left samplen 2.5 spacing 1.1
set multiplot title 'Training loss against step, one line per student depth ℓ'."\n".'{/*0.8 running mean over the last 30 steps}' font ',13'
unset key
set ylabel 'train loss (log scale)'
set xlabel 'training step'
set logscale y
set format y '%g'
set title 'width-depth-small m=8: ρ = 0, T = 1, teacher replicate 0'
set lmargin at screen 0.1022
set rmargin at screen 0.4800
set bmargin at screen 0.6008
set tmargin at screen 0.8483
set yrange [0.002413364543782454:0.17778401766827168]
set ytics (0.005, 0.01, 0.02, 0.05, 0.1)
set mytics default
set xrange [0:3000]
plot 'training_curves.csv' skip 1 using 7:($1==0 && $6==1 ? $8 : NaN) with lines lw 1.5 lc rgb '#440154' notitle, \
     'training_curves.csv' skip 1 using 7:($1==0 && $6==2 ? $8 : NaN) with lines lw 1.5 lc rgb '#365c8d' notitle, \
     'training_curves.csv' skip 1 using 7:($1==0 && $6==4 ? $8 : NaN) with lines lw 1.5 lc rgb '#1fa187' notitle, \
     'training_curves.csv' skip 1 using 7:($1==0 && $6==8 ? $8 : NaN) with lines lw 1.5 lc rgb '#9ad23a' notitle
set title 'width-depth-small m=16: ρ = 0, T = 1, teacher replicate 0'
set lmargin at screen 0.6022
set rmargin at screen 0.9800
set bmargin at screen 0.6008
set tmargin at screen 0.8483
set yrange [0.0005991256746959582:0.18039461525573258]
set ytics (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1)
set mytics default
set xrange [0:3000]
plot 'training_curves.csv' skip 1 using 7:($1==1 && $6==1 ? $8 : NaN) with lines lw 1.5 lc rgb '#440154' notitle, \
     'training_curves.csv' skip 1 using 7:($1==1 && $6==2 ? $8 : NaN) with lines lw 1.5 lc rgb '#365c8d' notitle, \
     'training_curves.csv' skip 1 using 7:($1==1 && $6==4 ? $8 : NaN) with lines lw 1.5 lc rgb '#1fa187' notitle, \
     'training_curves.csv' skip 1 using 7:($1==1 && $6==8 ? $8 : NaN) with lines lw 1.5 lc rgb '#9ad23a' notitle
set title 'width-depth-small m=32: ρ = 0, T = 1, teacher replicate 0'
set lmargin at screen 0.1022
set rmargin at screen 0.4800
set bmargin at screen 0.1800
set tmargin at screen 0.4275
set yrange [1.763488054623077e-05:0.1906318309481243]
set ytics (0.0001, 0.001, 0.01, 0.1)
set mytics default
set xrange [0:3000]
plot 'training_curves.csv' skip 1 using 7:($1==2 && $6==1 ? $8 : NaN) with lines lw 1.5 lc rgb '#440154' notitle, \
     'training_curves.csv' skip 1 using 7:($1==2 && $6==2 ? $8 : NaN) with lines lw 1.5 lc rgb '#365c8d' notitle, \
     'training_curves.csv' skip 1 using 7:($1==2 && $6==4 ? $8 : NaN) with lines lw 1.5 lc rgb '#1fa187' notitle, \
     'training_curves.csv' skip 1 using 7:($1==2 && $6==8 ? $8 : NaN) with lines lw 1.5 lc rgb '#9ad23a' notitle
set title 'width-depth-small m=64: ρ = 0, T = 1, teacher replicate 0'
set lmargin at screen 0.6022
set rmargin at screen 0.9800
set bmargin at screen 0.1800
set tmargin at screen 0.4275
set yrange [1.3775771935567621e-05:0.16436499401371735]
set ytics (0.0001, 0.001, 0.01, 0.1)
set mytics default
set xrange [0:3000]
plot 'training_curves.csv' skip 1 using 7:($1==3 && $6==1 ? $8 : NaN) with lines lw 1.5 lc rgb '#440154' notitle, \
     'training_curves.csv' skip 1 using 7:($1==3 && $6==2 ? $8 : NaN) with lines lw 1.5 lc rgb '#365c8d' notitle, \
     'training_curves.csv' skip 1 using 7:($1==3 && $6==4 ? $8 : NaN) with lines lw 1.5 lc rgb '#1fa187' notitle, \
     'training_curves.csv' skip 1 using 7:($1==3 && $6==8 ? $8 : NaN) with lines lw 1.5 lc rgb '#9ad23a' notitle
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
plot 2 with lines lw 1.5 lc rgb '#440154' title 'ℓ = 1', \
     2 with lines lw 1.5 lc rgb '#365c8d' title 'ℓ = 2', \
     2 with lines lw 1.5 lc rgb '#1fa187' title 'ℓ = 4', \
     2 with lines lw 1.5 lc rgb '#9ad23a' title 'ℓ = 8'
unset multiplot
