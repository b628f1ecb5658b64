#!/usr/bin/env bash
# End-to-end test of the local SLURM cluster (slurm/local-cluster.sh) and of the sbatch templates
# (slurm/farm.sbatch.in, array.sbatch.in, reduce.sbatch.in): signal forwarding, checkpoint exit 3 ->
# `scontrol requeue` -> resume, afterok reduction, array slices with offsets.
#
# The program under the templates is tests/e2e/fake_sweep.sh, a stand-in for depthscale (override with
# DEPTHSCALE_BIN=/abs/path to run the real binary once it implements the same contract).
# Needs root and Debian's slurmctld, slurmd, munge, openmpi-bin; skips (exit 77) when they are missing.
# Starts its own cluster in a fresh state dir (does not touch a cluster you already run) and always
# stops it. Bounded: about a minute, hard limit TEST_TIMEOUT (170 s). Prints PASS/FAIL lines.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CLUSTER="$ROOT/slurm/local-cluster.sh"
FAKE=${DEPTHSCALE_BIN:-$ROOT/tests/e2e/fake_sweep.sh}
T0=$SECONDS
DEADLINE=$(( SECONDS + ${TEST_TIMEOUT:-170} ))
fails=0

pass() { echo "PASS: $* [t=$((SECONDS - T0))s]"; }
fail() { echo "FAIL: $* [t=$((SECONDS - T0))s]"; fails=$((fails + 1)); }
fatal() { fail "$*"; exit 1; }
now() { date +%s.%N | cut -c1-14; }

for c in slurmctld slurmd munged sbatch scontrol mpirun; do
  command -v "$c" >/dev/null || { echo "SKIP: $c not installed"; exit 77; }
done
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (the local cluster runs munged as the munge user)"; exit 77; }

STATE=$(mktemp -d /tmp/depthscale-slurm-test.XXXXXX)
W=$(mktemp -d /tmp/depthscale-slurm-work.XXXXXX)
chmod 0755 "$STATE" "$W"
mkdir -p "$W/logs" "$W/out"

cleanup() {
  local rc=$?
  [ $fails -gt 0 ] && rc=1
  if [ $rc != 0 ]; then
    echo "---- diagnostics (work dir $W kept)"
    SLURM_CONF="$STATE/slurm.conf" timeout 5 scontrol show job 2>/dev/null | grep -E 'JobId|JobState|Restarts|Reason' | head -40
    for f in "$W"/logs/* "$W"/out/*.events "$STATE"/log/slurmctld.log; do
      [ -f "$f" ] && { echo "-- $f"; tail -n 25 "$f"; }
    done
  fi
  "$CLUSTER" stop "$STATE" || true
  if [ $rc = 0 ]; then rm -rf "$W" "$STATE"; fi
  echo "total $((SECONDS - T0)) s"
  [ $rc = 0 ] && echo "RESULT: PASS" || echo "RESULT: FAIL"
  exit $rc
}
trap cleanup EXIT
trap 'fatal "interrupted"' INT TERM

# ---- helpers -------------------------------------------------------------------------------------
left() { echo $(( DEADLINE - SECONDS )); }
field() { # JOBID FIELD -> values of FIELD for every record of the job (array: one per element)
  scontrol show job -o "$1" 2>/dev/null | grep -o " $2=[^ ]*" | cut -d= -f2-
}
# wait until every record of job $1 is in state $2 (within $3 s); fail fast on another final state
wait_state() {
  local id=$1 want=$2 limit=$3 end states s
  end=$(( SECONDS + limit ))
  while :; do
    states=$(field "$id" JobState | sort -u | tr '\n' ' ')
    [ "$states" = "$want " ] && return 0
    for s in $states; do
      case $s in
        COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY|BOOT_FAIL|DEADLINE|PREEMPTED)
          [ "$s" = "$want" ] || { echo "  job $id is $states (wanted $want)"; return 1; } ;;
      esac
    done
    if [ $SECONDS -ge $end ] || [ "$(left)" -le 0 ]; then echo "  job $id still '$states' after ${limit}s (wanted $want)"; return 1; fi
    sleep 0.5
  done
}
wait_for() { # SECONDS DESCRIPTION COMMAND... : poll until COMMAND succeeds
  local limit=$1 what=$2 end; shift 2
  end=$(( SECONDS + limit ))
  until "$@"; do
    if [ $SECONDS -ge $end ] || [ "$(left)" -le 0 ]; then echo "  timed out after ${limit}s: $what"; return 1; fi
    sleep 0.25
  done
}
# fill TEMPLATE OUTPUT KEY=VALUE... : replace every @KEY@, drop '##' lines, refuse leftovers
fill() {
  local tpl=$1 dst=$2 kv text; shift 2
  text=$(grep -v '^##' "$tpl")
  for kv in "$@"; do text=${text//"@${kv%%=*}@"/"${kv#*=}"}; done
  if grep -qE '@[A-Z_]+@' <<<"$text"; then
    fatal "unfilled placeholders in $tpl: $(grep -oE '@[A-Z_]+@' <<<"$text" | sort -u | tr '\n' ' ')"
  fi
  printf '%s\n' "$text" >"$dst"
}
count() { grep -c -- "$1" "$2" 2>/dev/null || true; }

# ---- 1. cluster ----------------------------------------------------------------------------------
t=$SECONDS
"$CLUSTER" start "$STATE" || fatal "cluster start"
eval "$("$CLUSTER" env "$STATE")"
pass "cluster started, node idle ($((SECONDS - t)) s)"
"$CLUSTER" start "$STATE" >/dev/null 2>&1 && pass "second start is a no-op" || fail "second start"
grep -q '^MaxArraySize=1001' "$SLURM_CONF" || fail "MaxArraySize not in config"

# ---- 2. trivial job; afterok on a failing job is cancelled (kill_invalid_depend) ------------------
t=$SECONDS
triv=$(sbatch --parsable -J trivial -o "$W/logs/trivial.out" --wrap 'echo hello from $(hostname -s) as $(id -un)') \
  || fatal "sbatch trivial"
bad=$(sbatch --parsable -J failing -o "$W/logs/failing.out" --wrap 'exit 1') || fatal "sbatch failing"
orphan=$(sbatch --parsable -J orphan --dependency=afterok:"$bad" -o "$W/logs/orphan.out" --wrap 'echo must not run') \
  || fatal "sbatch orphan"
if wait_state "$triv" COMPLETED 30 && grep -q 'hello from .* as root' "$W/logs/trivial.out"; then
  pass "trivial job $triv COMPLETED as root ($((SECONDS - t)) s)"
else
  fail "trivial job $triv"
fi
wait_state "$bad" FAILED 30 || fail "job $bad should fail"
if wait_state "$orphan" CANCELLED 30 && [ ! -s "$W/logs/orphan.out" ]; then
  pass "afterok on a failed job: dependent $orphan CANCELLED ($(field "$orphan" Reason))"
else
  fail "afterok on a failed job must cancel the dependent (DependencyParameters=kill_invalid_depend)"
fi

# ---- 3. task farm: USR1 -> checkpoint (exit 3) -> requeue -> resume; afterok reduction -------------
echo "name: fake" >"$W/job.yaml"
OUT="$W/out/farm.h5"
EV="$OUT.events"
fill "$ROOT/slurm/farm.sbatch.in" "$W/farm.sbatch" \
  JOB_NAME=farmtest NTASKS=2 TIME=00:05:00 SIGNAL_SECONDS=60 LOG_DIR="$W/logs" GPU_LINES= \
  DEPTHSCALE="$FAKE" JOB_YAML="$W/job.yaml" OUT_H5="$OUT" EXTRA_SET="--set 'train.steps=20'"
fill "$ROOT/slurm/reduce.sbatch.in" "$W/reduce.sbatch" \
  JOB_NAME=farmtest-reduce TIME=00:05:00 LOG_DIR="$W/logs" DEPTHSCALE="$FAKE" OUT_H5="$OUT" \
  PLOT_DIR="$W/plots" SLICES=0
bash -n "$W/farm.sbatch" && bash -n "$W/reduce.sbatch" || fail "filled templates are not valid bash"

t=$SECONDS
farm=$(sbatch --parsable "$W/farm.sbatch") || fatal "sbatch farm"
red=$(sbatch --parsable --dependency=afterok:"$farm" "$W/reduce.sbatch") || fatal "sbatch reduce"
echo "  farm job $farm, reduce job $red"

progress_at_least() { [ "$(cat "$OUT.progress.rank0" 2>/dev/null || echo 0)" -ge "$1" ]; }
wait_for 40 "farm ranks counting" progress_at_least 4 || fatal "farm job $farm never got going"
[ "$(count ' start rank=' "$EV")" = 2 ] && pass "farm started 2 ranks via mpirun ($((SECONDS - t)) s)" \
  || fail "expected 2 rank starts, got $(count ' start rank=' "$EV")"
[ "$(field "$red" JobState)" = PENDING ] && pass "reduce job pending on its dependency ($(field "$red" Reason))" \
  || fail "reduce job $red should be pending, is $(field "$red" JobState)"

t_sig=$(now)
scancel --batch --signal=USR1 "$farm" || fail "scancel --batch --signal=USR1"
two_checkpoints() { [ "$(count ' checkpoint rank=' "$EV")" -ge 2 ]; }
if wait_for 15 "ranks checkpoint" two_checkpoints; then
  pass "USR1 forwarded to both ranks: $(grep ' checkpoint rank=0' "$EV" | grep -o 'at=[0-9]*') (rank 0)"
else
  fail "USR1 did not reach the ranks"
fi
restarted() { grep -q " start rank=0 .* restart=$1" "$EV"; }
if wait_for 60 "requeued job restarts" restarted 1; then
  t_start=$(grep ' start rank=0 .* restart=1' "$EV" | head -n1 | cut -d' ' -f1)
  RESTART_LATENCY=$(awk -v a="$t_sig" -v b="$t_start" 'BEGIN{printf "%.1f", b-a}')
  pass "job requeued after exit 3 and restarted ${RESTART_LATENCY} s after the signal"
else
  fail "job $farm did not restart after exit 3"
fi
cp0=$(grep ' checkpoint rank=0' "$EV" | head -n1 | grep -o 'at=[0-9]*' | cut -d= -f2)
from1=$(grep ' start rank=0 .* restart=1' "$EV" | head -n1 | grep -o 'from=[0-9]*' | cut -d= -f2)
if [ -n "$cp0" ] && [ "$cp0" -gt 0 ] && [ "$from1" = "$cp0" ]; then
  pass "restart 1 resumed from the checkpoint (step $from1 of 20)"
else
  fail "restart 1 should resume from checkpoint ${cp0:-?}, started from ${from1:-?}"
fi

# Second stop: SIGTERM to every process of the job (as on preemption). The batch shell forwards USR1,
# mpirun itself also gets SIGTERM and aborts (exit 1); the script must still requeue.
if [ -n "${from1:-}" ] && wait_for 20 "restart 1 counting" progress_at_least $(( from1 + 3 )); then
  t_sig2=$(now)
  scancel --full --signal=TERM "$farm" || fail "scancel --full --signal=TERM"
  if wait_for 60 "second restart" restarted 2; then
    t_start2=$(grep ' start rank=0 .* restart=2' "$EV" | head -n1 | cut -d' ' -f1)
    RESTART_LATENCY2=$(awk -v a="$t_sig2" -v b="$t_start2" 'BEGIN{printf "%.1f", b-a}')
    from2=$(grep ' start rank=0 .* restart=2' "$EV" | head -n1 | grep -o 'from=[0-9]*' | cut -d= -f2)
    if [ "${from2:-0}" -gt "$from1" ]; then
      pass "SIGTERM to all processes: requeued, restarted ${RESTART_LATENCY2} s later, resumed at step $from2"
    else
      fail "restart 2 should resume beyond step $from1, started from ${from2:-?}"
    fi
  else
    fail "job $farm did not restart after SIGTERM"
  fi
else
  fail "restart 1 did not make progress"
fi

if wait_state "$farm" COMPLETED 60; then pass "farm job $farm COMPLETED ($((SECONDS - t)) s incl. 2 restarts)"; else fail "farm job $farm"; fi
[ "$(field "$farm" Restarts)" = 2 ] && pass "scontrol: Restarts=2" || fail "Restarts=$(field "$farm" Restarts), wanted 2"
[ "$(count 'farm job .*: start (restart' "$W/logs/farmtest-$farm.out")" = 3 ] \
  && pass "log farmtest-$farm.out shows three starts, $(count 'requeued, the next start resumes' "$W/logs/farmtest-$farm.out") requeues" \
  || fail "farm log should show three starts"
if grep -q ' done rank=0 at=20' "$EV" && grep -q ' done rank=1 at=20' "$EV" && [ -s "$OUT" ]; then
  pass "count finished on both ranks (20/20)"
else
  fail "count not finished"
fi
grep -q "sets=train.steps=20" "$EV" && pass "@EXTRA_SET@ reached the program" || fail "@EXTRA_SET@ missing"
if wait_state "$red" COMPLETED 30 && [ -f "$W/plots/plot.done" ] && grep -q ' reduce ' "$EV"; then
  fs=$(field "$farm" EndTime); rs=$(field "$red" StartTime)
  if [[ "$rs" > "$fs" || "$rs" = "$fs" ]]; then pass "reduce job $red ran after the farm (start $rs >= end $fs): reduce + plot"
  else fail "reduce started $rs before the farm ended $fs"; fi
else
  fail "reduce job $red"
fi

# ---- 4. chunked job array: 4 slices as two arrays of 2 (offsets 0 and 2), merged by the reduction --
t=$SECONDS
AOUT="$W/out/arr.h5"
ids=()
for off in 0 2; do
  fill "$ROOT/slurm/array.sbatch.in" "$W/array-$off.sbatch" \
    JOB_NAME=arraytest ARRAY_RANGE=0-1 ARRAY_OFFSET=$off SLICES=4 NTASKS=1 TIME=00:05:00 SIGNAL_SECONDS=60 \
    LOG_DIR="$W/logs" GPU_LINES= DEPTHSCALE="$FAKE" JOB_YAML="$W/job.yaml" OUT_H5="$AOUT" EXTRA_SET=
  ids+=("$(FAKE_STEPS=4 sbatch --parsable "$W/array-$off.sbatch")") || fatal "sbatch array offset $off"
done
fill "$ROOT/slurm/reduce.sbatch.in" "$W/reduce-arr.sbatch" \
  JOB_NAME=arraytest-reduce TIME=00:05:00 LOG_DIR="$W/logs" DEPTHSCALE="$FAKE" OUT_H5="$AOUT" \
  PLOT_DIR="$W/plots-arr" SLICES=4
ared=$(sbatch --parsable --dependency=afterok:"${ids[0]}":"${ids[1]}" "$W/reduce-arr.sbatch") || fatal "sbatch array reduce"
ok=1
for id in "${ids[@]}"; do wait_state "$id" COMPLETED 60 || ok=0; done
if [ $ok = 1 ]; then
  pass "arrays ${ids[*]} COMPLETED ($((SECONDS - t)) s)"
  for i in 0 1 2 3; do
    [ "$(cat "$W/out/arr-slice$i.h5.events" 2>/dev/null | grep -c "start rank=0 .*sets=run.slice=$i/4")" = 1 ] \
      && [ -s "$W/out/arr-slice$i.h5" ] || { ok=0; fail "slice $i/4 not run exactly once into arr-slice$i.h5"; }
  done
  [ $ok = 1 ] && pass "slices 0/4..3/4 each ran once into their own file"
else
  fail "array jobs"
fi
if wait_state "$ared" COMPLETED 30 && grep -q 'merge inputs=.*slice0.h5 .*slice1.h5 .*slice2.h5 .*slice3.h5' "$AOUT.events" \
   && [ -f "$W/plots-arr/plot.done" ]; then
  pass "array reduction merged 4 slices, reduced and plotted"
else
  fail "array reduction job $ared"
fi

echo "restart latency (signal -> requeued job running again): USR1 ${RESTART_LATENCY:-n/a} s, TERM ${RESTART_LATENCY2:-n/a} s"
[ $fails = 0 ]
