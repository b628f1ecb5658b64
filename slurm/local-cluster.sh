#!/usr/bin/env bash
# Local single-node SLURM cluster for depthscale's tests (Debian 12: slurmctld, slurmd, munge; SLURM 22.05).
#
#   slurm/local-cluster.sh start  [STATE_DIR]   write config + munge key, start munged/slurmctld/slurmd,
#                                               wait until the node is idle (idempotent)
#   slurm/local-cluster.sh stop   [STATE_DIR]   cancel this cluster's jobs, stop the daemons in the pid files
#   slurm/local-cluster.sh status [STATE_DIR]   exit 0 when all three daemons run and the node answers
#   slurm/local-cluster.sh env    [STATE_DIR]   print `export SLURM_CONF=...` (eval "$(... env)")
#
# STATE_DIR defaults to /tmp/depthscale-slurm-$UID. Everything lives there: slurm.conf, munge key, socket,
# logs, pid files, spool and state. No systemd, no cgroups (proctrack/linuxproc, task/none). Must run as
# root: munged runs as the munge user (runuser) and the node runs jobs as whoever submits them.
#
# Environment:
#   DEPTHSCALE_SLURM_CTLD_PORT / DEPTHSCALE_SLURM_SLURMD_PORT  fixed ports (default: the first free pair
#                                               from 6817/6818 upwards, chosen at start)
#   DEPTHSCALE_SLURM_KEEP_STATE=1               keep jobs from the previous run (default: slurmctld -c, a
#                                               clean start, so a stale pending job never runs again)
#   DEPTHSCALE_SLURM_START_TIMEOUT              seconds to wait for the node to become idle (default 30)
set -euo pipefail

cmd=${1:-}
STATE=${2:-/tmp/depthscale-slurm-${UID:-$(id -u)}}
case "$STATE" in /*) ;; *) STATE="$(pwd)/$STATE" ;; esac

CONF="$STATE/slurm.conf"
MUNGE_DIR="$STATE/munge"
SOCKET="$MUNGE_DIR/munge.socket.2"
LOG="$STATE/log"
PID_MUNGED="$MUNGE_DIR/munged.pid"
PID_CTLD="$STATE/run/slurmctld.pid"
PID_SLURMD="$STATE/run/slurmd.pid"
NODE=$(uname -n)          # slurmctld compares its short hostname with SlurmctldHost
NODE=${NODE%%.*}
START_TIMEOUT=${DEPTHSCALE_SLURM_START_TIMEOUT:-30}

say() { echo "local-cluster: $*" >&2; }
# CPUs of this machine: GNU nproc answers OMP_NUM_THREADS when set (ctest sets it to 1), which would
# make a 1-CPU node on which no 2-rank job can ever start (Reason=PartitionConfig).
cpu_count() { env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc; }
die() { say "error: $*"; exit 1; }

usage() {
  awk 'NR > 1 && /^#/ {sub(/^# ?/, ""); print; next} NR > 1 {exit}' "$0" >&2
  exit 2
}

# pid from a pid file if that process is alive and is the expected program (guards against reused pids)
live_pid() { # file comm
  local f=$1 comm=$2 pid
  [ -s "$f" ] || return 1
  pid=$(tr -dc '0-9' 2>/dev/null <"$f") || return 1   # the daemon may remove it meanwhile
  [ -n "$pid" ] && [ -r "/proc/$pid/comm" ] || return 1
  [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$comm" ] || return 1
  # a zombie is not running
  [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ] || return 1
  echo "$pid"
}

tail_logs() {
  local f
  for f in "$MUNGE_DIR/munged.log" "$LOG/slurmctld.log" "$LOG/slurmd.log" "$LOG/slurmctld.stderr" "$LOG/slurmd.stderr"; do
    [ -s "$f" ] || continue
    say "---- last lines of $f"
    tail -n 15 "$f" >&2
  done
}

port_busy() { # port -> 0 when something listens on 127.0.0.1:port
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

pick_ports() {
  if [ -n "${DEPTHSCALE_SLURM_CTLD_PORT:-}" ] || [ -n "${DEPTHSCALE_SLURM_SLURMD_PORT:-}" ]; then
    CTLD_PORT=${DEPTHSCALE_SLURM_CTLD_PORT:-6817}
    SLURMD_PORT=${DEPTHSCALE_SLURM_SLURMD_PORT:-$((CTLD_PORT + 1))}
    return
  fi
  local p
  for p in $(seq 6817 2 6899); do
    if ! port_busy "$p" && ! port_busy "$((p + 1))"; then
      CTLD_PORT=$p; SLURMD_PORT=$((p + 1)); return
    fi
  done
  die "no free port pair in 6817..6900; set DEPTHSCALE_SLURM_CTLD_PORT"
}

write_config() {
  local cpus mem_kb mem_mb
  cpus=$(cpu_count)
  mem_kb=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)
  # 80% of MemTotal, at least 256 MB: slurmd drains a node whose RealMemory exceeds what it detects
  mem_mb=$(( mem_kb / 1024 * 8 / 10 ))
  [ "$mem_mb" -ge 256 ] || mem_mb=256
  pick_ports

  mkdir -p "$STATE/ctld" "$STATE/spool" "$STATE/run" "$LOG"
  chmod 0755 "$STATE"
  : >"$STATE/plugstack.conf"   # keep /etc/slurm/plugstack.conf.d (SPANK plugins) out of the test cluster

  cat >"$CONF.tmp" <<CONF
# Written by slurm/local-cluster.sh; rewritten at every start.
ClusterName=depthscale-local
SlurmctldHost=${NODE}(127.0.0.1)
SlurmctldPort=${CTLD_PORT}
SlurmdPort=${SLURMD_PORT}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
# socket: our own munged; cred_expire=10: a requeued job may start again 10 s after it ended (default 120)
AuthInfo=socket=${SOCKET},cred_expire=10
StateSaveLocation=${STATE}/ctld
SlurmdSpoolDir=${STATE}/spool
SlurmctldPidFile=${PID_CTLD}
SlurmdPidFile=${PID_SLURMD}
SlurmctldLogFile=${LOG}/slurmctld.log
SlurmdLogFile=${LOG}/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
PlugStackConfig=${STATE}/plugstack.conf
MailProg=/bin/true
# no systemd, no cgroups
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SwitchType=switch/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
# main scheduler every 2 s (default 60): with cred_expire=10 a requeued job restarts in ~11 s
SchedulerParameters=sched_interval=2
# 22.05: kill_invalid_depend belongs here; under SchedulerParameters it is ignored and a job whose
# afterok dependency failed stays pending forever
DependencyParameters=kill_invalid_depend
# keep finished jobs visible to scontrol for an hour (no slurmdbd, so no sacct)
MinJobAge=3600
MaxArraySize=1001
ReturnToService=2
KillWait=10
InactiveLimit=0
SlurmctldTimeout=60
SlurmdTimeout=60
NodeName=${NODE} NodeAddr=127.0.0.1 CPUs=${cpus} RealMemory=${mem_mb} State=UNKNOWN
PartitionName=debug Nodes=${NODE} Default=YES MaxTime=INFINITE State=UP
CONF
  mv "$CONF.tmp" "$CONF"
  chmod 0644 "$CONF"
}

start_munged() {
  if live_pid "$PID_MUNGED" munged >/dev/null; then return; fi
  id munge >/dev/null 2>&1 || die "no 'munge' user (apt-get install munge)"
  command -v munged >/dev/null || die "munged not found (apt-get install munge)"
  mkdir -p "$MUNGE_DIR"
  chown munge:munge "$MUNGE_DIR"
  chmod 0755 "$MUNGE_DIR"
  if [ ! -s "$MUNGE_DIR/munge.key" ]; then
    if command -v mungekey >/dev/null; then
      mungekey --create --keyfile="$MUNGE_DIR/munge.key" --force >/dev/null
    else
      dd if=/dev/urandom of="$MUNGE_DIR/munge.key" bs=1024 count=1 status=none
    fi
  fi
  chown munge:munge "$MUNGE_DIR/munge.key"
  chmod 0400 "$MUNGE_DIR/munge.key"
  rm -f "$SOCKET" "$SOCKET.lock" "$PID_MUNGED"
  # --force: tolerate odd ancestor-directory permissions (CI checkouts, /tmp); munged still refuses
  # to run if another daemon answers on this socket.
  runuser -u munge -- munged --force \
    --socket="$SOCKET" --key-file="$MUNGE_DIR/munge.key" --log-file="$MUNGE_DIR/munged.log" \
    --pid-file="$PID_MUNGED" --seed-file="$MUNGE_DIR/munged.seed" \
    || { tail_logs; die "munged failed to start"; }
  local i
  for i in $(seq 1 50); do
    [ -S "$SOCKET" ] && live_pid "$PID_MUNGED" munged >/dev/null && return
    sleep 0.1
  done
  tail_logs; die "munged did not create $SOCKET"
}

node_state() {
  SLURM_CONF="$CONF" timeout 10 sinfo -h -n "$NODE" -o '%T' 2>/dev/null | head -n1
}

cmd_start() {
  [ "$(id -u)" = 0 ] || die "must run as root (munged runs as the munge user; the node runs jobs as root)"
  local c
  for c in slurmctld slurmd sinfo scontrol runuser; do
    command -v "$c" >/dev/null || die "$c not found (apt-get install slurmctld slurmd slurm-client munge)"
  done
  if status_quiet; then
    say "already running (state $STATE)"
    return 0
  fi
  # partly running (e.g. a crash): stop what is left so the config can be rewritten consistently
  if live_pid "$PID_CTLD" slurmctld >/dev/null || live_pid "$PID_SLURMD" slurmd >/dev/null; then
    say "partly running: restarting"
    cmd_stop
  fi
  mkdir -p "$STATE"
  write_config
  start_munged
  local clean=-c
  [ "${DEPTHSCALE_SLURM_KEEP_STATE:-0}" = 1 ] && clean=
  # both daemonize; they write their pid files themselves (SlurmctldPidFile/SlurmdPidFile)
  slurmctld -f "$CONF" $clean 2>>"$LOG/slurmctld.stderr" || { tail_logs; die "slurmctld failed to start"; }
  slurmd -f "$CONF" -N "$NODE" 2>>"$LOG/slurmd.stderr" || { tail_logs; die "slurmd failed to start"; }

  local deadline=$(( SECONDS + START_TIMEOUT )) st= resumed=0
  while [ $SECONDS -lt $deadline ]; do
    st=$(node_state || true)
    case "$st" in
      idle|mixed|allocated) break ;;
      drain*|down*|fail*)
        if [ $resumed = 0 ]; then
          SLURM_CONF="$CONF" scontrol update NodeName="$NODE" State=RESUME >/dev/null 2>&1 || true
          resumed=1
        fi ;;
    esac
    if ! live_pid "$PID_CTLD" slurmctld >/dev/null && [ $SECONDS -gt $((deadline - START_TIMEOUT + 3)) ]; then
      tail_logs; die "slurmctld exited during start-up"
    fi
    sleep 0.2
  done
  case "$st" in
    idle|mixed|allocated) ;;
    *) tail_logs; die "node $NODE not idle after ${START_TIMEOUT}s (state: '${st:-no answer}')" ;;
  esac
  say "up: node $NODE $st, $(cpu_count) CPUs, ports $CTLD_PORT/$SLURMD_PORT, state $STATE"
  say "use: eval \"\$($0 env $STATE)\""
}

stop_pid() { # file comm
  local pid i
  pid=$(live_pid "$1" "$2") || { rm -f "$1"; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 100); do   # 10 s
    live_pid "$1" "$2" >/dev/null || { rm -f "$1"; return 0; }
    sleep 0.1
  done
  say "$2 (pid $pid) ignored SIGTERM for 10 s: SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  for i in $(seq 1 50); do
    live_pid "$1" "$2" >/dev/null || { rm -f "$1"; return 0; }
    sleep 0.1
  done
  say "warning: $2 (pid $pid) still alive"
}

cmd_stop() {
  local ids i
  if live_pid "$PID_CTLD" slurmctld >/dev/null; then
    # jobs outlive slurmd (slurmstepd is their parent): cancel this cluster's jobs first
    ids=$(SLURM_CONF="$CONF" timeout 10 squeue -h -o '%A' 2>/dev/null | tr '\n' ' ' || true)
    if [ -n "${ids// /}" ]; then
      say "cancelling jobs: $ids"
      # shellcheck disable=SC2086
      SLURM_CONF="$CONF" timeout 10 scancel $ids 2>/dev/null || true
      for i in $(seq 1 75); do  # up to 15 s (KillWait=10)
        [ -z "$(SLURM_CONF="$CONF" timeout 5 squeue -h -o '%A' 2>/dev/null)" ] && break
        sleep 0.2
      done
    fi
  fi
  stop_pid "$PID_SLURMD" slurmd
  stop_pid "$PID_CTLD" slurmctld
  stop_pid "$PID_MUNGED" munged
  say "stopped (state $STATE)"
}

status_quiet() {
  live_pid "$PID_MUNGED" munged >/dev/null && live_pid "$PID_CTLD" slurmctld >/dev/null \
    && live_pid "$PID_SLURMD" slurmd >/dev/null && [ -n "$(node_state || true)" ]
}

cmd_status() {
  local name file comm pid ok=0
  for name in munged:"$PID_MUNGED" slurmctld:"$PID_CTLD" slurmd:"$PID_SLURMD"; do
    comm=${name%%:*}; file=${name#*:}
    if pid=$(live_pid "$file" "$comm"); then echo "$comm: running (pid $pid)"; else echo "$comm: stopped"; ok=1; fi
  done
  if [ $ok = 0 ]; then
    echo "node $NODE: $(node_state || echo 'no answer')"
    SLURM_CONF="$CONF" timeout 10 squeue 2>/dev/null || true
    status_quiet || ok=1
  fi
  return $ok
}

case "$cmd" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  env) echo "export SLURM_CONF=$CONF" ;;
  *) usage ;;
esac
