# Written by `depthscale plot`; the numbers are in test_loss_vs_step.csv beside this file.
# Edit and rerun in this folder with: gnuplot test_loss_vs_step.gp
set encoding utf8
# pngcairo draws antialiased text; plain png (libgd) is the fallback without cairo.
if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {
  set terminal pngcairo size 900,600 enhanced font 'Sans,11' linewidth 1.2
} else {
  set terminal png size 900,600 enhanced
}
set output 'test_loss_vs_step.png'
set datafile separator comma
set grid lc rgb '#d9d9d9' lw 1
set border lw 1
set key box opaque reverse Left samplen 2.5 spacing 1.1
set multiplot title 'Test loss against training step at a fixed depth'."\n".'{/*0.8 mean over teacher replicates;  one line per temperature T}' font ',13'
unset key
set ylabel 'test loss (log scale)'
set xlabel 'training step'
set logscale y
set format y '%g'
set title 'width-depth-small m=8: ρ = 0, ℓ = 8'
set lmargin at screen 0.1022
set rmargin at screen 0.4800
set bmargin at screen 0.6008
set tmargin at screen 0.8483
set yrange [0.002848023754213129:0.03440091630256545]
set ytics (0.005, 0.01, 0.02)
set mytics default
set xrange [0:3000]
plot 'test_loss_vs_step.csv' skip 1 using 6:($1==0 && abs($4-(1))<=1e-12*abs(1) ? $7 : NaN) with linespoints lw 1.5 pt 7 ps 0.5 lc rgb '#440154' notitle
set title 'width-depth-small m=16: ρ = 0, ℓ = 8'
set lmargin at screen 0.6022
set rmargin at screen 0.9800
set bmargin at screen 0.6008
set tmargin at screen 0.8483
set yrange [0.0006538139414578866:0.004087307289624806]
set ytics (0.0007, 0.001, 0.002, 0.003, 0.004)
set mytics default
set xrange [0:3000]
plot 'test_loss_vs_step.csv' skip 1 using 6:($1==1 && abs($4-(1))<=1e-12*abs(1) ? $7 : NaN) with linespoints lw 1.5 pt 7 ps 0.5 lc rgb '#440154' notitle
set title 'width-depth-small m=32: ρ = 0, ℓ = 8'
set lmargin at screen 0.1022
set rmargin at screen 0.4800
set bmargin at screen 0.1800
set tmargin at screen 0.4275
set yrange [2.1061523885926472e-05:0.0014240590849235561]
set ytics (5e-05, 0.0001, 0.0002, 0.0005, 0.001)
set mytics default
set xrange [0:3000]
plot 'test_loss_vs_step.csv' skip 1 using 6:($1==2 && abs($4-(1))<=1e-12*abs(1) ? $7 : NaN) with linespoints lw 1.5 pt 7 ps 0.5 lc rgb '#440154' notitle
set title 'width-depth-small m=64: ρ = 0, ℓ = 8'
set lmargin at screen 0.6022
set rmargin at screen 0.9800
set bmargin at screen 0.1800
set tmargin at screen 0.4275
set yrange [1.7397756150570167e-05:0.0006265034262791401]
set ytics (2e-05, 5e-05, 0.0001, 0.0002, 0.0005)
set mytics default
set xrange [0:3000]
plot 'test_loss_vs_step.csv' skip 1 using 6:($1==3 && abs($4-(1))<=1e-12*abs(1) ? $7 : NaN) with linespoints lw 1.5 pt 7 ps 0.5 lc rgb '#440154' notitle
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
set key center center horizontal maxcols 1 box opaque reverse Left samplen 2.5 spacing 1.05
plot 2 with linespoints lw 1.5 pt 7 ps 0.5 lc rgb '#440154' title 'T = 1'
unset multiplot
