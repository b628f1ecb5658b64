#!/usr/bin/env bash
# The study's toy experiments at its own settings (jobs/exp9*.yaml, about 212 core-hours in all),
# then the report. See jobs/paper/README.md.
#
#   jobs/paper/run_all.sh local [RANKS]       # one after another under mpirun on this machine
#   jobs/paper/run_all.sh slurm [SUBMIT...]   # one `depthscale submit` per experiment (extra
#                                             # options go to submit: --array 8 --time 12:00:00)
#   jobs/paper/run_all.sh report              # reduce what has finished, write results/paper/report
#
# Every run resumes (--resume; the sbatch scripts requeue themselves), so the same command
# continues a killed or preempted sweep. DEPTHSCALE is the binary (default build/apps/depthscale);
# SHARED_DATA the folder with chinchilla_fitting_data.csv (default ../shared/data).
set -euo pipefail
cd "$(dirname "$0")/../.."
exe=${DEPTHSCALE:-build/apps/depthscale}
data=${SHARED_DATA:-../shared/data}
out=results/paper
experiments=(exp9 exp9-1 exp9-2 exp9-3 exp9-4 exp9-5 exp9-6)
mode=${1:-}
shift || true
mkdir -p "$out"
case "$mode" in
  local)
    ranks=${1:-$(nproc)}
    if [ "$(id -u)" -eq 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
    for e in "${experiments[@]}"; do
      "$exe" run "jobs/$e.yaml" --dry-run | tail -3
      mpirun -np "$ranks" --oversubscribe "$exe" run "jobs/$e.yaml" --out "$out/$e.h5" --resume
    done
    "$0" report
    ;;
  slurm)
    for e in "${experiments[@]}"; do
      "$exe" submit "jobs/$e.yaml" --out "$out/$e.h5" "$@"
    done
    echo "submitted; when the jobs have finished: $0 report"
    ;;
  report)
    files=()
    for e in "${experiments[@]}"; do
      [ -f "$out/$e.h5" ] || { echo "$out/$e.h5: not run yet, left out"; continue; }
      "$exe" reduce "$out/$e.h5" > "$out/$e-alpha.txt"
      files+=("$out/$e.h5")
    done
    scaling=()
    if [ -f "$data/chinchilla_fitting_data.csv" ]; then
      scaling=(--scaling "$data/chinchilla_fitting_data.csv" --shapes jobs/paper/llm_shapes.csv)
    fi
    "$exe" report "${files[@]}" "${scaling[@]}" --out "$out/report"
    ;;
  *)
    sed -n 2,12p "$0"
    exit 2
    ;;
esac
