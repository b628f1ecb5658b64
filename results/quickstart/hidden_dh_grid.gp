# Written by `depthscale plot`; the numbers are in hidden_dh_grid.csv beside this file.
# Edit and rerun in this folder with: gnuplot hidden_dh_grid.gp
set encoding utf8
# pngcairo draws antialiased text; plain png (libgd) is the fallback without cairo.
if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {
  set terminal pngcairo size 1402,600 enhanced font 'Sans,11' linewidth 1.2
} else {
  set terminal png size 1402,600 enhanced
}
set output 'hidden_dh_grid.png'
set datafile separator comma
set grid lc rgb '#d9d9d9' lw 1
set border lw 1
set key box opaque reverse Left samplen 2.5 spacing 1.1
# Each line below is one block of hidden_dh_grid.csv's rows (counted from 0 after the header), plotted with `every ::first::last`.
set multiplot title 'Angle between consecutive residual updates per input, across ρ and depth'."\n".'{/*0.8 θ(Δh_l, Δh_{l+1})  (radians, log scale; a shared range per row) against the layer index l,  Δh_l = h_l − h_{l−1}}'."\n".'{/*0.8 grey: the first 20 probe inputs;  bold: the mean over all 512;  teacher replicate 0}' font ',13'
unset key
set logscale y
set title 'student ℓ = 2'
set lmargin at screen 0.0799
set rmargin at screen 0.2225
set tmargin at screen 0.8133
set bmargin at screen 0.5058
set ylabel 'ρ = 0, T = 1'."\n".'θ(Δh_l, Δh_{l+1})'
set format y '%g'
unset xlabel
set yrange [0.8598545316234855:2.258079143921822]
set ytics (1, 1.5, 2)
set mytics default
set xrange [0.5:1.5]
set xtics 1
set format x '%g'
plot 'hidden_dh_grid.csv' skip 1 every ::0::0 using 9:10 with points pt 7 ps 0.5 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1::1 using 9:10 with points pt 7 ps 0.5 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::2::2 using 9:10 with points pt 7 ps 0.5 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::3::3 using 9:10 with points pt 7 ps 0.5 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::4::4 using 9:10 with points pt 7 ps 0.5 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::5::5 using 9:10 with points pt 7 ps 0.5 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::6::6 using 9:10 with points pt 7 ps 0.5 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::7::7 using 9:10 with points pt 7 ps 0.5 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::8::8 using 9:10 with points pt 7 ps 0.5 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::9::9 using 9:10 with points pt 7 ps 0.5 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::10::10 using 9:10 with points pt 7 ps 0.5 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::11::11 using 9:10 with points pt 7 ps 0.5 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::12::12 using 9:10 with points pt 7 ps 0.5 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::13::13 using 9:10 with points pt 7 ps 0.5 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::14::14 using 9:10 with points pt 7 ps 0.5 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::15::15 using 9:10 with points pt 7 ps 0.5 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::16::16 using 9:10 with points pt 7 ps 0.5 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::17::17 using 9:10 with points pt 7 ps 0.5 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::18::18 using 9:10 with points pt 7 ps 0.5 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::19::19 using 9:10 with points pt 7 ps 0.5 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::20::20 using 9:10 with linespoints lw 2.5 pt 7 ps 0.55 lc rgb '#D55E00' notitle
set title 'student ℓ = 3'
set lmargin at screen 0.2325
set rmargin at screen 0.3752
set tmargin at screen 0.8133
set bmargin at screen 0.5058
unset ylabel
set format y ''
unset xlabel
set yrange [0.8598545316234855:2.258079143921822]
set ytics (1, 1.5, 2)
set mytics default
set xrange [0.5:2.5]
set xtics 1
set format x '%g'
plot 'hidden_dh_grid.csv' skip 1 every ::21::22 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::23::24 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::25::26 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::27::28 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::29::30 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::31::32 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::33::34 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::35::36 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::37::38 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::39::40 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::41::42 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::43::44 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::45::46 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::47::48 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::49::50 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::51::52 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::53::54 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::55::56 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::57::58 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::59::60 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::61::62 using 9:10 with linespoints lw 2.5 pt 7 ps 0.55 lc rgb '#D55E00' notitle
set title 'student ℓ = 4'
set lmargin at screen 0.3852
set rmargin at screen 0.5278
set tmargin at screen 0.8133
set bmargin at screen 0.5058
unset ylabel
set format y ''
unset xlabel
set yrange [0.8598545316234855:2.258079143921822]
set ytics (1, 1.5, 2)
set mytics default
set xrange [0.5:3.5]
set xtics 1
set format x '%g'
plot 'hidden_dh_grid.csv' skip 1 every ::63::65 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::66::68 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::69::71 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::72::74 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::75::77 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::78::80 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::81::83 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::84::86 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::87::89 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::90::92 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::93::95 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::96::98 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::99::101 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::102::104 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::105::107 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::108::110 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::111::113 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::114::116 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::117::119 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::120::122 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::123::125 using 9:10 with linespoints lw 2.5 pt 7 ps 0.55 lc rgb '#D55E00' notitle
set title 'student ℓ = 6'
set lmargin at screen 0.5378
set rmargin at screen 0.6805
set tmargin at screen 0.8133
set bmargin at screen 0.5058
unset ylabel
set format y ''
unset xlabel
set yrange [0.8598545316234855:2.258079143921822]
set ytics (1, 1.5, 2)
set mytics default
set xrange [0.5:5.5]
set xtics 1
set format x '%g'
plot 'hidden_dh_grid.csv' skip 1 every ::126::130 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::131::135 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::136::140 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::141::145 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::146::150 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::151::155 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::156::160 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::161::165 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::166::170 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::171::175 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::176::180 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::181::185 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::186::190 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::191::195 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::196::200 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::201::205 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::206::210 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::211::215 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::216::220 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::221::225 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::226::230 using 9:10 with linespoints lw 2.5 pt 7 ps 0.55 lc rgb '#D55E00' notitle
set title 'student ℓ = 8'
set lmargin at screen 0.6904
set rmargin at screen 0.8331
set tmargin at screen 0.8133
set bmargin at screen 0.5058
unset ylabel
set format y ''
unset xlabel
set yrange [0.8598545316234855:2.258079143921822]
set ytics (1, 1.5, 2)
set mytics default
set xrange [0.5:7.5]
set xtics 1
set format x '%g'
plot 'hidden_dh_grid.csv' skip 1 every ::231::237 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::238::244 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::245::251 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::252::258 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::259::265 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::266::272 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::273::279 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::280::286 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::287::293 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::294::300 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::301::307 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::308::314 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::315::321 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::322::328 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::329::335 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::336::342 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::343::349 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::350::356 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::357::363 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::364::370 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::371::377 using 9:10 with linespoints lw 2.5 pt 7 ps 0.55 lc rgb '#D55E00' notitle
set title 'teacher ℓ* = 32'
set lmargin at screen 0.8431
set rmargin at screen 0.9857
set tmargin at screen 0.8133
set bmargin at screen 0.5058
unset ylabel
set format y ''
unset xlabel
set yrange [0.8598545316234855:2.258079143921822]
set ytics (1, 1.5, 2)
set mytics default
set xrange [0.5:31.5]
set xtics 5
set format x '%g'
plot 'hidden_dh_grid.csv' skip 1 every ::378::408 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::409::439 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::440::470 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::471::501 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::502::532 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::533::563 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::564::594 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::595::625 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::626::656 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::657::687 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::688::718 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::719::749 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::750::780 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::781::811 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::812::842 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::843::873 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::874::904 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::905::935 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::936::966 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::967::997 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::998::1028 using 9:10 with linespoints lw 2.5 pt 7 ps 0.55 lc rgb '#D55E00' notitle
set title ''
set lmargin at screen 0.0799
set rmargin at screen 0.2225
set tmargin at screen 0.4458
set bmargin at screen 0.1383
set ylabel 'ρ = 1, T = 1'."\n".'θ(Δh_l, Δh_{l+1})'
set format y '%g'
set xlabel 'layer l'
set yrange [0.010883808013474616:2.247313635693101]
set ytics (0.02, 0.05, 0.1, 0.2, 0.5, 1, 2)
set mytics default
set xrange [0.5:1.5]
set xtics 1
set format x '%g'
plot 'hidden_dh_grid.csv' skip 1 every ::1029::1029 using 9:10 with points pt 7 ps 0.5 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1030::1030 using 9:10 with points pt 7 ps 0.5 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1031::1031 using 9:10 with points pt 7 ps 0.5 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1032::1032 using 9:10 with points pt 7 ps 0.5 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1033::1033 using 9:10 with points pt 7 ps 0.5 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1034::1034 using 9:10 with points pt 7 ps 0.5 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1035::1035 using 9:10 with points pt 7 ps 0.5 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1036::1036 using 9:10 with points pt 7 ps 0.5 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1037::1037 using 9:10 with points pt 7 ps 0.5 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1038::1038 using 9:10 with points pt 7 ps 0.5 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1039::1039 using 9:10 with points pt 7 ps 0.5 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1040::1040 using 9:10 with points pt 7 ps 0.5 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1041::1041 using 9:10 with points pt 7 ps 0.5 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1042::1042 using 9:10 with points pt 7 ps 0.5 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1043::1043 using 9:10 with points pt 7 ps 0.5 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1044::1044 using 9:10 with points pt 7 ps 0.5 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1045::1045 using 9:10 with points pt 7 ps 0.5 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1046::1046 using 9:10 with points pt 7 ps 0.5 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1047::1047 using 9:10 with points pt 7 ps 0.5 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1048::1048 using 9:10 with points pt 7 ps 0.5 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1049::1049 using 9:10 with linespoints lw 2.5 pt 7 ps 0.55 lc rgb '#D55E00' notitle
set title ''
set lmargin at screen 0.2325
set rmargin at screen 0.3752
set tmargin at screen 0.4458
set bmargin at screen 0.1383
unset ylabel
set format y ''
set xlabel 'layer l'
set yrange [0.010883808013474616:2.247313635693101]
set ytics (0.02, 0.05, 0.1, 0.2, 0.5, 1, 2)
set mytics default
set xrange [0.5:2.5]
set xtics 1
set format x '%g'
plot 'hidden_dh_grid.csv' skip 1 every ::1050::1051 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1052::1053 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1054::1055 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1056::1057 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1058::1059 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1060::1061 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1062::1063 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1064::1065 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1066::1067 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1068::1069 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1070::1071 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1072::1073 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1074::1075 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1076::1077 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1078::1079 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1080::1081 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1082::1083 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1084::1085 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1086::1087 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1088::1089 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1090::1091 using 9:10 with linespoints lw 2.5 pt 7 ps 0.55 lc rgb '#D55E00' notitle
set title ''
set lmargin at screen 0.3852
set rmargin at screen 0.5278
set tmargin at screen 0.4458
set bmargin at screen 0.1383
unset ylabel
set format y ''
set xlabel 'layer l'
set yrange [0.010883808013474616:2.247313635693101]
set ytics (0.02, 0.05, 0.1, 0.2, 0.5, 1, 2)
set mytics default
set xrange [0.5:3.5]
set xtics 1
set format x '%g'
plot 'hidden_dh_grid.csv' skip 1 every ::1092::1094 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1095::1097 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1098::1100 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1101::1103 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1104::1106 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1107::1109 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1110::1112 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1113::1115 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1116::1118 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1119::1121 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1122::1124 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1125::1127 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1128::1130 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1131::1133 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1134::1136 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1137::1139 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1140::1142 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1143::1145 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1146::1148 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1149::1151 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1152::1154 using 9:10 with linespoints lw 2.5 pt 7 ps 0.55 lc rgb '#D55E00' notitle
set title ''
set lmargin at screen 0.5378
set rmargin at screen 0.6805
set tmargin at screen 0.4458
set bmargin at screen 0.1383
unset ylabel
set format y ''
set xlabel 'layer l'
set yrange [0.010883808013474616:2.247313635693101]
set ytics (0.02, 0.05, 0.1, 0.2, 0.5, 1, 2)
set mytics default
set xrange [0.5:5.5]
set xtics 1
set format x '%g'
plot 'hidden_dh_grid.csv' skip 1 every ::1155::1159 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1160::1164 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1165::1169 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1170::1174 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1175::1179 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1180::1184 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1185::1189 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1190::1194 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1195::1199 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1200::1204 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1205::1209 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1210::1214 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1215::1219 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1220::1224 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1225::1229 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1230::1234 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1235::1239 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1240::1244 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1245::1249 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1250::1254 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1255::1259 using 9:10 with linespoints lw 2.5 pt 7 ps 0.55 lc rgb '#D55E00' notitle
set title ''
set lmargin at screen 0.6904
set rmargin at screen 0.8331
set tmargin at screen 0.4458
set bmargin at screen 0.1383
unset ylabel
set format y ''
set xlabel 'layer l'
set yrange [0.010883808013474616:2.247313635693101]
set ytics (0.02, 0.05, 0.1, 0.2, 0.5, 1, 2)
set mytics default
set xrange [0.5:7.5]
set xtics 1
set format x '%g'
plot 'hidden_dh_grid.csv' skip 1 every ::1260::1266 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1267::1273 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1274::1280 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1281::1287 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1288::1294 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1295::1301 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1302::1308 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1309::1315 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1316::1322 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1323::1329 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1330::1336 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1337::1343 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1344::1350 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1351::1357 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1358::1364 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1365::1371 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1372::1378 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1379::1385 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1386::1392 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1393::1399 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1400::1406 using 9:10 with linespoints lw 2.5 pt 7 ps 0.55 lc rgb '#D55E00' notitle
set title ''
set lmargin at screen 0.8431
set rmargin at screen 0.9857
set tmargin at screen 0.4458
set bmargin at screen 0.1383
unset ylabel
set format y ''
set xlabel 'layer l'
set yrange [0.010883808013474616:2.247313635693101]
set ytics (0.02, 0.05, 0.1, 0.2, 0.5, 1, 2)
set mytics default
set xrange [0.5:31.5]
set xtics 5
set format x '%g'
plot 'hidden_dh_grid.csv' skip 1 every ::1407::1437 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1438::1468 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1469::1499 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1500::1530 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1531::1561 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1562::1592 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1593::1623 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1624::1654 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1655::1685 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1686::1716 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1717::1747 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1748::1778 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1779::1809 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1810::1840 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1841::1871 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1872::1902 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1903::1933 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1934::1964 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1965::1995 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::1996::2026 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_dh_grid.csv' skip 1 every ::2027::2057 using 9:10 with linespoints lw 2.5 pt 7 ps 0.55 lc rgb '#D55E00' notitle
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
