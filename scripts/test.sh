#!/usr/bin/env bash
# The whole test suite in one command: installs and builds if needed, then runs ctest (unit
# tests, MPI tests under mpirun, end-to-end runs, the PyTorch cross-checks, the SLURM cluster test).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
if [ "$(id -u)" -eq 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
cd build
ctest --output-on-failure -j "${CTEST_JOBS:-2}" "$@"
