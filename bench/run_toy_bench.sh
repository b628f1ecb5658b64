#!/usr/bin/env bash
# Toy training throughput: one exp9 work unit (one teacher, 6 depths x 16 temperatures = 96
# students sharing its forward) and one unit of the laptop tier (jobs/paper/laptop.yaml: one
# temperature, 4 depths) against the original's per-student loop (bench/reference_toy.py: one
# PyTorch process per student, teacher forward every step), all on one core, in the same run.
# Usage: bench/run_toy_bench.sh [BUILD_DIR] [STEPS]   (prints a JSON summary line last)
#
# Pinned: one thread everywhere (OMP_NUM_THREADS=1, --threads 1), and OpenBLAS's core type
# (OPENBLAS_CORETYPE) set to the kernels this CPU supports for both sides, since OpenBLAS falls
# back to generic kernels on CPU models it does not know (scripts/blas_core.sh). The last part
# measures what that fallback costs here: the reference and the BLAS matmuls on the generic core.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
steps=${2:-20}
py=$(grep -E '^DEPTHSCALE_PYTHON:' "$build/CMakeCache.txt" | cut -d= -f2)
py=${py:-/usr/bin/python3}
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
read -r wanted detected < <(scripts/blas_core.sh | sed 's/wanted=//; s/detected=/ /')
if [ -n "$wanted" ]; then export OPENBLAS_CORETYPE=$wanted; fi
echo "pinned: 1 thread; OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset} (OpenBLAS alone picks: ${detected:-not OpenBLAS}); $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')" >&2

depths=6,12,16,24,32,48
echo "reference: per-student PyTorch loop, depths $depths, $steps steps each, 1 thread" >&2
ref=$("$py" bench/reference_toy.py --depths $depths --steps "$steps" --warmup 3 --threads 1 --json | tail -1)
echo "depthscale: one exp9 work unit (96 students), $steps steps, 1 thread, fused engine" >&2
ours=$("$build/bench/toy_bench" jobs/exp9.yaml --steps "$steps" --warmup 2 --threads 1 | tail -1)
echo "depthscale: the same unit with the fused engine's matmuls on the BLAS instead of the native tiles" >&2
on_blas=$("$build/bench/toy_bench" jobs/exp9.yaml --steps "$steps" --warmup 2 --threads 1 --kernel blas | tail -1)
echo "depthscale: one laptop-tier unit (4 students, T = 1), fused engine" >&2
laptop=$("$build/bench/toy_bench" jobs/paper/laptop.yaml --steps "$steps" --warmup 2 --threads 1 | tail -1)
echo "depthscale: the exp9 unit with the autograd engine" >&2
auto=$("$build/bench/toy_bench" jobs/exp9.yaml --steps "$steps" --warmup 2 --threads 1 --set run.engine=autograd | tail -1)
echo "depthscale: the exp9 unit with the batched engine (the GPU path: one bmm program per depth)" >&2
batched=$("$build/bench/toy_bench" jobs/exp9.yaml --steps "$steps" --warmup 2 --threads 1 --set run.engine=batched | tail -1)
echo "the fused engine's matmul shapes, native kernel against the BLAS" >&2
"$build/bench/matmul_bench" >&2
blas_pinned=$("$build/bench/matmul_bench" | "$py" -c 'import sys,json; r=[json.loads(l) for l in sys.stdin]; print(sum(x["blas_gflops"] for x in r)/len(r))')
generic=Prescott
echo "what the generic OpenBLAS core costs here (OPENBLAS_CORETYPE=$generic): reference at depths 6 and 24, BLAS matmuls" >&2
ref_generic=$(OPENBLAS_CORETYPE=$generic "$py" bench/reference_toy.py --depths 6,24 --steps "$steps" --warmup 3 --threads 1 --json | tail -1)
blas_generic=$(OPENBLAS_CORETYPE=$generic "$build/bench/matmul_bench" | "$py" -c 'import sys,json; r=[json.loads(l) for l in sys.stdin]; print(sum(x["blas_gflops"] for x in r)/len(r))')

"$py" - "$ref" "$ours" "$auto" "$batched" "$laptop" "$ref_generic" "$blas_pinned" "$blas_generic" "$on_blas" <<'PY'
import json, sys
ref, ours, auto, batched, laptop, ref_gen = (json.loads(a) for a in sys.argv[1:7])
blas_pinned, blas_generic = float(sys.argv[7]), float(sys.argv[8])
on_blas = json.loads(sys.argv[9])
ms = {d["depth"]: d["ms_per_step"] for d in ref["per_depth"]}
r = ref["mix_student_steps_per_second_per_core"]
# The laptop tier's students are depths 6, 12, 24, 48: the reference's mix over those.
laptop_depths = [6, 12, 24, 48]
r_laptop = 1000.0 / (sum(ms[d] for d in laptop_depths) / len(laptop_depths))
o = ours["student_steps_per_s_per_core"]
print("BLAS core: reference %s, depthscale %s" % (ref["blas_core"] or "-", ours["blas_core"] or "-"))
print("reference (per-student loop):   %.2f student-steps/s per core (mean %.1f ms/step; teacher %.0f%%)"
      % (r, ref["mean_ms_per_step"], 100 * ref["mean_teacher_fraction"]))
for d in ref["per_depth"]:
    print("    depth %2d: %.1f ms/step" % (d["depth"], d["ms_per_step"]))
print("depthscale (exp9 work unit):    %.2f student-steps/s per core (%d students, %.0f ms per unit step, peak RSS %.0f MB)"
      % (o, ours["students"], ours["ms_per_unit_step"], ours["peak_rss_mb"]))
a = auto["student_steps_per_s_per_core"]
print("depthscale, autograd engine:    %.2f student-steps/s per core (%.0f ms per unit step)"
      % (a, auto["ms_per_unit_step"]))
ob = on_blas["student_steps_per_s_per_core"]
print("depthscale, fused on the BLAS:  %.2f student-steps/s per core (%.0f ms per unit step, %.1f GFLOP/s); "
      "mean last train loss %.7f against %.7f on the %s tiles (relative difference %.1e)"
      % (ob, on_blas["ms_per_unit_step"], on_blas["unit_gflops"], on_blas["mean_last_train_loss"],
         ours["mean_last_train_loss"], ours["kernel"],
         abs(on_blas["mean_last_train_loss"] / ours["mean_last_train_loss"] - 1)))
b = batched["student_steps_per_s_per_core"]
print("depthscale, batched engine:     %.2f student-steps/s per core (%.0f ms per unit step, peak RSS %.0f MB)"
      % (b, batched["ms_per_unit_step"], batched["peak_rss_mb"]))
lp = laptop["student_steps_per_s_per_core"]
print("laptop-tier unit (4 students):  %.2f student-steps/s per core against the reference's %.2f at depths 6/12/24/48: %.2fx"
      % (lp, r_laptop, lp / r_laptop))
print("FP32 FMA peak of this core (%s): %.1f GFLOP/s" % (ours["isa"], ours["fma_peak_gflops"]))
def breakdown(name, u):
    print("  %-10s unit %.1f GFLOP/s = %.0f%% of peak; student matmuls %.1f GFLOP/s = %.0f%% of peak;"
          " time: teacher %.0f%%, student matmuls %.0f%%, loss %.0f%%, Adam %.0f%%, elementwise+rest %.0f%%"
          % (name, u["unit_gflops"], 100 * u["unit_fraction_of_peak"], u["student_matmul_gflops"],
             100 * u["student_matmul_fraction_of_peak"], 100 * u["share_teacher"],
             100 * u["share_student_matmul"], 100 * u["share_loss"], 100 * u["share_adam"],
             100 * u["share_rest"]))
breakdown("exp9", ours)
breakdown("laptop", laptop)
print("projected exp9 grid (288 students x 40k steps) on one core, fused: %.1f core-hours"
      % ours["projected_grid_hours"])
print("speed-up per core: fused %.2fx, autograd %.2fx, batched %.2fx (against the reference)"
      % (o / r, a / r, b / r))
gen_ms = {d["depth"]: d["ms_per_step"] for d in ref_gen["per_depth"]}
print("generic OpenBLAS core (%s) against %s: reference %.2fx slower at depth 6, %.2fx at depth 24;"
      " BLAS on the fused shapes %.1f against %.1f GFLOP/s (%.2fx)"
      % (ref_gen["blas_core"], ref["blas_core"], gen_ms[6] / ms[6], gen_ms[24] / ms[24],
         blas_generic, blas_pinned, blas_pinned / blas_generic))
print(json.dumps({"reference_per_core": r, "fused_per_core": o, "autograd_per_core": a,
                  "batched_per_core": b, "fused_on_blas_per_core": ob,
                  "fused_on_blas_gflops": on_blas["unit_gflops"],
                  "kernel_loss_relative_difference":
                      abs(on_blas["mean_last_train_loss"] / ours["mean_last_train_loss"] - 1), "projected_grid_core_hours": ours["projected_grid_hours"],
                  "speedup_fused": o / r, "speedup_autograd": a / r,
                  "laptop_per_core": lp, "laptop_reference_per_core": r_laptop,
                  "speedup_laptop": lp / r_laptop,
                  "peak_rss_mb": ours["peak_rss_mb"], "fma_peak_gflops": ours["fma_peak_gflops"],
                  "student_matmul_fraction_of_peak": ours["student_matmul_fraction_of_peak"],
                  "unit_gflops": ours["unit_gflops"],
                  "unit_fraction_of_peak": ours["unit_fraction_of_peak"],
                  "laptop_unit_fraction_of_peak": laptop["unit_fraction_of_peak"],
                  "shares": {k: ours[k] for k in ours if k.startswith("share_")},
                  "laptop_shares": {k: laptop[k] for k in laptop if k.startswith("share_")},
                  "blas_core": ref["blas_core"], "generic_core_reference_slowdown":
                      {d: gen_ms[d] / ms[d] for d in gen_ms},
                  "generic_core_blas_gflops": blas_generic, "pinned_core_blas_gflops": blas_pinned,
                  "reference_ms_per_step": ms,
                  "reference_teacher_fraction": ref["mean_teacher_fraction"]}))
PY
