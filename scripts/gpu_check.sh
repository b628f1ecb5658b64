#!/usr/bin/env bash
# One-shot GPU check of depthscale on a machine with CUDA, PyTorch and no package manager (the
# nvidia-h200 device): build against the CUDA LibTorch of python3's PyTorch, with the other
# dependencies from the prefix scripts/gpu_deps.sh makes; run the CUDA tests and a sanity subset;
# benchmark the toy exp9 unit and the LLM probe (Pythia-1b shape, BF16) on cuda against plain
# FP32/BF16 matmul rates measured in the same run; a small end-to-end quickstart on cuda.
# Usage (from a checkout root, with .gpu/deps.tar.xz and .gpu/src.tar.xz beside this script):
#   OUT=/some/dir bash .gpu/gpu_check.sh        # everything is written under $OUT
# GPU_CHECK_BUDGET (seconds, default 540): the script ends its stages inside it.
set -x
T0=$(date +%s)
BUDGET=${GPU_CHECK_BUDGET:-540}
OUT=${OUT:-/tmp/gpu_check_out}; mkdir -p "$OUT"
G=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
W=${GPU_CHECK_WORK:-/tmp/ds}; mkdir -p "$W"
exec > >(tee -a "$OUT/gpu_check.log") 2>&1
R=$OUT/results.jsonl   # one JSON object per line: {"stage":..., ...}
elapsed() { echo $(( $(date +%s) - T0 )); }
left() { echo $(( BUDGET - $(elapsed) )); }
stage() { echo "=== [$(date -u +%T) +$(elapsed)s, $(left)s left] $*"; }
# cap SECONDS cmd...: run with at most SECONDS, less what the budget still allows (keep 10 s)
cap() {
  local t=$1; shift; local l=$(( $(left) - 10 ))
  (( l < t )) && t=$l
  if (( t < 5 )); then echo "SKIPPED (out of time): $*"; return 124; fi
  timeout -k 5 "$t" "$@"
}
note() { echo "{\"stage\":\"$1\",\"rc\":$2,\"seconds\":$3}" >> "$R"; }

stage "0 machine"
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv
ls -d /usr/local/cuda* 2>/dev/null
for c in /usr/local/cuda/bin /usr/local/cuda-13*/bin; do [ -x "$c/nvcc" ] && export PATH=$PATH:$c && break; done
export CUDA_HOME=${CUDA_HOME:-$(dirname "$(dirname "$(command -v nvcc)")")}
PY=$(command -v python3)
nvcc --version | tail -2; cmake --version | head -1; ninja --version; g++ --version | head -1
ldd --version | head -1; nproc; free -g | head -2
TORCH_CMAKE=$("$PY" -c 'import torch; print(torch.utils.cmake_prefix_path)')
"$PY" -c 'import torch, h5py; print("torch", torch.__version__, torch.version.cuda, torch.cuda.get_device_name(0))'

stage "1 unpack"
t=$(date +%s)
tar -C "$W" -xJf "$G/deps.tar.xz" && rm -rf "$W/src" && mkdir -p "$W/src" && tar -C "$W/src" -xJf "$G/src.tar.xz"
[ -f "$G/extra.tar.xz" ] && tar -C "$W/deps" -xJf "$G/extra.tar.xz"
source "$W/deps/usr/env.sh"
cat "$W/src/GIT_COMMIT" 2>/dev/null
mpirun -np 2 --oversubscribe hostname; note mpirun_smoke $? $(( $(date +%s) - t ))

stage "2 configure"
B=$W/build; t=$(date +%s)
cap 120 cmake -S "$W/src" -B "$B" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$TORCH_CMAKE;$DEPS_PREFIX" $DEPS_CMAKE_ARGS -DDEPTHSCALE_PYTHON="$PY" \
  -DCMAKE_CUDA_ARCHITECTURES=90 -DTORCH_CUDA_ARCH_LIST=9.0 -DCMAKE_POLICY_VERSION_MINIMUM=3.5 \
  -DCUDAToolkit_ROOT="$CUDA_HOME" -DCMAKE_CXX_FLAGS="-I$DEPS_PREFIX/include" > "$OUT/build.log" 2>&1
rc=$?; tail -40 "$OUT/build.log"; note configure $rc $(( $(date +%s) - t ))
grep -E '^(Torch_DIR|Ceres_DIR|HDF5_C_INCLUDE_DIR|MPI_C_COMPILER|DEPTHSCALE_[A-Z_]*|CMAKE_CXX_COMPILER):' "$B/CMakeCache.txt"

stage "3 build (GPU-relevant targets first)"
t=$(date +%s)
first="toy_tests probe_cost_tests probe_model_tests probe_metrics_tests toy_bench probe_bench"
cap 330 ninja -C "$B" -j16 -k 0 $first >> "$OUT/build.log" 2>&1
rc=$?; grep -E 'error|FAILED' "$OUT/build.log" | head -40; tail -3 "$OUT/build.log"
note build_first $rc $(( $(date +%s) - t ))

export OMP_NUM_THREADS=1
stage "4 CUDA tests"
t=$(date +%s)
cap 90 "$B/lib/toy/toy_tests" --gtest_filter='Cohort.CudaUnitMatchesCpu' --gtest_color=no
note test_Cohort.CudaUnitMatchesCpu $? $(( $(date +%s) - t )); t=$(date +%s)
cap 60 "$B/lib/probe/probe_cost_tests" --gtest_color=no
note test_probe_cost_tests $? $(( $(date +%s) - t )); t=$(date +%s)
cap 60 "$B/lib/probe/probe_model_tests" --gtest_filter='Config.HuggingFaceDefaultsAndDerivedSizes' --gtest_color=no
note test_probe_model_default_dtype $? $(( $(date +%s) - t ))

stage "5 matmul reference rates (torch, same run)"
t=$(date +%s)
cap 60 "$PY" - <<'PY' | tee -a "$R"
import json, torch
torch.backends.cuda.matmul.allow_tf32 = False
def rate(dt, n=8192, reps=10, tf32=False):
    torch.backends.cuda.matmul.allow_tf32 = tf32
    a = torch.randn(n, n, device="cuda", dtype=dt); b = torch.randn(n, n, device="cuda", dtype=dt)
    for _ in range(3): a @ b
    torch.cuda.synchronize()
    s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    s.record()
    for _ in range(reps): a @ b
    e.record(); torch.cuda.synchronize()
    return 2 * n**3 * reps / (s.elapsed_time(e) / 1e3) / 1e12
r = {"stage": "matmul_reference", "n": 8192, "fp32_tflops": rate(torch.float32),
     "tf32_tflops": rate(torch.float32, tf32=True), "bf16_tflops": rate(torch.bfloat16),
     "fp32_bmm_toy_shape_tflops": None}
# the toy's own shape: 16 students x (1024 x 128) @ (128 x 32), FP32 batched, for scale
x = torch.randn(16, 1024, 128, device="cuda"); w = torch.randn(16, 128, 32, device="cuda")
for _ in range(10): torch.bmm(x, w)
torch.cuda.synchronize()
s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
s.record()
for _ in range(1000): torch.bmm(x, w)
e.record(); torch.cuda.synchronize()
r["fp32_bmm_toy_shape_tflops"] = 2 * 16 * 1024 * 128 * 32 * 1000 / (s.elapsed_time(e) / 1e3) / 1e12
r["fp32_bmm_toy_shape_us_per_call"] = s.elapsed_time(e)  # ms per 1000 calls = us per call
print(json.dumps(r))
PY
note matmul_reference $? $(( $(date +%s) - t ))

stage "6 toy_bench: one exp9 work unit on cuda"
cd "$W/src"
for eng in ${TOY_ENGINES:-default}; do
  t=$(date +%s)
  extra=(); [ $eng = autograd ] && extra=(--set run.engine=autograd)
  cap 90 "$B/bench/toy_bench" jobs/exp9.yaml --steps 60 --warmup 5 --threads 1 \
    --set run.device=cuda "${extra[@]}" > "$W/toy_$eng.txt"
  rc=$?; cat "$W/toy_$eng.txt"
  tail -1 "$W/toy_$eng.txt" | grep '^{' | sed "s/^{/{\"stage\":\"toy_exp9_cuda_$eng\",/" >> "$R"
  note toy_$eng $rc $(( $(date +%s) - t ))
done

stage "7 probe_bench on cuda, bfloat16"
for shape in ${PROBE_SHAPES:-160m 1b}; do
  t=$(date +%s)
  cap 150 "$B/bench/probe_bench" --shape $shape --device cuda --dtype bfloat16 --docs 8 \
    --tokens 2048 --reps 3 --threads 16 --compare > "$W/probe_$shape.txt"
  rc=$?; cat "$W/probe_$shape.txt"
  tail -1 "$W/probe_$shape.txt" | grep '^{' | sed "s/^{/{\"stage\":\"probe_${shape}_cuda_bf16\",/" >> "$R"
  note probe_$shape $rc $(( $(date +%s) - t ))
done

stage "8 toy/probe unit tests (sanity: whole binaries, in parallel)"
t=$(date +%s)
for b in lib/toy/toy_tests lib/probe/probe_cost_tests lib/probe/probe_model_tests \
         lib/probe/probe_metrics_tests; do
  ( cd "$B/$(dirname $b)" && cap 110 "$B/$b" --gtest_color=no --gtest_brief=1 > "$W/$(basename $b).log" 2>&1
    echo "{\"stage\":\"tests_$(basename $b)\",\"rc\":$?}" >> "$R" ) &
  pids+=($!)
done
wait "${pids[@]}"  # not a bare wait: that also waits for the tee of the log
for b in toy_tests probe_cost_tests probe_model_tests probe_metrics_tests; do
  echo "##### $b"; cat "$W/$b.log"; done > "$OUT/tests.log"
grep -E '^#####|PASSED|FAILED|SKIPPED|tests ran' "$OUT/tests.log" | head -60
note unit_tests_parallel 0 $(( $(date +%s) - t ))

stage "9 quickstart end to end on cuda (mpirun -np 1)"
t=$(date +%s)
cap 150 ninja -C "$B" -j16 depthscale >> "$OUT/build.log" 2>&1; note build_depthscale $? $(( $(date +%s) - t ))
t=$(date +%s)
mkdir -p "$W/qs"
cap 120 mpirun -np 1 "$B/apps/depthscale" run jobs/quickstart.yaml --set run.device=cuda \
  --out "$W/qs/quickstart.h5" > "$OUT/quickstart.log" 2>&1
rc=$?; tail -30 "$OUT/quickstart.log"; note quickstart_cuda $rc $(( $(date +%s) - t ))
[ $rc = 0 ] && cap 30 "$B/apps/depthscale" reduce "$W/qs/quickstart.h5" >> "$OUT/quickstart.log" 2>&1

stage "done"
nvidia-smi --query-gpu=clocks.sm,clocks.mem,temperature.gpu,power.draw --format=csv
ls -la "$OUT"
