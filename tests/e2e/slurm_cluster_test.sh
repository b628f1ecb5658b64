#!/usr/bin/env bash
# End-to-end test of `depthscale submit` on a real single-node SLURM cluster (slurm/local-cluster.sh):
#
#   1. the cluster: starts, runs a job, cancels the afterok dependent of a failed job
#   2. an uninterrupted `mpirun -np 2 depthscale run` of a small quickstart: the reference
#   3. task farm: `depthscale submit --ntasks 2`; once a checkpoint exists, SIGUSR1 to the batch shell
#      -> depthscale checkpoints, exits 3 -> the script requeues the job -> it resumes and COMPLETES;
#      the afterok reduction job writes /fits and figures; every /tasks/*/ dataset equals the reference
#   4. job array: `depthscale submit --array 2`; element 0 gets SIGUSR1 (batch shell), element 1
#      SIGTERM to all its processes (preemption); both requeue, resume and complete; the reduction
#      merges the slices, fits and plots; the merged results equal the reference
#   5. wall-time guard: a job whose units cannot finish in its time starts none, exits 3, is not requeued
#   6. merge refuses a slice of another job, naming the key
#   7. a probe job (tiny GPT-NeoX) as a job array of 2 slices: the reduction merges the slices,
#      finalises the model and plots; /probe equals an uninterrupted 2-rank run bit for bit
#
#   tests/e2e/slurm_cluster_test.sh [BUILD_DIR]     (default: <repo>/build; uses BUILD_DIR/apps/depthscale)
#
# Needs root, Debian's slurmctld, slurmd, munge, openmpi-bin and /usr/bin/python3 with h5py; skips (exit
# 77) otherwise. Starts its own cluster in a fresh state dir (never touches one you run) and always stops
# it. About 3-4 minutes on 2 cores; hard limit TEST_TIMEOUT (800 s). Prints PASS/FAIL lines.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${1:-$ROOT/build}
DS="$BUILD/apps/depthscale"
CLUSTER="$ROOT/slurm/local-cluster.sh"
PY=/usr/bin/python3
JOB="$ROOT/jobs/quickstart.yaml"
# Small enough for ~20 s per sweep on 2 cores: 16 students (2 rho x 2 teachers x 4 depths), 400 steps.
# One thread per rank everywhere (as mpirun -np 2 on 2 cores does anyway): the array's two single-rank
# elements then share the 2 cores without oversubscribing them.
SETS=(--set train.steps=400 --set 'grid.depth=[1,2,4,8]' --set model.teacher_depth=16
      --set train.checkpoint_every=50 --set run.threads=1)
T0=$SECONDS
DEADLINE=$(( SECONDS + ${TEST_TIMEOUT:-800} ))
fails=0

pass() { echo "PASS: $* [t=$((SECONDS - T0))s]"; }
fail() { echo "FAIL: $* [t=$((SECONDS - T0))s]"; fails=$((fails + 1)); }
fatal() { fail "$*"; exit 1; }

for c in slurmctld slurmd munged sbatch scontrol squeue mpirun; do
  command -v "$c" >/dev/null || { echo "SKIP: $c not installed"; exit 77; }
done
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (the local cluster runs munged as the munge user)"; exit 77; }
[ -x "$DS" ] || { echo "SKIP: $DS not built"; exit 77; }
"$PY" -c 'import h5py, numpy' 2>/dev/null || { echo "SKIP: $PY cannot import h5py"; exit 77; }

STATE=$(mktemp -d /tmp/depthscale-slurm-test.XXXXXX)
W=$(mktemp -d /tmp/depthscale-slurm-work.XXXXXX)
chmod 0755 "$STATE" "$W"
mkdir -p "$W/logs"

cleanup() {
  local rc=$?
  [ $fails -gt 0 ] && rc=1
  if [ $rc != 0 ]; then
    echo "---- diagnostics (work dir $W kept)"
    SLURM_CONF="$STATE/slurm.conf" timeout 5 scontrol show job 2>/dev/null \
      | grep -E 'JobId|JobState|Restarts|Reason|ExitCode' | head -40
    for f in "$W"/*/*.slurm/logs/*.out "$STATE"/log/slurmctld.log; do
      [ -f "$f" ] && { echo "-- $f"; tail -n 30 "$f"; }
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
count() { grep -c -- "$1" "$2" 2>/dev/null || true; }
has_checkpoint() { compgen -G "$1.ckpt/tasks/*.h5" >/dev/null; }
# `depthscale submit` prints "sweep job: ID" (one per array chunk) and "reduce job: ID"
submit() { # OUTFILE ARGS... -> sets SWEEP_IDS, REDUCE_ID
  local out=$1; shift
  "$DS" submit "$JOB" "$@" >"$out" 2>&1 || { cat "$out"; return 1; }
  SWEEP_IDS=$(awk '/^sweep job:/ {print $3}' "$out" | tr '\n' ' ')
  REDUCE_ID=$(awk '/^reduce job:/ {print $3}' "$out")
  [ -n "$SWEEP_IDS" ] && [ -n "$REDUCE_ID" ]
}
# every /tasks/*/ dataset (and /teachers) of $2 equals the reference's, bit for bit
same_results() {
  "$PY" - "$W/ref.h5" "$1" <<'PY'
import sys, h5py, numpy as np
ref, got = (h5py.File(p, "r") for p in sys.argv[1:3])
bad = []
def datasets(f, top):
    out = {}
    if top in f:
        f[top].visititems(lambda n, o: out.__setitem__(n, o) if isinstance(o, h5py.Dataset) else None)
    return out
for top in ("tasks", "teachers"):
    a, b = datasets(ref, top), datasets(got, top)
    if sorted(a) != sorted(b):
        bad.append(f"/{top}: datasets differ: only in reference {sorted(set(a) - set(b))[:4]}, "
                   f"only in result {sorted(set(b) - set(a))[:4]}")
        continue
    for name in sorted(a):
        x, y = a[name][()], b[name][()]
        if x.dtype != y.dtype or x.shape != y.shape or np.asarray(x).tobytes() != np.asarray(y).tobytes():
            bad.append(f"/{top}/{name}")
tasks = list(got["tasks"]) if "tasks" in got else []
incomplete = [k for k in tasks if got["tasks"][k].attrs.get("status") != "complete"]
if len(tasks) != 16 or incomplete:
    bad.append(f"{len(tasks)} tasks, not complete: {incomplete}")
if got.attrs["job_effective"] != ref.attrs["job_effective"]:
    bad.append("job_effective differs")
n = sum(1 for _ in datasets(got, "tasks"))
print(f"  {n} task datasets compared" + ("" if not bad else "; DIFFER: " + ", ".join(bad[:8])))
sys.exit(1 if bad else 0)
PY
}
has_fits() { "$PY" -c 'import sys, h5py; f = h5py.File(sys.argv[1], "r"); sys.exit(0 if "fits" in f and len(f["fits"]) == 4 else 1)' "$1"; }
figures() { compgen -G "$1/*.png" | wc -l; }

# ---- 1. cluster ----------------------------------------------------------------------------------
t=$SECONDS
"$CLUSTER" start "$STATE" || fatal "cluster start"
eval "$("$CLUSTER" env "$STATE")"
pass "cluster started, node idle ($((SECONDS - t)) s)"
triv=$(sbatch --parsable -J trivial -o "$W/logs/trivial.out" --wrap 'echo hello from $(hostname -s) as $(id -un)') \
  || fatal "sbatch trivial"
bad=$(sbatch --parsable -J failing -o "$W/logs/failing.out" --wrap 'exit 1') || fatal "sbatch failing"
orphan=$(sbatch --parsable -J orphan --dependency=afterok:"$bad" -o "$W/logs/orphan.out" --wrap 'echo must not run') \
  || fatal "sbatch orphan"
if wait_state "$triv" COMPLETED 30 && grep -q 'hello from .* as root' "$W/logs/trivial.out"; then
  pass "trivial job $triv COMPLETED as root"
else
  fail "trivial job $triv"
fi
wait_state "$bad" FAILED 30 || fail "job $bad should fail"
if wait_state "$orphan" CANCELLED 30 && [ ! -s "$W/logs/orphan.out" ]; then
  pass "afterok on a failed job: dependent $orphan CANCELLED ($(field "$orphan" Reason))"
else
  fail "afterok on a failed job must cancel the dependent (DependencyParameters=kill_invalid_depend)"
fi

# ---- 2. reference: one uninterrupted run ---------------------------------------------------------
t=$SECONDS
if OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 \
   mpirun -np 2 --oversubscribe "$DS" run "$JOB" --out "$W/ref.h5" "${SETS[@]}" >"$W/logs/ref.log" 2>&1; then
  pass "reference: mpirun -np 2 depthscale run, uninterrupted ($((SECONDS - t)) s)"
else
  tail -n 20 "$W/logs/ref.log"
  fatal "reference run failed"
fi

# ---- 3. task farm: USR1 -> checkpoint, exit 3 -> requeue -> resume; afterok reduction ------------
t=$SECONDS
OUT="$W/farm/quickstart.h5"
LOGS="$W/farm/quickstart.slurm/logs"
submit "$W/submit-farm.txt" --out "$OUT" --ntasks 2 --time 00:10:00 --signal-seconds 60 "${SETS[@]}" \
  --account ds-e2e --sbatch-option=--comment=depthscale-e2e || fatal "depthscale submit (farm)"
farm=${SWEEP_IDS% }
red=$REDUCE_ID
echo "  farm job $farm, reduce job $red"
[ -s "$W/farm/quickstart.slurm/sweep.sbatch" ] && [ -s "$W/farm/quickstart.slurm/reduce.sbatch" ] \
  && [ -d "$LOGS" ] && pass "submit wrote sweep.sbatch, reduce.sbatch and logs/ beside the sweep file" \
  || fail "scripts or log folder missing in $W/farm/quickstart.slurm"
if wait_for 60 "first checkpoint of the farm" has_checkpoint "$OUT"; then
  pass "farm running, checkpoints in $(basename "$OUT").ckpt/tasks ($((SECONDS - t)) s)"
else
  fatal "farm job $farm wrote no checkpoint"
fi
[ "$(field "$farm" Account)" = ds-e2e ] && [ "$(field "$red" Account)" = ds-e2e ] \
  && [ "$(field "$farm" Comment)" = depthscale-e2e ] && [ "$(field "$red" Comment)" = depthscale-e2e ] \
  && pass "sbatch accepted --account and --sbatch-option on the sweep and the reduction job" \
  || fail "account/comment not on the jobs: $(field "$farm" Account) $(field "$farm" Comment) / $(field "$red" Account) $(field "$red" Comment)"
[ "$(field "$red" JobState)" = PENDING ] && pass "reduce job pending on its dependency ($(field "$red" Reason))" \
  || fail "reduce job $red should be pending, is $(field "$red" JobState)"

t_sig=$SECONDS
scancel --batch --signal=USR1 "$farm" || fail "scancel --batch --signal=USR1"
FLOG="$LOGS/quickstart-$farm.out"
if wait_for 60 "requeue after USR1" grep -q 'checkpointed: requeueing' "$FLOG"; then
  if grep -q 'depthscale exited with 3$' "$FLOG"; then
    pass "USR1: depthscale checkpointed and exited 3, the script requeued the job ($((SECONDS - t_sig)) s)"
  else
    fail "USR1: expected depthscale's own exit 3, log says: $(grep 'depthscale exited' "$FLOG" | head -n1)"
  fi
else
  fail "farm job $farm was not requeued after USR1"
fi
restarted() { grep -q "start (restart $2)" "$1"; }
if wait_for 60 "requeued farm restarts" restarted "$FLOG" 1; then
  pass "requeued job running again $((SECONDS - t_sig)) s after the signal"
else
  fail "farm job $farm did not restart"
fi
if wait_state "$farm" COMPLETED 150; then
  pass "farm job $farm COMPLETED ($((SECONDS - t)) s incl. the restart)"
else
  fail "farm job $farm"
fi
[ "$(field "$farm" Restarts)" = 1 ] && pass "scontrol: Restarts=1" || fail "Restarts=$(field "$farm" Restarts), wanted 1"
# The second start continued: some tasks were partial (checkpoints) or complete when it began.
resumed=$(grep -o 'quickstart: 16 tasks ([0-9]* complete, [0-9]* failed, [0-9]* partial)' "$FLOG" | sed -n 2p)
case $resumed in
  *'(0 complete, 0 failed, 0 partial)'|'') fail "restart did not resume: '${resumed:-no plan line}'" ;;
  *) pass "restart resumed: $resumed" ;;
esac
grep -q 'wall-time guard: DEPTHSCALE_DEADLINE=' "$FLOG" && pass "batch script exported DEPTHSCALE_DEADLINE from the job's end time" \
  || fail "no DEPTHSCALE_DEADLINE in $FLOG"
[ -s "$LOGS/quickstart-$farm.restart0/1/rank.0/stderr" ] && [ -e "$LOGS/quickstart-$farm.restart1/1/rank.1/stderr" ] && pass "per-rank logs in $(basename "$LOGS")/quickstart-$farm.restart0/1/rank.*/" \
  || fail "per-rank logs missing"
if wait_state "$red" COMPLETED 90 && has_fits "$OUT" && [ "$(figures "$W/farm/quickstart-figures")" -ge 3 ]; then
  pass "reduce job $red: /fits in the sweep file, $(figures "$W/farm/quickstart-figures") figures ($((SECONDS - t)) s)"
else
  fail "reduce job $red (fits or figures missing)"
fi
same_results "$OUT" && pass "farm results equal the uninterrupted run bit for bit" \
  || fail "farm results differ from the uninterrupted run"

# ---- 4. job array of 2 slices: USR1 to one element, SIGTERM everywhere to the other; merge ---------
t=$SECONDS
AOUT="$W/arr/quickstart.h5"
ALOGS="$W/arr/quickstart.slurm/logs"
submit "$W/submit-arr.txt" --out "$AOUT" --array 2 --time 00:10:00 --signal-seconds 60 "${SETS[@]}" \
  || fatal "depthscale submit (array)"
arr=${SWEEP_IDS% }
ared=$REDUCE_ID
echo "  array job $arr, reduce job $ared"
S0="$W/arr/quickstart-slice0.h5"
S1="$W/arr/quickstart-slice1.h5"
both_checkpoint() { has_checkpoint "$S0" && has_checkpoint "$S1"; }
if wait_for 90 "checkpoints of both elements" both_checkpoint; then
  pass "array elements running, each into its own slice file ($((SECONDS - t)) s)"
else
  fatal "array $arr wrote no checkpoints"
fi
scancel --batch --signal=USR1 "${arr}_0" || fail "scancel --batch --signal=USR1 ${arr}_0"
scancel --full --signal=TERM "${arr}_1" || fail "scancel --full --signal=TERM ${arr}_1"
L0="$ALOGS/quickstart-${arr}_0.out"
L1="$ALOGS/quickstart-${arr}_1.out"
both_restarted() { restarted "$L0" 1 && restarted "$L1" 1; }
if wait_for 90 "both elements restart" both_restarted; then
  pass "element 0 (USR1) and element 1 (SIGTERM to all processes) checkpointed, requeued and restarted"
else
  fail "array elements did not both restart"
fi
if wait_state "$arr" COMPLETED 150; then
  pass "array $arr COMPLETED ($((SECONDS - t)) s incl. restarts)"
else
  fail "array $arr"
fi
[ "$(field "$arr" Restarts | sort -u | tr '\n' ' ')" = "1 " ] && pass "scontrol: Restarts=1 for both elements" \
  || fail "Restarts: $(field "$arr" Restarts | tr '\n' ' '), wanted 1 for both"
# Each element requeued only itself: two starts, one requeue each; element 0 saw depthscale's own exit 3.
if [ "$(count 'start (restart' "$L0")" = 2 ] && [ "$(count 'start (restart' "$L1")" = 2 ] \
   && [ "$(count 'checkpointed: requeueing' "$L0")" = 1 ] && [ "$(count 'checkpointed: requeueing' "$L1")" = 1 ] \
   && grep -q 'depthscale exited with 3$' "$L0"; then
  pass "each element requeued only itself (two starts each; element 0: exit 3)"
else
  fail "array element logs: starts $(count 'start (restart' "$L0")/$(count 'start (restart' "$L1"), requeues $(count 'checkpointed: requeueing' "$L0")/$(count 'checkpointed: requeueing' "$L1")"
fi
if wait_state "$ared" COMPLETED 90 && grep -q 'merged 2 of 2 slice' "$ALOGS/quickstart-reduce-$ared.out" \
   && has_fits "$AOUT" && [ "$(figures "$W/arr/quickstart-figures")" -ge 3 ]; then
  pass "reduce job $ared merged the slices, wrote /fits and $(figures "$W/arr/quickstart-figures") figures"
else
  fail "array reduce job $ared"
fi
same_results "$AOUT" && pass "merged array results equal the uninterrupted run bit for bit" \
  || fail "merged array results differ from the uninterrupted run"
"$DS" status "$AOUT" | grep -Eq '^total +16 +0 +0 +0' && pass "depthscale status: 16 complete in the merged file" \
  || fail "status of the merged file: $("$DS" status "$AOUT" | tail -n1)"

# ---- 5. wall-time guard: units that cannot finish in the job's time are not started -----------------
# 100000 steps per student: by the cost model far more than the 4 minutes this job has before its
# SIGUSR1, so depthscale starts nothing and exits 3; a fresh allocation would not help, so the script
# does not requeue (no endless loop) and the job fails, taking its reduction with it.
t=$SECONDS
GOUT="$W/guard/quickstart.h5"
submit "$W/submit-guard.txt" --out "$GOUT" --ntasks 1 --time 00:05:00 --signal-seconds 60 \
  "${SETS[@]}" --set train.steps=100000 || fatal "depthscale submit (guard)"
guard=${SWEEP_IDS% }
gred=$REDUCE_ID
GLOG="$W/guard/quickstart.slurm/logs/quickstart-$guard.out"
if wait_state "$guard" FAILED 60 && [ "$(field "$guard" ExitCode)" = 3:0 ] \
   && grep -q 'cannot finish before the job' "$GLOG" && grep -q 'not requeueing' "$GLOG" \
   && [ "$(field "$guard" Restarts)" = 0 ]; then
  pass "wall-time guard: no unit started, exit 3, not requeued ($((SECONDS - t)) s)"
else
  fail "wall-time guard job $guard: $(field "$guard" JobState) exit $(field "$guard" ExitCode)"
fi
wait_state "$gred" CANCELLED 30 && pass "its reduction job was cancelled" || fail "reduction $gred after a failed sweep"

# ---- 6. merge refuses slices of another job ------------------------------------------------------
cp "$S1" "$W/other-slice1.h5"
"$PY" -c '
import sys, h5py
with h5py.File(sys.argv[1], "r+") as f:
    f.attrs["job_effective"] = f.attrs["job_effective"].replace("steps: 400", "steps: 700")' "$W/other-slice1.h5"
"$DS" merge "$S0" "$W/other-slice1.h5" --out "$W/mixed.h5" >"$W/merge-mixed.txt" 2>&1
rc=$?
if [ $rc = 2 ] && grep -q 'train.steps' "$W/merge-mixed.txt" && [ ! -e "$W/mixed.h5" ]; then
  pass "merge refuses a slice of another job (exit 2, names train.steps)"
else
  fail "merge of mismatched slices: exit $rc, $(cat "$W/merge-mixed.txt")"
fi

# ---- 7. a probe job as a job array: slices of its batches, merged and finalised by the reduction ----
t=$SECONDS
PW="$W/probe"
mkdir -p "$PW/logs"
PSETS=(--set probe.batch=6 --set run.threads=1)
if PJOB=$("$PY" "$ROOT/tests/e2e/probe_e2e.py" "$BUILD" --fixture "$PW/in" 2>"$PW/logs/fixture.log" | tail -n1) \
   && [ -f "$PJOB" ] && OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 \
   mpirun -np 2 --oversubscribe "$DS" run "$PJOB" --out "$PW/ref.h5" "${PSETS[@]}" >"$PW/logs/ref.log" 2>&1; then
  pass "probe reference: tiny GPT-NeoX, mpirun -np 2 depthscale run ($((SECONDS - t)) s)"
else
  cat "$PW/logs/fixture.log"; tail -n 20 "$PW/logs/ref.log"
  fatal "probe reference run failed"
fi
POUT="$PW/out/probe-e2e.h5"
"$DS" submit "$PJOB" --out "$POUT" --array 2 --time 00:10:00 --signal-seconds 60 "${PSETS[@]}" \
  >"$PW/submit.txt" 2>&1 || { cat "$PW/submit.txt"; fatal "depthscale submit (probe array)"; }
parr=$(awk '/^sweep job:/ {print $3}' "$PW/submit.txt" | head -n1)
pred=$(awk '/^reduce job:/ {print $3}' "$PW/submit.txt")
if wait_state "$parr" COMPLETED 150 && wait_state "$pred" COMPLETED 90; then
  pass "probe array $parr of 2 slices and its reduction $pred COMPLETED ($((SECONDS - t)) s)"
else
  fail "probe array $parr / reduction $pred"
fi
PRLOG="$PW/out/probe-e2e.slurm/logs/probe-e2e-reduce-$pred.out"
grep -q 'merged 2 of 2 slice(s)' "$PRLOG" && grep -q '1 models finished' "$PRLOG" \
  && [ "$(figures "$PW/out/probe-e2e-figures")" -ge 1 ] \
  && pass "the reduction merged the slices, finalised the model and drew $(figures "$PW/out/probe-e2e-figures") figures" \
  || fail "probe reduction log: $(tail -n 5 "$PRLOG" 2>/dev/null)"
if "$PY" - "$PW/ref.h5" "$POUT" <<'PY'
import sys, h5py, numpy as np
skip = {"wall_seconds", "host", "rank"}
def tree(path):
    out = {}
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            out["@" + name] = {k: np.asarray(v).tobytes() for k, v in obj.attrs.items() if k not in skip}
            if isinstance(obj, h5py.Dataset):
                out[name] = np.asarray(obj[()]).tobytes()
        f["probe"].visititems(visit)
    return out
a, b = tree(sys.argv[1]), tree(sys.argv[2])
bad = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
print(f"  {len(a)} objects under /probe compared" + (f"; DIFFER: {bad[:6]}" if bad else ""))
sys.exit(1 if bad or not a else 0)
PY
then
  pass "merged probe array equals the one-run file bit for bit (/probe)"
else
  fail "merged probe array differs from the one-run file"
fi

[ $fails = 0 ]
