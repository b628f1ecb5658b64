#!/usr/bin/env bash
# The main job in one command: installs and builds if needed, runs jobs/quickstart.yaml under
# mpirun on every core, fits α_ℓ and draws the figures into results/quickstart/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
if [ "$(id -u)" -eq 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
export DEPTHSCALE_PROGRESS_SECONDS=${DEPTHSCALE_PROGRESS_SECONDS:-5}
ranks=${RANKS:-$(nproc)}
out=results/quickstart/quickstart.h5
mkdir -p results/quickstart
# -n: depthscale starts mpirun itself, so a Ctrl-C checkpoints and the shell sees exit code 3.
# --resume: a second run (or a run after Ctrl-C) continues where the last one stopped.
build/apps/depthscale run jobs/quickstart.yaml -n "$ranks" --mpirun-arg=--oversubscribe \
  --out "$out" --resume "$@"
build/apps/depthscale reduce "$out"
build/apps/depthscale plot "$out" --out results/quickstart
echo "quickstart: results in $out, figures in results/quickstart/"
