#!/usr/bin/env bash
# Toy training throughput: one exp9 work unit (one teacher, 6 depths x 16 temperatures = 96
# students sharing its forward) against the original's per-student loop (bench/reference_toy.py:
# one PyTorch process per student, teacher forward every step), both on one core, in the same run.
# Usage: bench/run_toy_bench.sh [BUILD_DIR] [STEPS]   (prints a JSON summary line last)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
steps=${2:-20}
py=$(grep -E '^DEPTHSCALE_PYTHON:' "$build/CMakeCache.txt" | cut -d= -f2)
py=${py:-/usr/bin/python3}
export OMP_NUM_THREADS=1

echo "reference: per-student PyTorch loop, depths 6..48, $steps steps each, 1 thread" >&2
ref=$("$py" bench/reference_toy.py --depths 6,12,16,24,32,48 --steps "$steps" --warmup 3 --threads 1 --json | tail -1)
echo "depthscale: one exp9 work unit (96 students), $steps steps, 1 thread, fused engine" >&2
ours=$("$build/bench/toy_bench" jobs/exp9.yaml --steps "$steps" --warmup 2 --threads 1 | tail -1)
echo "depthscale: the same unit with the autograd engine" >&2
auto=$("$build/bench/toy_bench" jobs/exp9.yaml --steps "$steps" --warmup 2 --threads 1 --set run.engine=autograd | tail -1)
echo "depthscale: the same unit with the batched engine (the GPU path: one bmm program per depth)" >&2
batched=$("$build/bench/toy_bench" jobs/exp9.yaml --steps "$steps" --warmup 2 --threads 1 --set run.engine=batched | tail -1)
echo "the fused engine's matmul shapes, native kernel against the BLAS" >&2
"$build/bench/matmul_bench" >&2
"$py" - "$ref" "$ours" "$auto" "$batched" <<'PY'
import json, sys
ref, ours, auto, batched = (json.loads(a) for a in sys.argv[1:5])
r = ref["mix_student_steps_per_second_per_core"]
o = ours["student_steps_per_s_per_core"]
print("reference (per-student loop):   %.2f student-steps/s per core (mean %.1f ms/step; teacher %.0f%%)"
      % (r, ref["mean_ms_per_step"], 100 * ref["mean_teacher_fraction"]))
for d in ref["per_depth"]:
    print("    depth %2d: %.1f ms/step" % (d["depth"], d["ms_per_step"]))
print("depthscale (exp9 work unit):    %.2f student-steps/s per core (%d students, %.0f ms per unit step, peak RSS %.0f MB)"
      % (o, ours["students"], ours["ms_per_unit_step"], ours["peak_rss_mb"]))
a = auto["student_steps_per_s_per_core"]
print("depthscale, autograd engine:    %.2f student-steps/s per core (%.0f ms per unit step)"
      % (a, auto["ms_per_unit_step"]))
print("FP32 FMA peak of this core (%s): %.1f GFLOP/s; student matmuls (fwd+bwd, layers and head) "
      "in the unit: %.1f GFLOP/s = %.0f%% of peak, %.0f%% of the unit's time; whole unit %.1f GFLOP/s"
      % (ours["isa"], ours["fma_peak_gflops"], ours["student_matmul_gflops"],
         100 * ours["student_matmul_fraction_of_peak"], 100 * ours["student_matmul_share_of_time"],
         ours["unit_gflops"]))
b = batched["student_steps_per_s_per_core"]
print("depthscale, batched engine:     %.2f student-steps/s per core (%.0f ms per unit step, peak RSS %.0f MB)"
      % (b, batched["ms_per_unit_step"], batched["peak_rss_mb"]))
print("projected exp9 grid (288 students x 40k steps) on one core, fused: %.1f core-hours"
      % ours["projected_grid_hours"])
print("speed-up per core: fused %.2fx, autograd %.2fx, batched %.2fx (against the reference)"
      % (o / r, a / r, b / r))
print(json.dumps({"reference_per_core": r, "fused_per_core": o, "autograd_per_core": a,
                  "batched_per_core": b, "projected_grid_core_hours": ours["projected_grid_hours"],
                  "speedup_fused": o / r, "speedup_autograd": a / r,
                  "peak_rss_mb": ours["peak_rss_mb"], "fma_peak_gflops": ours["fma_peak_gflops"],
                  "student_matmul_fraction_of_peak": ours["student_matmul_fraction_of_peak"],
                  "unit_gflops": ours["unit_gflops"],
                  "reference_ms_per_step": {d["depth"]: d["ms_per_step"] for d in ref["per_depth"]},
                  "reference_teacher_fraction": ref["mean_teacher_fraction"]}))
PY
