#!/usr/bin/env bash
# LLM probe throughput on the CPU: a random Pythia-160m-shaped GPT-NeoX (FP32), one batch of
# 4 documents x 512 tokens, 2 threads, with and without the per-layer cross-entropy readouts, and
# in the same rounds the former (unfused) readout path, so both see the same machine state.
# Usage: bench/run_probe_bench.sh [BUILD_DIR] [REPS] [more probe_bench options, e.g. --shape 410m]
# Prints probe_bench's report, then its JSON line last.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
reps=${2:-5}
shift $(($# < 2 ? $# : 2))
# Pinned: LibTorch's intra-op threads (probe_bench --threads) and OpenBLAS's threads, and
# OpenBLAS's kernel choice is printed (its DYNAMIC_ARCH build picks by CPU).
export OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2
exec "$build/bench/probe_bench" --docs 4 --tokens 512 --threads 2 --reps "$reps" --compare "$@"
