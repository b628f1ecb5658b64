# Written by `depthscale plot`; the numbers are in hidden_grid.csv beside this file.
# Edit and rerun in this folder with: gnuplot hidden_grid.gp
set encoding utf8
# pngcairo draws antialiased text; plain png (libgd) is the fallback without cairo.
if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {
  set terminal pngcairo size 1188,600 enhanced font 'Sans,11' linewidth 1.2
} else {
  set terminal png size 1188,600 enhanced
}
set output 'hidden_grid.png'
set datafile separator comma
set grid lc rgb '#d9d9d9' lw 1
set border lw 1
set key box opaque reverse Left samplen 2.5 spacing 1.1
# Each line below is one block of hidden_grid.csv's rows (counted from 0 after the header), plotted with `every ::first::last`.
set multiplot title 'Angle between consecutive hidden states per input, across ρ and depth'."\n".'{/*0.8 θ(h_l, h_{l+1})  (radians, log scale; a shared range per row) against the layer index l}'."\n".'{/*0.8 grey: the first 20 probe inputs;  bold: the mean over all 2048;  teacher replicate 0}' font ',13'
unset key
set logscale y
set title 'student ℓ = 6'
set lmargin at screen 0.0943
set rmargin at screen 0.2626
set tmargin at screen 0.8133
set bmargin at screen 0.5058
set ylabel 'ρ = 0, T = 1'."\n".'θ(h_l, h_{l+1})'
set format y '%g'
unset xlabel
set yrange [0.005619136384954005:0.18438329508301407]
set ytics (0.01, 0.02, 0.05, 0.1)
set mytics default
set xrange [-0.5:5.5]
set xtics 1
set format x '%g'
plot 'hidden_grid.csv' skip 1 every ::0::5 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::6::11 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::12::17 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::18::23 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::24::29 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::30::35 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::36::41 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::42::47 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::48::53 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::54::59 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::60::65 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::66::71 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::72::77 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::78::83 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::84::89 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::90::95 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::96::101 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::102::107 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::108::113 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::114::119 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::120::125 using 9:10 with linespoints lw 2.5 pt 7 ps 0.55 lc rgb '#D55E00' notitle
set title 'student ℓ = 12'
set lmargin at screen 0.2744
set rmargin at screen 0.4428
set tmargin at screen 0.8133
set bmargin at screen 0.5058
unset ylabel
set format y ''
unset xlabel
set yrange [0.005619136384954005:0.18438329508301407]
set ytics (0.01, 0.02, 0.05, 0.1)
set mytics default
set xrange [-0.5:11.5]
set xtics 2
set format x '%g'
plot 'hidden_grid.csv' skip 1 every ::126::137 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::138::149 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::150::161 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::162::173 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::174::185 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::186::197 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::198::209 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::210::221 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::222::233 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::234::245 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::246::257 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::258::269 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::270::281 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::282::293 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::294::305 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::306::317 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::318::329 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::330::341 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::342::353 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::354::365 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::366::377 using 9:10 with linespoints lw 2.5 pt 7 ps 0.55 lc rgb '#D55E00' notitle
set title 'student ℓ = 24'
set lmargin at screen 0.4545
set rmargin at screen 0.6229
set tmargin at screen 0.8133
set bmargin at screen 0.5058
unset ylabel
set format y ''
unset xlabel
set yrange [0.005619136384954005:0.18438329508301407]
set ytics (0.01, 0.02, 0.05, 0.1)
set mytics default
set xrange [-0.5:23.5]
set xtics 5
set format x '%g'
plot 'hidden_grid.csv' skip 1 every ::378::401 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::402::425 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::426::449 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::450::473 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::474::497 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::498::521 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::522::545 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::546::569 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::570::593 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::594::617 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::618::641 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::642::665 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::666::689 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::690::713 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::714::737 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::738::761 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::762::785 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::786::809 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::810::833 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::834::857 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::858::881 using 9:10 with linespoints lw 2.5 pt 7 ps 0.55 lc rgb '#D55E00' notitle
set title 'student ℓ = 48'
set lmargin at screen 0.6347
set rmargin at screen 0.8030
set tmargin at screen 0.8133
set bmargin at screen 0.5058
unset ylabel
set format y ''
unset xlabel
set yrange [0.005619136384954005:0.18438329508301407]
set ytics (0.01, 0.02, 0.05, 0.1)
set mytics default
set xrange [-0.5:47.5]
set xtics 10
set format x '%g'
plot 'hidden_grid.csv' skip 1 every ::882::929 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::930::977 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::978::1025 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1026::1073 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1074::1121 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1122::1169 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1170::1217 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1218::1265 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1266::1313 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1314::1361 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1362::1409 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1410::1457 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1458::1505 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1506::1553 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1554::1601 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1602::1649 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1650::1697 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1698::1745 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1746::1793 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1794::1841 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1842::1889 using 9:10 with linespoints lw 2.5 pt 7 ps 0.55 lc rgb '#D55E00' notitle
set title 'teacher ℓ* = 128'
set lmargin at screen 0.8148
set rmargin at screen 0.9832
set tmargin at screen 0.8133
set bmargin at screen 0.5058
unset ylabel
set format y ''
unset xlabel
set yrange [0.005619136384954005:0.18438329508301407]
set ytics (0.01, 0.02, 0.05, 0.1)
set mytics default
set xrange [-0.5:127.5]
set xtics 20
set format x '%g'
plot 'hidden_grid.csv' skip 1 every ::1890::2017 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::2018::2145 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::2146::2273 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::2274::2401 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::2402::2529 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::2530::2657 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::2658::2785 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::2786::2913 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::2914::3041 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::3042::3169 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::3170::3297 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::3298::3425 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::3426::3553 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::3554::3681 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::3682::3809 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::3810::3937 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::3938::4065 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::4066::4193 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::4194::4321 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::4322::4449 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::4450::4577 using 9:10 with linespoints lw 2.5 pt 7 ps 0.55 lc rgb '#D55E00' notitle
set title ''
set lmargin at screen 0.0943
set rmargin at screen 0.2626
set tmargin at screen 0.4458
set bmargin at screen 0.1383
set ylabel 'ρ = 1, T = 1'."\n".'θ(h_l, h_{l+1})'
set format y '%g'
set xlabel 'layer l'
set yrange [0.0022269043854828254:0.5798291752732514]
set ytics (0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5)
set mytics default
set xrange [-0.5:5.5]
set xtics 1
set format x '%g'
plot 'hidden_grid.csv' skip 1 every ::4578::4583 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::4584::4589 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::4590::4595 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::4596::4601 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::4602::4607 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::4608::4613 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::4614::4619 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::4620::4625 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::4626::4631 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::4632::4637 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::4638::4643 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::4644::4649 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::4650::4655 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::4656::4661 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::4662::4667 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::4668::4673 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::4674::4679 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::4680::4685 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::4686::4691 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::4692::4697 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::4698::4703 using 9:10 with linespoints lw 2.5 pt 7 ps 0.55 lc rgb '#D55E00' notitle
set title ''
set lmargin at screen 0.2744
set rmargin at screen 0.4428
set tmargin at screen 0.4458
set bmargin at screen 0.1383
unset ylabel
set format y ''
set xlabel 'layer l'
set yrange [0.0022269043854828254:0.5798291752732514]
set ytics (0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5)
set mytics default
set xrange [-0.5:11.5]
set xtics 2
set format x '%g'
plot 'hidden_grid.csv' skip 1 every ::4704::4715 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::4716::4727 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::4728::4739 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::4740::4751 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::4752::4763 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::4764::4775 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::4776::4787 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::4788::4799 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::4800::4811 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::4812::4823 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::4824::4835 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::4836::4847 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::4848::4859 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::4860::4871 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::4872::4883 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::4884::4895 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::4896::4907 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::4908::4919 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::4920::4931 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::4932::4943 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::4944::4955 using 9:10 with linespoints lw 2.5 pt 7 ps 0.55 lc rgb '#D55E00' notitle
set title ''
set lmargin at screen 0.4545
set rmargin at screen 0.6229
set tmargin at screen 0.4458
set bmargin at screen 0.1383
unset ylabel
set format y ''
set xlabel 'layer l'
set yrange [0.0022269043854828254:0.5798291752732514]
set ytics (0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5)
set mytics default
set xrange [-0.5:23.5]
set xtics 5
set format x '%g'
plot 'hidden_grid.csv' skip 1 every ::4956::4979 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::4980::5003 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::5004::5027 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::5028::5051 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::5052::5075 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::5076::5099 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::5100::5123 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::5124::5147 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::5148::5171 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::5172::5195 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::5196::5219 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::5220::5243 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::5244::5267 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::5268::5291 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::5292::5315 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::5316::5339 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::5340::5363 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::5364::5387 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::5388::5411 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::5412::5435 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::5436::5459 using 9:10 with linespoints lw 2.5 pt 7 ps 0.55 lc rgb '#D55E00' notitle
set title ''
set lmargin at screen 0.6347
set rmargin at screen 0.8030
set tmargin at screen 0.4458
set bmargin at screen 0.1383
unset ylabel
set format y ''
set xlabel 'layer l'
set yrange [0.0022269043854828254:0.5798291752732514]
set ytics (0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5)
set mytics default
set xrange [-0.5:47.5]
set xtics 10
set format x '%g'
plot 'hidden_grid.csv' skip 1 every ::5460::5507 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::5508::5555 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::5556::5603 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::5604::5651 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::5652::5699 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::5700::5747 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::5748::5795 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::5796::5843 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::5844::5891 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::5892::5939 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::5940::5987 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::5988::6035 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::6036::6083 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::6084::6131 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::6132::6179 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::6180::6227 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::6228::6275 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::6276::6323 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::6324::6371 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::6372::6419 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::6420::6467 using 9:10 with linespoints lw 2.5 pt 7 ps 0.55 lc rgb '#D55E00' notitle
set title ''
set lmargin at screen 0.8148
set rmargin at screen 0.9832
set tmargin at screen 0.4458
set bmargin at screen 0.1383
unset ylabel
set format y ''
set xlabel 'layer l'
set yrange [0.0022269043854828254:0.5798291752732514]
set ytics (0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5)
set mytics default
set xrange [-0.5:127.5]
set xtics 20
set format x '%g'
plot 'hidden_grid.csv' skip 1 every ::6468::6595 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::6596::6723 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::6724::6851 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::6852::6979 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::6980::7107 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::7108::7235 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::7236::7363 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::7364::7491 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::7492::7619 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::7620::7747 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::7748::7875 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::7876::8003 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::8004::8131 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::8132::8259 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::8260::8387 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::8388::8515 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::8516::8643 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::8644::8771 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::8772::8899 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::8900::9027 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::9028::9155 using 9:10 with linespoints lw 2.5 pt 7 ps 0.55 lc rgb '#D55E00' notitle
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
