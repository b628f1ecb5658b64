#!/usr/bin/env bash
# STAND-IN for the depthscale binary, used ONLY by tests/e2e/slurm_cluster_test.sh.
# It exercises the sbatch templates in slurm/ (signal forwarding, exit code 3 -> requeue -> --resume,
# array slices, afterok reduction); it tests nothing of depthscale itself.
#
#   fake_sweep.sh run JOB.yaml --out OUT.h5 [--resume] [--set key=value]...
#       Counts to $FAKE_STEPS (default 20) in $FAKE_STEP_SECONDS (default 0.5) steps. Progress lives in
#       OUT.h5.progress.rank<R> (R = OMPI_COMM_WORLD_RANK, 0 without mpirun); with --resume it continues
#       from there, without it starts at 0. On SIGUSR1 or SIGTERM it records a checkpoint and exits 3.
#       A checkpoint takes $FAKE_CHECKPOINT_SECONDS (default 0).
#       Exits 0 when the count is done; writes OUT.h5 (a text file) when rank 0 finishes.
#   fake_sweep.sh merge IN.h5... --out OUT.h5 | reduce OUT.h5 | plot OUT.h5 [--out DIR]
#       Record the call and exit 0 (merge concatenates its inputs; plot touches DIR/plot.done).
# Every event is appended as one line to OUT.h5.events (see `ev`), which the test reads.
set -u

steps=${FAKE_STEPS:-20}
dt=${FAKE_STEP_SECONDS:-0.5}
rank=${OMPI_COMM_WORLD_RANK:-${PMIX_RANK:-0}}
sub=${1:-}; shift || true

out= resume=0 sets= inputs=()
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out=$2; shift 2 ;;
    --resume) resume=1; shift ;;
    --set) sets="$sets $2"; shift 2 ;;
    *) inputs+=("$1"); shift ;;
  esac
done

ev() { # one line per event, appended (short lines: atomic across ranks)
  echo "$(date +%s.%N | cut -c1-14) $* job=${SLURM_JOB_ID:-none} restart=${SLURM_RESTART_COUNT:-0}" >>"$out.events"
}

case "$sub" in
  run)
    [ -n "$out" ] || { echo "fake_sweep: run needs --out" >&2; exit 2; }
    prog="$out.progress.rank$rank"
    [ $resume = 1 ] || rm -f "$prog"
    n=$(cat "$prog" 2>/dev/null || echo 0)
    case $n in ''|*[!0-9]*) echo "fake_sweep: bad progress file $prog: '$n'" >&2; exit 1 ;; esac
    sp=
    # atomic, like a real checkpoint: mpirun may SIGKILL this rank at any moment
    save() { echo "$n" >"$prog.tmp.$$" && mv -f "$prog.tmp.$$" "$prog"; }
    stop() {
      [ -n "$sp" ] && kill "$sp" 2>/dev/null
      trap '' USR1 TERM   # a second signal must not cut the checkpoint short
      sleep "${FAKE_CHECKPOINT_SECONDS:-0}"
      save
      ev "checkpoint rank=$rank at=$n signal=$1"
      echo "fake_sweep rank $rank: SIG$1 at $n/$steps, checkpointed, exit 3"
      exit 3
    }
    trap 'stop USR1' USR1
    trap 'stop TERM' TERM
    ev "start rank=$rank from=$n resume=$resume sets=${sets# } input=${inputs[*]:-}"
    echo "fake_sweep rank $rank: start at $n/$steps (pid $$)"
    while [ "$n" -lt "$steps" ]; do
      sleep "$dt" & sp=$!
      wait "$sp"          # interruptible: the trap runs at once
      sp=
      n=$((n + 1))
      save
    done
    ev "done rank=$rank at=$n"
    [ "$rank" = 0 ] && echo "fake sweep done: $steps steps" >"$out"
    exit 0 ;;
  merge)
    cat "${inputs[@]}" >"$out" || exit 1
    ev "merge inputs=${inputs[*]}" ;;
  reduce)
    out=${inputs[0]}
    [ -s "$out" ] || { echo "fake_sweep: reduce: $out missing" >&2; exit 1; }
    ev "reduce" ;;
  plot)
    dir=$out; out=${inputs[0]}
    mkdir -p "$dir" && touch "$dir/plot.done"
    ev "plot dir=$dir" ;;
  *) echo "fake_sweep: unknown command '$sub'" >&2; exit 2 ;;
esac
