#!/usr/bin/env bash
# The coordinator alone: how many work units per second rank 0 can hand out and record (sidecar
# file + sweep file, fsync'd, status last) when the work itself is trivial (one 1-step student of
# width 2 per unit). Run at 2 and 8 ranks (oversubscribed), so its overhead can be compared with a
# real unit (an exp9 unit trains for hours).
# Usage: bench/coordinator_bench.sh [BUILD_DIR] [UNITS]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
units=${2:-400}
exe="$PWD/$build/apps/depthscale"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ "$(id -u)" -eq 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
export OMP_NUM_THREADS=1 DEPTHSCALE_PROGRESS_SECONDS=1000
cat > "$work/trivial.yaml" <<YAML
name: trivial
kind: toy
seed: 1
grid: {temperature: {linspace: [0.5, 1.5, $units]}, depth: [1], teacher: [0]}
model: {width: 2, vocab: 2, teacher_depth: 1}
train: {steps: 1, batch: 1, eval: {every: 0, batches: 1}, checkpoint_every: 0}
probe_hidden: {inputs: 0}
run: {unit_size: 1, threads: 1}
YAML
for np in 2 8; do
  out="$work/np$np.h5"
  start=$(date +%s.%N)
  mpirun -np "$np" --oversubscribe "$exe" run "$work/trivial.yaml" --out "$out" 2>"$work/log$np" ||
    { tail -20 "$work/log$np"; exit 1; }
  end=$(date +%s.%N)
  done_units=$(grep -o '[0-9]* tasks completed' "$work/log$np" | grep -o '^[0-9]*')
  python3 - "$np" "$done_units" "$start" "$end" <<'PY'
import sys
np_, n, t0, t1 = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
s = t1 - t0
print("coordinator, %d ranks: %d trivial units handed out and recorded in %.2f s (incl. start-up) = %.0f units/s, %.1f ms per unit"
      % (np_, n, s, n / s, 1e3 * s / n))
PY
done
