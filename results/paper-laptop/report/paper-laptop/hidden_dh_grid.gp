# Written by `depthscale plot`; the numbers are in hidden_dh_grid.csv beside this file.
# Edit and rerun in this folder with: gnuplot hidden_dh_grid.gp
set encoding utf8
# pngcairo draws antialiased text; plain png (libgd) is the fallback without cairo.
if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {
  set terminal pngcairo size 1188,600 enhanced font 'Sans,11' linewidth 1.2
} else {
  set terminal png size 1188,600 enhanced
}
set output 'hidden_dh_grid.png'
set datafile separator comma
set grid lc rgb '#d9d9d9' lw 1
set border lw 1
set key box opaque reverse Left samplen 2.5 spacing 1.1
# Each line below is one block of hidden_dh_grid.csv's rows (counted from 0 after the header), plotted with `every ::first::last`.
set multiplot title 'Angle between consecutive residual updates per input, across ρ and depth'."\n".'{/*0.8 θ(Δh_l, Δh_{l+1})  (radians, log scale; a shared range per row) against the layer index l,  Δh_l = h_l − h_{l−1}}'."\n".'{/*0.8 grey: the first 20 probe inputs;  bold: the mean over all 2048;  teacher replicate 0}' font ',13'
unset key
set logscale y
set title 'student ℓ = 6'
set lmargin at screen 0.0943
set rmargin at screen 0.2626
set tmargin at screen 0.8133
set bmargin at screen 0.5058
set ylabel 'ρ = 0, T = 1'."\n".'θ(Δh_l, Δh_{l+1})'
set format y '%g'
unset xlabel
set yrange [0.8566554586469565:2.2726704742401256]
set ytics (1, 1.5, 2)
set mytics default
set xrange [0.5:5.5]
set xtics 1
set format x '%g'
plot 'hidden_dh_grid.csv' skip 1 every ::0::4 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::5::9 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::10::14 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::15::19 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::20::24 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::25::29 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::30::34 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::35::39 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::40::44 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::45::49 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::50::54 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::55::59 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::60::64 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::65::69 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::70::74 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::75::79 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::80::84 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::85::89 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::90::94 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::95::99 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::100::104 using 9:10 with linespoints lw 2.5 pt 7 ps 0.55 lc rgb '#D55E00' notitle
set title 'student ℓ = 12'
set lmargin at screen 0.2744
set rmargin at screen 0.4428
set tmargin at screen 0.8133
set bmargin at screen 0.5058
unset ylabel
set format y ''
unset xlabel
set yrange [0.8566554586469565:2.2726704742401256]
set ytics (1, 1.5, 2)
set mytics default
set xrange [0.5:11.5]
set xtics 2
set format x '%g'
plot 'hidden_dh_grid.csv' skip 1 every ::105::115 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::116::126 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::127::137 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::138::148 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::149::159 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::160::170 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::171::181 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::182::192 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::193::203 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::204::214 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::215::225 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::226::236 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::237::247 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::248::258 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::259::269 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::270::280 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::281::291 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::292::302 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::303::313 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::314::324 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::325::335 using 9:10 with linespoints lw 2.5 pt 7 ps 0.55 lc rgb '#D55E00' notitle
set title 'student ℓ = 24'
set lmargin at screen 0.4545
set rmargin at screen 0.6229
set tmargin at screen 0.8133
set bmargin at screen 0.5058
unset ylabel
set format y ''
unset xlabel
set yrange [0.8566554586469565:2.2726704742401256]
set ytics (1, 1.5, 2)
set mytics default
set xrange [0.5:23.5]
set xtics 5
set format x '%g'
plot 'hidden_dh_grid.csv' skip 1 every ::336::358 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::359::381 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::382::404 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::405::427 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::428::450 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::451::473 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::474::496 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::497::519 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::520::542 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::543::565 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::566::588 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::589::611 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::612::634 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::635::657 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::658::680 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::681::703 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::704::726 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::727::749 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::750::772 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::773::795 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::796::818 using 9:10 with linespoints lw 2.5 pt 7 ps 0.55 lc rgb '#D55E00' notitle
set title 'student ℓ = 48'
set lmargin at screen 0.6347
set rmargin at screen 0.8030
set tmargin at screen 0.8133
set bmargin at screen 0.5058
unset ylabel
set format y ''
unset xlabel
set yrange [0.8566554586469565:2.2726704742401256]
set ytics (1, 1.5, 2)
set mytics default
set xrange [0.5:47.5]
set xtics 10
set format x '%g'
plot 'hidden_dh_grid.csv' skip 1 every ::819::865 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::866::912 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::913::959 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::960::1006 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1007::1053 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1054::1100 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1101::1147 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1148::1194 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1195::1241 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1242::1288 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1289::1335 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1336::1382 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1383::1429 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1430::1476 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1477::1523 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1524::1570 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1571::1617 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1618::1664 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1665::1711 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1712::1758 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1759::1805 using 9:10 with linespoints lw 2.5 pt 7 ps 0.55 lc rgb '#D55E00' notitle
set title 'teacher ℓ* = 128'
set lmargin at screen 0.8148
set rmargin at screen 0.9832
set tmargin at screen 0.8133
set bmargin at screen 0.5058
unset ylabel
set format y ''
unset xlabel
set yrange [0.8566554586469565:2.2726704742401256]
set ytics (1, 1.5, 2)
set mytics default
set xrange [0.5:127.5]
set xtics 20
set format x '%g'
plot 'hidden_dh_grid.csv' skip 1 every ::1806::1932 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1933::2059 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::2060::2186 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::2187::2313 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::2314::2440 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::2441::2567 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::2568::2694 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::2695::2821 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::2822::2948 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::2949::3075 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::3076::3202 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::3203::3329 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::3330::3456 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::3457::3583 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::3584::3710 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::3711::3837 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::3838::3964 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::3965::4091 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::4092::4218 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::4219::4345 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::4346::4472 using 9:10 with linespoints lw 2.5 pt 7 ps 0.55 lc rgb '#D55E00' notitle
set title ''
set lmargin at screen 0.0943
set rmargin at screen 0.2626
set tmargin at screen 0.4458
set bmargin at screen 0.1383
set ylabel 'ρ = 1, T = 1'."\n".'θ(Δh_l, Δh_{l+1})'
set format y '%g'
set xlabel 'layer l'
set yrange [0.0018012355410181255:3.029536327148054]
set ytics (0.01, 0.1, 1)
set mytics default
set xrange [0.5:5.5]
set xtics 1
set format x '%g'
plot 'hidden_dh_grid.csv' skip 1 every ::4473::4477 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::4478::4482 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::4483::4487 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::4488::4492 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::4493::4497 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::4498::4502 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::4503::4507 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::4508::4512 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::4513::4517 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::4518::4522 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::4523::4527 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::4528::4532 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::4533::4537 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::4538::4542 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::4543::4547 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::4548::4552 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::4553::4557 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::4558::4562 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::4563::4567 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::4568::4572 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::4573::4577 using 9:10 with linespoints lw 2.5 pt 7 ps 0.55 lc rgb '#D55E00' notitle
set title ''
set lmargin at screen 0.2744
set rmargin at screen 0.4428
set tmargin at screen 0.4458
set bmargin at screen 0.1383
unset ylabel
set format y ''
set xlabel 'layer l'
set yrange [0.0018012355410181255:3.029536327148054]
set ytics (0.01, 0.1, 1)
set mytics default
set xrange [0.5:11.5]
set xtics 2
set format x '%g'
plot 'hidden_dh_grid.csv' skip 1 every ::4578::4588 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::4589::4599 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::4600::4610 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::4611::4621 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::4622::4632 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::4633::4643 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::4644::4654 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::4655::4665 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::4666::4676 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::4677::4687 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::4688::4698 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::4699::4709 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::4710::4720 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::4721::4731 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::4732::4742 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::4743::4753 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::4754::4764 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::4765::4775 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::4776::4786 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::4787::4797 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::4798::4808 using 9:10 with linespoints lw 2.5 pt 7 ps 0.55 lc rgb '#D55E00' notitle
set title ''
set lmargin at screen 0.4545
set rmargin at screen 0.6229
set tmargin at screen 0.4458
set bmargin at screen 0.1383
unset ylabel
set format y ''
set xlabel 'layer l'
set yrange [0.0018012355410181255:3.029536327148054]
set ytics (0.01, 0.1, 1)
set mytics default
set xrange [0.5:23.5]
set xtics 5
set format x '%g'
plot 'hidden_dh_grid.csv' skip 1 every ::4809::4831 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::4832::4854 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::4855::4877 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::4878::4900 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::4901::4923 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::4924::4946 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::4947::4969 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::4970::4992 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::4993::5015 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::5016::5038 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::5039::5061 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::5062::5084 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::5085::5107 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::5108::5130 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::5131::5153 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::5154::5176 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::5177::5199 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::5200::5222 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::5223::5245 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::5246::5268 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::5269::5291 using 9:10 with linespoints lw 2.5 pt 7 ps 0.55 lc rgb '#D55E00' notitle
set title ''
set lmargin at screen 0.6347
set rmargin at screen 0.8030
set tmargin at screen 0.4458
set bmargin at screen 0.1383
unset ylabel
set format y ''
set xlabel 'layer l'
set yrange [0.0018012355410181255:3.029536327148054]
set ytics (0.01, 0.1, 1)
set mytics default
set xrange [0.5:47.5]
set xtics 10
set format x '%g'
plot 'hidden_dh_grid.csv' skip 1 every ::5292::5338 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::5339::5385 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::5386::5432 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::5433::5479 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::5480::5526 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::5527::5573 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::5574::5620 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::5621::5667 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::5668::5714 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::5715::5761 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::5762::5808 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::5809::5855 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::5856::5902 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::5903::5949 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::5950::5996 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::5997::6043 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::6044::6090 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::6091::6137 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::6138::6184 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::6185::6231 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::6232::6278 using 9:10 with linespoints lw 2.5 pt 7 ps 0.55 lc rgb '#D55E00' notitle
set title ''
set lmargin at screen 0.8148
set rmargin at screen 0.9832
set tmargin at screen 0.4458
set bmargin at screen 0.1383
unset ylabel
set format y ''
set xlabel 'layer l'
set yrange [0.0018012355410181255:3.029536327148054]
set ytics (0.01, 0.1, 1)
set mytics default
set xrange [0.5:127.5]
set xtics 20
set format x '%g'
plot 'hidden_dh_grid.csv' skip 1 every ::6279::6405 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::6406::6532 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::6533::6659 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::6660::6786 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::6787::6913 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::6914::7040 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::7041::7167 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::7168::7294 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::7295::7421 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::7422::7548 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::7549::7675 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::7676::7802 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::7803::7929 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::7930::8056 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::8057::8183 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::8184::8310 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::8311::8437 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::8438::8564 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::8565::8691 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::8692::8818 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::8819::8945 using 9:10 with linespoints lw 2.5 pt 7 ps 0.55 lc rgb '#D55E00' notitle
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
