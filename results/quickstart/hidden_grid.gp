# Written by `depthscale plot`; the numbers are in hidden_grid.csv beside this file.
# Edit and rerun in this folder with: gnuplot hidden_grid.gp
set encoding utf8
# pngcairo draws antialiased text; plain png (libgd) is the fallback without cairo.
if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {
  set terminal pngcairo size 1616,600 enhanced font 'Sans,11' linewidth 1.2
} else {
  set terminal png size 1616,600 enhanced
}
set output 'hidden_grid.png'
set datafile separator comma
set grid lc rgb '#d9d9d9' lw 1
set border lw 1
set key box opaque reverse Left samplen 2.5 spacing 1.1
# Each line below is one block of hidden_grid.csv's rows (counted from 0 after the header), plotted with `every ::first::last`.
set multiplot title 'Angle between consecutive hidden states per input, across ρ and depth'."\n".'{/*0.8 θ(h_l, h_{l+1})  (radians, log scale; a shared range per row) against the layer index l}'."\n".'{/*0.8 grey: the first 20 probe inputs;  bold: the mean over all 512;  teacher replicate 0}' font ',13'
unset key
set logscale y
set title 'student ℓ = 1'
set lmargin at screen 0.0693
set rmargin at screen 0.1931
set tmargin at screen 0.8133
set bmargin at screen 0.5058
set ylabel 'ρ = 0, T = 1'."\n".'θ(h_l, h_{l+1})'
set format y '%g'
unset xlabel
set yrange [0.017454529739529157:0.2955048487754662]
set ytics (0.02, 0.05, 0.1, 0.2)
set mytics default
set xrange [-0.5:0.5]
set xtics 1
set format x '%g'
plot 'hidden_grid.csv' skip 1 every ::0::0 using 9:10 with points pt 7 ps 0.5 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1::1 using 9:10 with points pt 7 ps 0.5 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::2::2 using 9:10 with points pt 7 ps 0.5 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::3::3 using 9:10 with points pt 7 ps 0.5 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::4::4 using 9:10 with points pt 7 ps 0.5 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::5::5 using 9:10 with points pt 7 ps 0.5 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::6::6 using 9:10 with points pt 7 ps 0.5 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::7::7 using 9:10 with points pt 7 ps 0.5 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::8::8 using 9:10 with points pt 7 ps 0.5 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::9::9 using 9:10 with points pt 7 ps 0.5 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::10::10 using 9:10 with points pt 7 ps 0.5 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::11::11 using 9:10 with points pt 7 ps 0.5 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::12::12 using 9:10 with points pt 7 ps 0.5 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::13::13 using 9:10 with points pt 7 ps 0.5 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::14::14 using 9:10 with points pt 7 ps 0.5 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::15::15 using 9:10 with points pt 7 ps 0.5 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::16::16 using 9:10 with points pt 7 ps 0.5 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::17::17 using 9:10 with points pt 7 ps 0.5 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::18::18 using 9:10 with points pt 7 ps 0.5 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::19::19 using 9:10 with points pt 7 ps 0.5 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::20::20 using 9:10 with linespoints lw 2.5 pt 7 ps 0.55 lc rgb '#D55E00' notitle
set title 'student ℓ = 2'
set lmargin at screen 0.2017
set rmargin at screen 0.3255
set tmargin at screen 0.8133
set bmargin at screen 0.5058
unset ylabel
set format y ''
unset xlabel
set yrange [0.017454529739529157:0.2955048487754662]
set ytics (0.02, 0.05, 0.1, 0.2)
set mytics default
set xrange [-0.5:1.5]
set xtics 1
set format x '%g'
plot 'hidden_grid.csv' skip 1 every ::21::22 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::23::24 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::25::26 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::27::28 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::29::30 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::31::32 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::33::34 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::35::36 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::37::38 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::39::40 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::41::42 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::43::44 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::45::46 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::47::48 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::49::50 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::51::52 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::53::54 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::55::56 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::57::58 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::59::60 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::61::62 using 9:10 with linespoints lw 2.5 pt 7 ps 0.55 lc rgb '#D55E00' notitle
set title 'student ℓ = 3'
set lmargin at screen 0.3342
set rmargin at screen 0.4579
set tmargin at screen 0.8133
set bmargin at screen 0.5058
unset ylabel
set format y ''
unset xlabel
set yrange [0.017454529739529157:0.2955048487754662]
set ytics (0.02, 0.05, 0.1, 0.2)
set mytics default
set xrange [-0.5:2.5]
set xtics 1
set format x '%g'
plot 'hidden_grid.csv' skip 1 every ::63::65 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::66::68 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::69::71 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::72::74 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::75::77 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::78::80 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::81::83 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::84::86 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::87::89 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::90::92 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::93::95 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::96::98 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::99::101 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::102::104 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::105::107 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::108::110 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::111::113 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::114::116 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::117::119 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::120::122 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::123::125 using 9:10 with linespoints lw 2.5 pt 7 ps 0.55 lc rgb '#D55E00' notitle
set title 'student ℓ = 4'
set lmargin at screen 0.4666
set rmargin at screen 0.5903
set tmargin at screen 0.8133
set bmargin at screen 0.5058
unset ylabel
set format y ''
unset xlabel
set yrange [0.017454529739529157:0.2955048487754662]
set ytics (0.02, 0.05, 0.1, 0.2)
set mytics default
set xrange [-0.5:3.5]
set xtics 1
set format x '%g'
plot 'hidden_grid.csv' skip 1 every ::126::129 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::130::133 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::134::137 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::138::141 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::142::145 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::146::149 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::150::153 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::154::157 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::158::161 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::162::165 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::166::169 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::170::173 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::174::177 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::178::181 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::182::185 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::186::189 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::190::193 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::194::197 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::198::201 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::202::205 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::206::209 using 9:10 with linespoints lw 2.5 pt 7 ps 0.55 lc rgb '#D55E00' notitle
set title 'student ℓ = 6'
set lmargin at screen 0.5990
set rmargin at screen 0.7228
set tmargin at screen 0.8133
set bmargin at screen 0.5058
unset ylabel
set format y ''
unset xlabel
set yrange [0.017454529739529157:0.2955048487754662]
set ytics (0.02, 0.05, 0.1, 0.2)
set mytics default
set xrange [-0.5:5.5]
set xtics 1
set format x '%g'
plot 'hidden_grid.csv' skip 1 every ::210::215 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::216::221 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::222::227 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::228::233 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::234::239 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::240::245 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::246::251 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::252::257 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::258::263 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::264::269 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::270::275 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::276::281 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::282::287 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::288::293 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::294::299 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::300::305 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::306::311 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::312::317 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::318::323 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::324::329 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::330::335 using 9:10 with linespoints lw 2.5 pt 7 ps 0.55 lc rgb '#D55E00' notitle
set title 'student ℓ = 8'
set lmargin at screen 0.7314
set rmargin at screen 0.8552
set tmargin at screen 0.8133
set bmargin at screen 0.5058
unset ylabel
set format y ''
unset xlabel
set yrange [0.017454529739529157:0.2955048487754662]
set ytics (0.02, 0.05, 0.1, 0.2)
set mytics default
set xrange [-0.5:7.5]
set xtics 1
set format x '%g'
plot 'hidden_grid.csv' skip 1 every ::336::343 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::344::351 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::352::359 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::360::367 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::368::375 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::376::383 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::384::391 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::392::399 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::400::407 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::408::415 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::416::423 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::424::431 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::432::439 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::440::447 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::448::455 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::456::463 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::464::471 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::472::479 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::480::487 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::488::495 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::496::503 using 9:10 with linespoints lw 2.5 pt 7 ps 0.55 lc rgb '#D55E00' notitle
set title 'teacher ℓ* = 32'
set lmargin at screen 0.8639
set rmargin at screen 0.9876
set tmargin at screen 0.8133
set bmargin at screen 0.5058
unset ylabel
set format y ''
unset xlabel
set yrange [0.017454529739529157:0.2955048487754662]
set ytics (0.02, 0.05, 0.1, 0.2)
set mytics default
set xrange [-0.5:31.5]
set xtics 5
set format x '%g'
plot 'hidden_grid.csv' skip 1 every ::504::535 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::536::567 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::568::599 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::600::631 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::632::663 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::664::695 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::696::727 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::728::759 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::760::791 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::792::823 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::824::855 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::856::887 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::888::919 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::920::951 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::952::983 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::984::1015 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1016::1047 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1048::1079 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1080::1111 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1112::1143 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1144::1175 using 9:10 with linespoints lw 2.5 pt 7 ps 0.55 lc rgb '#D55E00' notitle
set title ''
set lmargin at screen 0.0693
set rmargin at screen 0.1931
set tmargin at screen 0.4458
set bmargin at screen 0.1383
set ylabel 'ρ = 1, T = 1'."\n".'θ(h_l, h_{l+1})'
set format y '%g'
set xlabel 'layer l'
set yrange [0.009517209568742916:1.1133679841623545]
set ytics (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1)
set mytics default
set xrange [-0.5:0.5]
set xtics 1
set format x '%g'
plot 'hidden_grid.csv' skip 1 every ::1176::1176 using 9:10 with points pt 7 ps 0.5 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1177::1177 using 9:10 with points pt 7 ps 0.5 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1178::1178 using 9:10 with points pt 7 ps 0.5 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1179::1179 using 9:10 with points pt 7 ps 0.5 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1180::1180 using 9:10 with points pt 7 ps 0.5 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1181::1181 using 9:10 with points pt 7 ps 0.5 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1182::1182 using 9:10 with points pt 7 ps 0.5 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1183::1183 using 9:10 with points pt 7 ps 0.5 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1184::1184 using 9:10 with points pt 7 ps 0.5 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1185::1185 using 9:10 with points pt 7 ps 0.5 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1186::1186 using 9:10 with points pt 7 ps 0.5 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1187::1187 using 9:10 with points pt 7 ps 0.5 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1188::1188 using 9:10 with points pt 7 ps 0.5 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1189::1189 using 9:10 with points pt 7 ps 0.5 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1190::1190 using 9:10 with points pt 7 ps 0.5 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1191::1191 using 9:10 with points pt 7 ps 0.5 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1192::1192 using 9:10 with points pt 7 ps 0.5 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1193::1193 using 9:10 with points pt 7 ps 0.5 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1194::1194 using 9:10 with points pt 7 ps 0.5 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1195::1195 using 9:10 with points pt 7 ps 0.5 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1196::1196 using 9:10 with linespoints lw 2.5 pt 7 ps 0.55 lc rgb '#D55E00' notitle
set title ''
set lmargin at screen 0.2017
set rmargin at screen 0.3255
set tmargin at screen 0.4458
set bmargin at screen 0.1383
unset ylabel
set format y ''
set xlabel 'layer l'
set yrange [0.009517209568742916:1.1133679841623545]
set ytics (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1)
set mytics default
set xrange [-0.5:1.5]
set xtics 1
set format x '%g'
plot 'hidden_grid.csv' skip 1 every ::1197::1198 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1199::1200 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1201::1202 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1203::1204 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1205::1206 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1207::1208 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1209::1210 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1211::1212 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1213::1214 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1215::1216 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1217::1218 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1219::1220 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1221::1222 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1223::1224 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1225::1226 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1227::1228 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1229::1230 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1231::1232 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1233::1234 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1235::1236 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1237::1238 using 9:10 with linespoints lw 2.5 pt 7 ps 0.55 lc rgb '#D55E00' notitle
set title ''
set lmargin at screen 0.3342
set rmargin at screen 0.4579
set tmargin at screen 0.4458
set bmargin at screen 0.1383
unset ylabel
set format y ''
set xlabel 'layer l'
set yrange [0.009517209568742916:1.1133679841623545]
set ytics (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1)
set mytics default
set xrange [-0.5:2.5]
set xtics 1
set format x '%g'
plot 'hidden_grid.csv' skip 1 every ::1239::1241 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1242::1244 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1245::1247 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1248::1250 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1251::1253 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1254::1256 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1257::1259 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1260::1262 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1263::1265 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1266::1268 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1269::1271 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1272::1274 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1275::1277 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1278::1280 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1281::1283 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1284::1286 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1287::1289 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1290::1292 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1293::1295 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1296::1298 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1299::1301 using 9:10 with linespoints lw 2.5 pt 7 ps 0.55 lc rgb '#D55E00' notitle
set title ''
set lmargin at screen 0.4666
set rmargin at screen 0.5903
set tmargin at screen 0.4458
set bmargin at screen 0.1383
unset ylabel
set format y ''
set xlabel 'layer l'
set yrange [0.009517209568742916:1.1133679841623545]
set ytics (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1)
set mytics default
set xrange [-0.5:3.5]
set xtics 1
set format x '%g'
plot 'hidden_grid.csv' skip 1 every ::1302::1305 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1306::1309 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1310::1313 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1314::1317 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1318::1321 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1322::1325 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1326::1329 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1330::1333 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1334::1337 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1338::1341 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1342::1345 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1346::1349 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1350::1353 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1354::1357 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1358::1361 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1362::1365 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1366::1369 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1370::1373 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1374::1377 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1378::1381 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1382::1385 using 9:10 with linespoints lw 2.5 pt 7 ps 0.55 lc rgb '#D55E00' notitle
set title ''
set lmargin at screen 0.5990
set rmargin at screen 0.7228
set tmargin at screen 0.4458
set bmargin at screen 0.1383
unset ylabel
set format y ''
set xlabel 'layer l'
set yrange [0.009517209568742916:1.1133679841623545]
set ytics (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1)
set mytics default
set xrange [-0.5:5.5]
set xtics 1
set format x '%g'
plot 'hidden_grid.csv' skip 1 every ::1386::1391 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1392::1397 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1398::1403 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1404::1409 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1410::1415 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1416::1421 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1422::1427 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1428::1433 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1434::1439 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1440::1445 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1446::1451 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1452::1457 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1458::1463 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1464::1469 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1470::1475 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1476::1481 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1482::1487 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1488::1493 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1494::1499 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1500::1505 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1506::1511 using 9:10 with linespoints lw 2.5 pt 7 ps 0.55 lc rgb '#D55E00' notitle
set title ''
set lmargin at screen 0.7314
set rmargin at screen 0.8552
set tmargin at screen 0.4458
set bmargin at screen 0.1383
unset ylabel
set format y ''
set xlabel 'layer l'
set yrange [0.009517209568742916:1.1133679841623545]
set ytics (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1)
set mytics default
set xrange [-0.5:7.5]
set xtics 1
set format x '%g'
plot 'hidden_grid.csv' skip 1 every ::1512::1519 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1520::1527 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1528::1535 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1536::1543 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1544::1551 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1552::1559 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1560::1567 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1568::1575 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1576::1583 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1584::1591 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1592::1599 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1600::1607 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1608::1615 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1616::1623 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1624::1631 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1632::1639 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1640::1647 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1648::1655 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1656::1663 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1664::1671 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1672::1679 using 9:10 with linespoints lw 2.5 pt 7 ps 0.55 lc rgb '#D55E00' notitle
set title ''
set lmargin at screen 0.8639
set rmargin at screen 0.9876
set tmargin at screen 0.4458
set bmargin at screen 0.1383
unset ylabel
set format y ''
set xlabel 'layer l'
set yrange [0.009517209568742916:1.1133679841623545]
set ytics (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1)
set mytics default
set xrange [-0.5:31.5]
set xtics 5
set format x '%g'
plot 'hidden_grid.csv' skip 1 every ::1680::1711 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1712::1743 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1744::1775 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1776::1807 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1808::1839 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1840::1871 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1872::1903 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1904::1935 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1936::1967 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::1968::1999 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::2000::2031 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::2032::2063 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::2064::2095 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::2096::2127 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::2128::2159 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::2160::2191 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::2192::2223 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::2224::2255 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::2256::2287 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::2288::2319 using 9:10 with lines lw 1 lc rgb '#60505050' notitle, \
     'hidden_grid.csv' skip 1 every ::2320::2351 using 9:10 with linespoints lw 2.5 pt 7 ps 0.55 lc rgb '#D55E00' notitle
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
