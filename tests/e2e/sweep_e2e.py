#!/usr/bin/env python3
"""End-to-end tests of `depthscale run` with real mpirun processes and real HDF5 files.

Each case runs a small sweep, interferes with it the way a cluster would (SIGKILL at a random
moment, SIGTERM, a worker rank dying, a task throwing, a corrupted file, a changed job), resumes,
and compares the result with an uninterrupted run bit for bit (h5py). Usage:

    sweep_e2e.py BUILD_DIR CASE      (CASE: ranks, sigkill, sigterm, worker_dies, task_throws,
                                      changed_job, corrupt, dry_run, axes, status, two_writers,
                                      disk_full, long_keys, planning, foreign_sidecar,
                                      foreign_file, zeroed_done, bad_checkpoint, teachers,
                                      status_damage, schema)

Exit 77 means the case was skipped (disk_full without the right to mount a tmpfs).
"""
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np

JOB = """name: e2e
kind: toy
seed: 4242
grid:
  temperature: [0.5, 1.0]
  rho: [0.0, 1.0]
  depth: [2, 4, 8]
  teacher: [0]
model: {width: 16, vocab: 32, teacher_depth: 16}
train:
  loss: kl
  steps: 600
  batch: 128
  lr: {base: 3.0e-3, depth_scaling: inv_sqrt, schedule: linear_tail}
  eval: {every: 100, batches: 2}
  checkpoint_every: 50
probe_hidden: {inputs: 64}
"""

ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
           OMP_NUM_THREADS="1", DEPTHSCALE_PROGRESS_SECONDS="1")


class Failure(Exception):
    pass


class Skip(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)
    print("  ok:", what)


class Sweep:
    def __init__(self, build, workdir):
        self.exe = os.path.join(build, "apps", "depthscale")
        self.dir = workdir
        self.job = os.path.join(workdir, "e2e.yaml")
        with open(self.job, "w") as f:
            f.write(JOB)

    def cmd(self, np_, out, *extra):
        base = [self.exe, "run", self.job, "--out", out, *extra]
        if np_ is None:
            return base
        return ["mpirun", "-np", str(np_), "--oversubscribe", *base]

    def run(self, np_, out, *extra, env=None, timeout=600):
        p = subprocess.run(self.cmd(np_, out, *extra), env=env or ENV, timeout=timeout,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        return p.returncode, p.stdout

    def start(self, np_, out, *extra, env=None):
        log = open(out + ".log", "w")
        return subprocess.Popen(self.cmd(np_, out, *extra), env=env or ENV, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)

    def tool(self, *args):
        p = subprocess.run([self.exe, *args], env=ENV, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=120)
        return p.returncode, p.stdout


def kill_everything(tag, sig=signal.SIGKILL):
    """Kills every process whose command line mentions `tag` (the run's unique --out path)."""
    subprocess.run(["pkill", "-" + str(int(sig)), "-f", tag])


def wait_for_checkpoint(out, timeout=120):
    """Waits until the run has written at least one checkpoint or result."""
    ck = out + ".ckpt"
    t0 = time.time()
    while time.time() - t0 < timeout:
        for sub in ("tasks", "done"):
            d = os.path.join(ck, sub)
            if os.path.isdir(d) and any(n.endswith(".h5") for n in os.listdir(d)):
                return
        time.sleep(0.1)
    raise Failure("no checkpoint appeared in %s within %d s" % (ck, timeout))


def wait_for_log(path, text, timeout=120):
    """Waits until the run's log contains `text` (its units are running)."""
    t0 = time.time()
    while time.time() - t0 < timeout:
        if os.path.exists(path) and text in open(path, errors="replace").read():
            return
        time.sleep(0.1)
    raise Failure("%r did not appear in %s within %d s" % (text, path, timeout))


def task_arrays(path):
    """{key: {name: array}} of the complete tasks, plus their grid attrs."""
    out = {}
    with h5py.File(path, "r") as f:
        for key, g in f["tasks"].items():
            if g.attrs.get("status") != "complete":
                continue
            d = {}
            for name in ("train_loss", "eval_step", "test_loss",
                         "hidden/theta", "hidden/theta_dh", "hidden/norms"):
                d[name] = g[name][()]
            for a in ("temperature", "rho", "depth", "teacher"):
                d["@" + a] = g.attrs[a]
            out[key] = d
    return out


def same_results(a_path, b_path, expect_tasks):
    a, b = task_arrays(a_path), task_arrays(b_path)
    check(len(a) == expect_tasks, "%s has all %d tasks complete (%d)" % (a_path, expect_tasks, len(a)))
    check(sorted(a) == sorted(b), "same complete tasks in both files")
    for key in a:
        for name in a[key]:
            x, y = a[key][name], b[key][name]
            if isinstance(x, np.ndarray):
                if x.dtype != y.dtype or x.shape != y.shape or not np.array_equal(x, y):
                    diff = np.max(np.abs(x.astype(float) - y.astype(float))) if x.shape == y.shape else "shape"
                    raise Failure("%s %s differs (max |diff| %s)" % (key, name, diff))
            elif x != y:
                raise Failure("%s %s differs: %r vs %r" % (key, name, x, y))
    print("  ok: every array of every task is bit-identical")


N_TASKS = 12


def reference(s):
    ref = os.path.join(s.dir, "ref.h5")
    t0 = time.time()
    rc, log = s.run(3, ref)
    check(rc == 0, "uninterrupted 3-rank run exits 0 (rc %d)\n%s" % (rc, log[-3000:]))
    return ref, time.time() - t0


def case_ranks(s):
    ref, _ = reference(s)
    for np_ in (1, 2):
        out = os.path.join(s.dir, "np%d.h5" % np_)
        rc, log = s.run(np_, out)
        check(rc == 0, "%d-rank run exits 0" % np_)
        same_results(ref, out, N_TASKS)
    # and a plain process, no mpirun (singleton MPI)
    out = os.path.join(s.dir, "plain.h5")
    rc, log = s.run(None, out)
    check(rc == 0, "run without mpirun exits 0 (rc %d)\n%s" % (rc, log[-2000:]))
    same_results(ref, out, N_TASKS)
    with h5py.File(ref, "r") as f:
        check(f.attrs["format"] == "depthscale-sweep", "root format attr")
        check("rho0_t0" in f["teachers"] and f["teachers/rho0_t0/hidden/theta"].shape == (64, 16),
              "teacher probes written")


def case_sigkill(s):
    # Long enough (several seconds of training) that random kill times land inside the run.
    with open(s.job, "w") as f:
        f.write(JOB.replace("steps: 600", "steps: 2400"))
    ref, seconds = reference(s)
    out = os.path.join(s.dir, "killed.h5")
    rng = random.Random(int(os.environ.get("E2E_SEED", time.time())))
    kills = 0
    for attempt in range(3):
        p = s.start(3, out, "--resume")
        if attempt == 0:
            wait_for_checkpoint(out)
            # status reads the file while the run writes it (no locking, no fight)
            rc, st = s.tool("status", out)
            check(rc == 0 and "total" in st, "status works during the run\n" + st)
        delay = rng.uniform(0.2, max(0.5, 0.5 * seconds))
        time.sleep(delay)
        if p.poll() is None:
            kill_everything(out)
            p.wait()
            kills += 1
            print("  killed with SIGKILL after %.2f s" % delay)
        else:
            break
    check(kills >= 1, "the run was killed at least once")
    check(os.path.exists(out + ".lock"), "the killed run left its lock file behind")
    rc, log = s.run(3, out, "--resume")
    check(rc == 0, "resume after SIGKILL exits 0 (rc %d)\n%s" % (rc, log[-3000:]))
    same_results(ref, out, N_TASKS)


def case_sigterm(s):
    """The stop signals as clusters deliver them: SIGUSR1 to mpirun (forwarded to every rank; SLURM's
    --signal=B:USR1), SIGTERM to every rank (SLURM preemption), and SIGINT twice to a plain process
    (Ctrl-C, then impatience). Each leaves a file that resumes to the uninterrupted result."""
    ref, seconds = reference(s)
    out = os.path.join(s.dir, "term.h5")
    p = s.start(3, out)
    wait_for_checkpoint(out)
    time.sleep(0.3)
    p.send_signal(signal.SIGUSR1)
    rc = p.wait(timeout=120)
    log = open(out + ".log").read()
    check(rc == 3, "SIGUSR1 to mpirun → exit code 3 (rc %d)\n%s" % (rc, log[-3000:]))
    check("stop requested" in log, "rank 0 logged the stop")
    check("resume with: depthscale run " + s.job + " --out " + out + " --resume" in log,
          "the stop says how to resume\n" + log[-1500:])
    rc, st = s.tool("status", out)
    check(rc == 0 and "partial" in st, "status after the stop shows the table\n" + st)

    p = s.start(3, out, "--resume")
    wait_for_log(out + ".log", "started")  # a worker rank is training
    ranks = rank_pids(out)
    check(len(ranks) == 3, "found the 3 ranks (%s)" % ranks)
    for pid in ranks:
        os.kill(pid, signal.SIGTERM)
    rc = p.wait(timeout=120)
    log = open(out + ".log").read()
    check(rc == 3, "SIGTERM to every rank → exit code 3 (rc %d)\n%s" % (rc, log[-3000:]))

    p = s.start(None, out, "--resume")
    wait_for_log(out + ".log", "→ rank 0")
    p.send_signal(signal.SIGINT)
    time.sleep(0.05)
    p.send_signal(signal.SIGINT)
    rc = p.wait(timeout=60)
    check(rc == 3, "second SIGINT exits at once with code 3 (rc %d)" % rc)

    rc, log = s.run(3, out, "--resume")
    check(rc == 0, "resume after the stops exits 0 (rc %d)\n%s" % (rc, log[-3000:]))
    same_results(ref, out, N_TASKS)


# Open MPI's abort banners. ("mpirun: Forwarding signal 10 to job" is not one: it says what the
# launcher did.)
BANNERS = ("-----", "Primary job", "aborted", "mpirun noticed", "exiting improperly")


def case_exit_codes(s):
    """The exit-code matrix: every way a run is stopped, and what the shell sees. Through the
    launcher (`run -n N`) every stop signal, to the launcher or to one rank, gives 3 with the
    resume line and no Open MPI banner; a double signal gives 3 at once. Under plain mpirun,
    SIGUSR1 (what SLURM sends) gives 3; SIGTERM/SIGINT to mpirun give Open MPI's own 1 while every
    rank checkpoints (the log and status tell). After all of them the file is a partial sweep with
    no failed task (case sigterm shows that such stops resume bit-identical)."""
    with open(s.job, "w") as f:
        f.write(JOB.replace("steps: 600", "steps: 20000"))
    out = os.path.join(s.dir, "codes.h5")
    launcher = [s.exe, "run", s.job, "--out", out, "-n", "3", "--mpirun-arg=--oversubscribe"]

    def start(cmd):
        log = open(out + ".log", "w")
        return subprocess.Popen(cmd, env=ENV, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)

    def stop(cmd, what, signals, target="launcher", expect=3, clean=True):
        first = not os.path.exists(out)
        p = start(cmd if first else cmd + ["--resume"])
        wait_for_log(out + ".log", "started")
        time.sleep(0.5)
        t0 = time.time()
        for sig in signals:
            if target == "launcher":
                p.send_signal(sig)
            elif target == "terminal":  # Ctrl-C: the signal goes to the foreground group
                os.killpg(p.pid, sig)
            else:  # one worker rank, not rank 0
                ranks = {r: pid for pid, r in rank_pids(out).items()}
                os.kill(ranks[1], sig)
            time.sleep(0.05)
        rc = p.wait(timeout=120)
        seconds = time.time() - t0
        log = open(out + ".log", errors="replace").read()
        check(rc == expect, "%s → exit code %d (rc %d, %.1f s)\n%s" % (what, expect, rc, seconds,
                                                                        log[-2500:]))
        if clean:
            check("resume with: depthscale run " + s.job + " --out " + out in log,
                  "%s: the log ends with the resume line" % what)
            shown = [b for b in BANNERS if b in log]
            check(not shown, "%s: no Open MPI banner (%s)" % (what, shown))
        return log

    stop(launcher, "Ctrl-C to `run -n 3`", [signal.SIGINT], target="terminal")
    for sig, name in ((signal.SIGTERM, "SIGTERM"), (signal.SIGHUP, "SIGHUP"),
                      (signal.SIGUSR1, "SIGUSR1")):
        stop(launcher, "%s to `run -n 3`" % name, [sig])
    log = stop(launcher, "SIGTERM to one worker rank of `run -n 3`", [signal.SIGTERM],
               target="rank")
    check("stopped on a signal of its own: stopping the run" in log,
          "a signal to one rank stops the whole run")
    stop(launcher, "SIGUSR1 to one worker rank of `run -n 3`", [signal.SIGUSR1], target="rank")
    stop(launcher, "Ctrl-C twice to `run -n 3`", [signal.SIGINT, signal.SIGINT], target="terminal",
         clean=False)

    plain = s.cmd(3, out)
    stop(plain, "SIGUSR1 to mpirun", [signal.SIGUSR1], clean=False)
    stop(plain, "SIGTERM to one worker rank under mpirun", [signal.SIGTERM], target="rank",
         clean=False)
    for sig, name in ((signal.SIGTERM, "SIGTERM"), (signal.SIGINT, "SIGINT")):
        log = stop(plain, "%s to plain mpirun (Open MPI's own code)" % name, [sig], expect=1,
                   clean=False)
        check("stopped after checkpointing; resume with" in log,
              "%s to plain mpirun: rank 0 still checkpointed and said how to resume" % name)
        rc, st = s.tool("status", out)
        check("run: stopped after checkpointing" in st, "status says the run was stopped\n" + st[-400:])

    rc, st = s.tool("status", out)
    total = [l.split() for l in st.splitlines() if l.startswith("total")]
    counts = [int(x) for x in total[0][1:5]] if total else []
    check(rc == 0 and len(counts) == 4 and sum(counts) == N_TASKS and counts[2] == 0
          and counts[1] > 0,
          "after eleven stops no task failed and the stopped ones are checkpointed\n" + st[-800:])


def rank_pids(tag):
    """pid → MPI rank of the processes of the run tagged `tag`."""
    found = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmd = open("/proc/%s/cmdline" % pid, "rb").read().split(b"\0")
            if not cmd or not cmd[0].endswith(b"depthscale") or tag.encode() not in b" ".join(cmd):
                continue
            env = open("/proc/%s/environ" % pid, "rb").read().split(b"\0")
            for e in env:
                if e.startswith(b"OMPI_COMM_WORLD_RANK="):
                    found[int(pid)] = int(e.split(b"=")[1])
        except OSError:
            pass
    return found


def case_worker_dies(s):
    ref, _ = reference(s)
    out = os.path.join(s.dir, "workerdies.h5")
    p = s.start(3, out)
    wait_for_checkpoint(out)
    ranks = rank_pids(out)
    victims = [pid for pid, r in ranks.items() if r == 2]
    check(len(victims) == 1, "found worker rank 2 (%s)" % ranks)
    os.kill(victims[0], signal.SIGKILL)
    rc = p.wait(timeout=120)
    kill_everything(out)
    check(rc != 0, "mpirun reports the dead rank (rc %d)" % rc)
    rc, log = s.run(3, out, "--resume")
    check(rc == 0, "resume after a worker died exits 0 (rc %d)\n%s" % (rc, log[-3000:]))
    same_results(ref, out, N_TASKS)


def case_task_throws(s):
    ref, _ = reference(s)
    out = os.path.join(s.dir, "throws.h5")
    bad = "rho1_T0.5_t0_d4"
    env = dict(ENV, DEPTHSCALE_FAIL_TASK=bad + "@120")
    rc, log = s.run(3, out, env=env)
    check(rc == 4, "a task that throws → exit code 4 (rc %d)\n%s" % (rc, log[-3000:]))
    with h5py.File(out, "r") as f:
        g = f["tasks"][bad]
        check(g.attrs["status"] == "failed", "failed task recorded as failed")
        check("injected failure" in g.attrs["error"], "its error is stored: " + g.attrs["error"])
        others = [k for k in f["tasks"] if k != bad]
        check(all(f["tasks"][k].attrs["status"] == "complete" for k in others),
              "every other task completed")
    rc, st = s.tool("status", out)
    total = [l for l in st.splitlines() if l.startswith("total")]
    check(rc == 0 and total and " 1 " in total[0], "status counts the failure\n" + st)
    check("failed tasks (1;" in st and ("  %s: step 120: injected failure" % bad) in st,
          "status shows the failed task and its error\n" + st)
    rc, log = s.run(2, out, "--resume")
    check(rc == 4, "--resume without --retry-failed leaves it failed (rc %d)" % rc)
    rc, log = s.run(2, out, "--resume", "--retry-failed")
    check(rc == 0, "--retry-failed reruns it (rc %d)\n%s" % (rc, log[-3000:]))
    same_results(ref, out, N_TASKS)


def case_changed_job(s):
    out = os.path.join(s.dir, "changed.h5")
    rc, log = s.run(2, out, "--set", "grid.depth=[2,4]")
    check(rc == 0, "small run exits 0")
    rc, log = s.run(2, out, "--resume", "--set", "grid.depth=[2,4]", "--set", "train.steps=300")
    check(rc == 2 and "train.steps" in log, "changed steps refused with exit 2 naming the key\n" + log[-1500:])
    rc, log = s.run(2, out, "--set", "grid.depth=[2,4]")
    check(rc == 2 and "--resume" in log, "existing file without --resume refused\n" + log[-800:])
    rc, log = s.run(2, out, "--resume")  # adds depth 8
    check(rc == 0, "adding grid points is accepted (rc %d)\n%s" % (rc, log[-2000:]))
    check("4 to run" in log or "4 to run" in log.replace("  ", " "), "only the 4 new tasks run\n" + log[-2000:])
    ref, _ = reference(s)
    same_results(ref, out, N_TASKS)
    bad = os.path.join(s.dir, "bad.yaml")
    with open(bad, "w") as f:
        f.write(JOB.replace("steps: 600", "steps: -3"))
    p = subprocess.run(s.cmd(None, os.path.join(s.dir, "x.h5")) [:2] + [bad], env=ENV,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    check(p.returncode == 2 and "bad.yaml:" in p.stdout and "train.steps" in p.stdout,
          "invalid job file → exit 2 naming file, line and key\n" + p.stdout)


def case_corrupt(s):
    ref, _ = reference(s)
    out = os.path.join(s.dir, "corrupt.h5")
    shutil.copy(ref, out)
    shutil.copytree(ref + ".ckpt", out + ".ckpt")
    size = os.path.getsize(out)
    with open(out, "r+b") as f:
        f.truncate(size // 2)
    rc, st = s.tool("status", out)
    check(rc == 1 and "truncated or corrupt" in st, "status names the damage\n" + st)
    rc, log = s.run(2, out, "--resume")
    check(rc == 0, "resume rebuilds the file from the sidecar (rc %d)\n%s" % (rc, log[-3000:]))
    check(any(n.startswith("corrupt.h5.corrupt-") for n in os.listdir(s.dir)),
          "the damaged file is kept aside")
    same_results(ref, out, N_TASKS)


def case_dry_run(s):
    out = os.path.join(s.dir, "dry.h5")
    rc, log = s.run(None, out, "--dry-run")
    check(rc == 0 and not os.path.exists(out), "--dry-run exits 0 and writes nothing")
    check(log.count("pending") == N_TASKS, "lists all %d tasks as pending" % N_TASKS)
    check("core-hours" in log and "per-student loop" in log and "largest work unit" in log,
          "prints the cost estimate, the original's cost and the memory per unit\n" + log[-1500:])
    check("wall time on 1 rank(s)" in log, "prints the wall time at the ranks it was started with")
    check("effective job" in log and "  depth: [2, 4, 8]" in log, "prints the effective job")
    check("grid.depth has 3 depth(s)" in log and "at least 4" in log,
          "warns that 3 depths cannot be fitted")
    rc, log = s.run(2, out, "--dry-run", "--set", "grid.depth=[2, 4, 8, 16]")
    check(rc == 0 and "wall time on 2 rank(s)" in log and "at least 4" not in log,
          "2 ranks: their wall time, and no warning with 4 depths\n" + log[-800:])
    rc, _ = s.run(2, out, "--set", "grid.rho=[0.0]")
    rc, log = s.run(None, out, "--dry-run")
    check(log.count("complete") >= 6 and log.count("pending") == 6,
          "after a partial grid: 6 complete, 6 pending\n" + log)


def case_axes(s):
    """The axes beyond the study's: teacher groups K = 1 and K = l* are the rho = 1 and rho = 0
    teachers (their probes in the files are identical); students of other widths run, resume and
    are decomposed across width, depth and data."""
    base = JOB.replace("  temperature: [0.5, 1.0]\n", "  temperature: [1.0]\n") \
              .replace("steps: 600", "steps: 300")
    groups_job = base.replace("  rho: [0.0, 1.0]\n", "  teacher_groups: [1, 4, 16]\n")
    with open(s.job, "w") as f:
        f.write(groups_job)
    groups = os.path.join(s.dir, "groups.h5")
    rc, log = s.run(2, groups)
    check(rc == 0, "teacher-groups sweep exits 0 (rc %d)\n%s" % (rc, log[-2000:]))
    with open(s.job, "w") as f:
        f.write(base)
    rhos = os.path.join(s.dir, "rho.h5")
    rc, log = s.run(2, rhos)
    check(rc == 0, "rho sweep exits 0 (rc %d)\n%s" % (rc, log[-2000:]))
    with h5py.File(groups, "r") as g, h5py.File(rhos, "r") as r:
        check(sorted(g["teachers"]) == ["K4_t0", "rho0_t0", "rho1_t0"],
              "K = 1 and K = 16 are stored as the rho = 1 and rho = 0 teachers (%s)" % sorted(g["teachers"]))
        for key in ("rho0_t0", "rho1_t0"):
            for name in ("theta", "theta_dh", "norms"):
                a, b = g["teachers/%s/hidden/%s" % (key, name)][()], r["teachers/%s/hidden/%s" % (key, name)][()]
                if not np.array_equal(a, b):
                    raise Failure("teacher %s %s differs between K and rho sweeps" % (key, name))
        print("  ok: the teachers' probes of K = 1 and K = 16 equal those of rho = 1 and rho = 0 bit for bit")
        check(g["teachers/K4_t0"].attrs["teacher_groups"] == 4, "the K = 4 teacher records K")
        t = g["tasks/K4_T1_t0_d4"]
        check(t.attrs["teacher_groups"] == 4 and t.attrs["rho"] == 1.0, "tasks record K (and rho 1 within groups)")
        # Layers tied within a group: the K = 1 teacher's consecutive hidden states turn by the
        # same angle pattern as rho = 1; K = 4's angles differ from both.
        k4 = g["teachers/K4_t0/hidden/theta"][()]
        check(not np.array_equal(k4, g["teachers/rho0_t0/hidden/theta"][()]), "K = 4 is a teacher of its own")

    width_job = base.replace("  rho: [0.0, 1.0]\n", "  width: [12, 16, 24]\n")
    with open(s.job, "w") as f:
        f.write(width_job)
    wide = os.path.join(s.dir, "width.h5")
    p = s.start(2, wide)
    wait_for_checkpoint(wide)
    kill_everything(wide)
    p.wait()
    rc, log = s.run(2, wide, "--resume")
    check(rc == 0, "width sweep resumed after SIGKILL exits 0 (rc %d)\n%s" % (rc, log[-2000:]))
    ref = os.path.join(s.dir, "width_ref.h5")
    rc, log = s.run(1, ref)
    check(rc == 0, "uninterrupted width sweep exits 0")
    same_results(ref, wide, 3 * 3)
    with h5py.File(wide, "r") as f:
        t = f["tasks/rho0_T1_t0_m24_d4"]
        check(t.attrs["width"] == 24 and t["hidden/norms"].shape == (64, 5), "a width-24 student's probes")
    rc, log = s.tool("reduce", wide, "--decompose", "--out", os.path.join(s.dir, "dec"))
    check(rc == 0, "reduce --decompose exits 0 (rc %d)\n%s" % (rc, log[-2000:]))
    check(os.path.getsize(os.path.join(s.dir, "dec", "rho0_L16_T1", "fit.csv")) > 0
          if os.path.isdir(os.path.join(s.dir, "dec", "rho0_L16_T1")) else False,
          "the decomposition wrote its fit (%s)" % os.listdir(os.path.join(s.dir, "dec")))


def case_status(s):
    """status tells a running sweep from a stalled and a dead one (the run's heartbeat, written
    every second here), with live progress and an ETA; and how a finished or stopped run ended."""
    with open(s.job, "w") as f:
        f.write(JOB.replace("steps: 600", "steps: 4000"))
    out = os.path.join(s.dir, "status.h5")
    p = s.start(2, out)
    t0 = time.time()
    while not os.path.exists(out + ".ckpt/heartbeat") and time.time() - t0 < 120:
        time.sleep(0.2)
    time.sleep(1.5)
    rc, st = s.tool("status", out)
    check(rc == 0 and "run: running" in st and "student-steps" in st and "ETA" in st,
          "a running sweep: running, with progress and an ETA\n" + st[-600:])
    subprocess.run(["pkill", "-STOP", "-f", out])
    time.sleep(7)
    rc, st = s.tool("status", out)
    check("run: stalled: no heartbeat for" in st and "alive but silent" in st,
          "a stopped process: stalled\n" + st[-600:])
    subprocess.run(["pkill", "-CONT", "-f", out])
    kill_everything(out)
    p.wait()
    t0 = time.time()  # until the killed ranks are gone (reaped), not only signalled
    while subprocess.run(["pgrep", "-f", out], stdout=subprocess.DEVNULL).returncode == 0 \
            and time.time() - t0 < 20:
        time.sleep(0.2)
    rc, st = s.tool("status", out)
    check("run: dead: its process" in st and "--resume" in st, "a killed run: dead, and how to resume\n" + st[-600:])
    p = s.start(2, out, "--resume")
    wait_for_log(out + ".log", "started")
    time.sleep(2)
    p.send_signal(signal.SIGUSR1)
    p.wait(timeout=120)
    rc, st = s.tool("status", out)
    check("run: stopped after checkpointing" in st and "--resume" in st,
          "a run stopped by SIGUSR1: stopped, and how to resume\n" + st[-600:])
    rc, log = s.run(2, out, "--resume")
    check(rc == 0, "the resumed run finishes (rc %d)" % rc)
    rc, st = s.tool("status", out)
    check("run: finished" in st, "a finished run: finished\n" + st[-400:])


def case_two_writers(s):
    """One writer at a time: a second `run --resume` on a file a run is writing is refused at once
    (exit 1, naming the holder), and so are `reduce` and a dry run, while `status` still reads it;
    the first run finishes with the results of an uninterrupted one."""
    ref, _ = reference(s)
    out = os.path.join(s.dir, "two.h5")
    p = s.start(2, out)
    wait_for_log(out + ".log", "started")
    ranks = rank_pids(out)
    holder = [pid for pid, r in ranks.items() if r == 0]
    check(len(holder) == 1, "found rank 0 of the first run (%s)" % holder)
    # Paused (it keeps its lock) so that it is surely still running while the others try.
    for pid in ranks:
        os.kill(pid, signal.SIGSTOP)
    t0 = time.time()
    rc, log = s.run(2, out, "--resume", timeout=120)
    seconds = time.time() - t0
    check(rc == 1, "a second run on the same --out exits 1 (rc %d, %.1f s)\n%s" % (rc, seconds,
                                                                                     log[-2000:]))
    check(out + " is in use" in log and "pid %d" % holder[0] in log and "started 20" in log
          and "`depthscale run` on host " in log,
          "it names the holder (host, pid %d, start time)\n%s" % (holder[0], log[-1500:]))
    check("stopping the workers" not in log and "→ rank" not in log,
          "the second run started nothing")
    check(p.poll() is None, "the first run is still running (the refusal took %.1f s)" % seconds)
    rc, log = s.tool("reduce", out)
    check(rc == 1 and "is in use" in log and "pid %d" % holder[0] in log,
          "reduce is refused while the run holds the lock (rc %d)\n%s" % (rc, log[-800:]))
    rc, log = s.run(None, out, "--dry-run")
    check(rc == 1 and "is in use" in log, "a dry run (which may repair the file) is refused too")
    rc, st = s.tool("status", out)
    check(rc == 0 and "total" in st, "status reads the file meanwhile\n" + st[-600:])
    for pid in ranks:
        os.kill(pid, signal.SIGCONT)
    rc = p.wait(timeout=300)
    log = open(out + ".log").read()
    check(rc == 0, "the first run finishes (rc %d)\n%s" % (rc, log[-2000:]))
    check(not os.path.exists(out + ".lock"), "its lock file is gone")
    same_results(ref, out, N_TASKS)
    rc, log = s.tool("reduce", out)
    check(rc == 0, "reduce runs once the run has ended (rc %d)\n%s" % (rc, log[-800:]))


def case_disk_full(s):
    """A disk that fills up during the run (a small tmpfs), once while checkpointing and once while
    recording results (no checkpoints: the sweep file or the sidecar's result is cut short): the
    run stops with exit 1 and the error printed (no abort, no crash at exit, no Open MPI banner);
    once there is space again, --resume finishes with the results of an uninterrupted run."""
    if os.geteuid() != 0:
        raise Skip("mounting a tmpfs needs root")
    if shutil.which("mount") is None or shutil.which("umount") is None:
        raise Skip("no mount/umount")
    ref, _ = reference(s)
    results = os.path.getsize(ref)
    for what, size_kb, extra in (("checkpoints", 256, ()),
                                 ("results", max(64, results // 1024 // 2),
                                  ("--set", "train.checkpoint_every=100000"))):
        mnt = os.path.join(s.dir, "small-" + what)
        os.makedirs(mnt)
        p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%dk" % size_kb, "tmpfs", mnt],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if p.returncode != 0:
            raise Skip("cannot mount a tmpfs here: " + p.stdout.strip())
        try:
            out = os.path.join(mnt, "full.h5")
            t0 = time.time()
            # Through the launcher (run -n 2), which keeps Open MPI's banners out of the log.
            p = subprocess.run([s.exe, "run", s.job, "--out", out, "-n", "2",
                                "--mpirun-arg=--oversubscribe", *extra], env=ENV, timeout=300,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            rc, log = p.returncode, p.stdout
            print("  %s: the run on a %d kB tmpfs ended after %.1f s" % (what, size_kb,
                                                                       time.time() - t0))
            errors = [l for l in log.splitlines() if " E " in l]
            check(rc == 1, "%s: a full disk → exit code 1, not an abort or a crash (rc %d)\n%s"
                  % (what, rc, log[-3000:]))
            check(any("No space left on device" in l or "write failed" in l for l in errors),
                  "%s: the error is printed: %s" % (what, errors[:1]))
            check(any("resume with: depthscale run " + s.job + " --out " + out in l
                      for l in errors), "%s: it says how to resume" % what)
            shown = [b for b in BANNERS + ("MPI_ABORT", "terminate") if b in log]
            check(not shown, "%s: no abort and no Open MPI banner (%s)" % (what, shown))
            # Space again: tmpfs grows in place.
            p = subprocess.run(["mount", "-o", "remount,size=256m", mnt], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
            check(p.returncode == 0, "the tmpfs grows to 256 MB " + p.stdout)
            rc, log = s.run(2, out, "--resume", timeout=300)
            check(rc == 0, "%s: --resume with space again exits 0 (rc %d)\n%s"
                  % (what, rc, log[-3000:]))
            same_results(ref, out, N_TASKS)
        finally:
            subprocess.run(["umount", "-l", mnt])


def case_long_keys(s):
    """Grid values whose plain decimals run to hundreds of digits (rho 1e-300, temperature
    1e-300 and 1e40) get short keys in exponent form: the sweep runs, is stopped, resumes and
    finishes (the 1e-300 temperature's students fail on non-finite losses, recorded as such)."""
    job = JOB.replace("  temperature: [0.5, 1.0]\n", "  temperature: [1.0e-300, 1.0e+40]\n") \
             .replace("  rho: [0.0, 1.0]\n", "  rho: [1.0e-300]\n") \
             .replace("steps: 600", "steps: 1200")
    with open(s.job, "w") as f:
        f.write(job)
    ref = os.path.join(s.dir, "long_ref.h5")
    rc, log = s.run(2, ref)
    check(rc == 4, "the uninterrupted run finishes, the T = 1e-300 students failed (rc %d)\n%s"
          % (rc, log[-2000:]))
    with h5py.File(ref, "r") as f:
        keys = sorted(f["tasks"])
        check(keys == sorted(["rho1e-300_T1e-300_t0_d%d" % d for d in (2, 4, 8)] +
                             ["rho1e-300_T1e40_t0_d%d" % d for d in (2, 4, 8)]),
              "keys in exponent form: %s" % keys)
        check(all(f["tasks"][k].attrs["status"] == "failed" for k in keys if "T1e-300" in k)
              and all(f["tasks"][k].attrs["status"] == "complete" for k in keys if "T1e40" in k),
              "T 1e-300 failed, T 1e40 complete")
        check(f["tasks/rho1e-300_T1e40_t0_d4"].attrs["temperature"] == 1e40 and
              f["tasks/rho1e-300_T1e40_t0_d4"].attrs["rho"] == 1e-300,
              "the attributes keep the exact values")
    out = os.path.join(s.dir, "long.h5")
    p = s.start(2, out)
    wait_for_checkpoint(out)
    p.send_signal(signal.SIGUSR1)
    rc = p.wait(timeout=120)
    check(rc == 3, "stopped with SIGUSR1 → 3 (rc %d)\n%s" % (rc, open(out + ".log").read()[-2000:]))
    names = os.listdir(out + ".ckpt/tasks") + os.listdir(out + ".ckpt/done")
    check(names and max(len(n) for n in names) < 40, "short file names in the sidecar: %s" % names)
    rc, log = s.run(2, out, "--resume")
    check(rc == 4, "the resume finishes (rc %d)\n%s" % (rc, log[-2000:]))
    rc, st = s.tool("status", out)
    check(rc == 0 and "rho1e-300_T1e40_t0" in st, "status shows the groups\n" + st[-800:])
    same_results(ref, out, 3)
def handles_sigterm(pid):
    """Whether the process has installed its SIGTERM handler (SigCgt of /proc/PID/status)."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("SigCgt:"):
                    return int(line.split()[1], 16) >> (signal.SIGTERM - 1) & 1 == 1
    except OSError:
        pass
    return False


def case_planning(s):
    """Caps and stops before the farm starts (docs/job-file.md "Caps", docs/commands.md): a grid at
    the task cap stops within moments of a SIGTERM while it is expanded and planned (exit 3, nothing
    run), one task more is refused at once, and threads far beyond the node's cores are refused."""
    teachers = ", ".join(str(i) for i in range(100))
    depths = ", ".join(str(i) for i in range(1, 101))
    big = ("name: big\nkind: toy\nseed: 1\ngrid:\n  rho: {linspace: [0, 1, 10]}\n"
           "  teacher: [%s]\n  depth: [%s]\nmodel: {width: 4, vocab: 8, teacher_depth: 4}\n"
           "train: {steps: 10, batch: 2}\nrun: {threads: 1}\n" % (teachers, depths))
    with open(s.job, "w") as f:
        f.write(big)
    out = os.path.join(s.dir, "big.h5")
    p = s.start(None, out)
    deadline = time.time() + 60
    while not handles_sigterm(p.pid) and p.poll() is None and time.time() < deadline:
        time.sleep(0.01)
    t0 = time.time()
    p.send_signal(signal.SIGTERM)
    rc = p.wait(timeout=120)
    secs = time.time() - t0
    with open(out + ".log") as f:
        log = f.read()
    check(rc == 3 and secs < 5, "SIGTERM while a 100000-task grid is planned: exit 3 after %.1f s "
          "(rc %d)\n%s" % (secs, rc, log[-1500:]))
    check("while planning" in log or "stop requested" in log, "the log says why it stopped")
    rc, log = s.run(None, out, "--dry-run", "--set", "grid.depth=[%s, 101]" % depths)
    check(rc == 2 and "the grid has 101000 tasks" in log and "at most 100000" in log,
          "one depth more: 101000 tasks refused (exit 2)\n" + log[-800:])
    cores = os.cpu_count() or 1
    if 1024 > 4 * cores:
        rc, log = s.run(None, out, "--dry-run", "--set", "run.threads=1024")
        check(rc == 2 and "exceed 4x its %d cores" % cores in log,
              "run.threads=1024 on %d cores refused (exit 2)\n%s" % (cores, log[-800:]))
# ---- trusted sidecars only: fault injection --------------------------------------------------

def copy_sweep(src, dst, sidecar_from=None):
    """The sweep file `src` at `dst`, with the sidecar of `sidecar_from` (default: src's own)."""
    shutil.copy(src, dst)
    shutil.copytree((sidecar_from or src) + ".ckpt", dst + ".ckpt")


def rejected(out):
    d = out + ".ckpt/rejected"
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


def other_job(s, name="other.h5"):
    """A sweep of another job (another seed; one depth, so quick) whose keys are also ours."""
    other = os.path.join(s.dir, name)
    rc, log = s.run(2, other, "--set", "seed=7", "--set", "grid.depth=[2]")
    check(rc == 0, "the other job's run exits 0 (rc %d)\n%s" % (rc, log[-2000:]))
    return other


def case_foreign_sidecar(s):
    """Another job's sidecar beside a good file: its pieces are set aside, the results stay ours."""
    ref, _ = reference(s)
    other = other_job(s)
    out = os.path.join(s.dir, "foreign_sidecar.h5")
    copy_sweep(ref, out, sidecar_from=other)
    rc, log = s.run(2, out, "--resume")
    check(rc == 0, "resume beside a foreign sidecar exits 0 (rc %d)\n%s" % (rc, log[-3000:]))
    names = rejected(out)
    check("header.h5.foreign" in " ".join(names) and
          sum(n.startswith("done.") and n.endswith(".foreign") for n in names) == 4,
          "the foreign header and its 4 results are set aside (%s)" % names)
    check("set aside" in log and "another job" in log, "one warning per piece says why\n" + log[-2000:])
    same_results(ref, out, N_TASKS)


def case_foreign_file(s):
    """Another job's file beside our sidecar: refused before anything is written."""
    ref, _ = reference(s)
    other = other_job(s)
    out = os.path.join(s.dir, "foreign_file.h5")
    copy_sweep(other, out, sidecar_from=ref)
    before = open(out, "rb").read()
    listing = sorted(os.listdir(out + ".ckpt/done"))
    rc, log = s.run(2, out, "--resume")
    check(rc == 2 and "another job" in log, "refused with exit 2 (rc %d)\n%s" % (rc, log[-2000:]))
    check(open(out, "rb").read() == before, "the file is untouched byte for byte")
    check(sorted(os.listdir(out + ".ckpt/done")) == listing and not rejected(out),
          "the sidecar is untouched")


def case_zeroed_done(s):
    """A done/ copy whose train_loss was zeroed: set aside; the good data in the file is kept."""
    ref, _ = reference(s)
    out = os.path.join(s.dir, "zeroed_done.h5")
    copy_sweep(ref, out)
    key = "rho0_T0.5_t0_d4"
    with h5py.File(out + ".ckpt/done/%s.h5" % key, "r+") as f:
        f["tasks/%s/train_loss" % key][...] = 0
    rc, log = s.run(2, out, "--resume")
    check(rc == 0, "resume exits 0 (rc %d)\n%s" % (rc, log[-3000:]))
    check(rejected(out) == ["done.%s.h5.checksum" % key], "the copy is set aside (%s)" % rejected(out))
    check("bad checksum" in log, "the warning says why\n" + log[-1500:])
    same_results(ref, out, N_TASKS)


def case_bad_checkpoint(s):
    """A checkpoint with zeroed parameters (valid HDF5) and an unreadable one: both set aside, their
    tasks rerun from scratch, and the results are bit-identical to an uninterrupted run."""
    ref, _ = reference(s)
    out = os.path.join(s.dir, "bad_checkpoint.h5")
    p = s.start(3, out)
    wait_for_log(out + ".log", "started")
    time.sleep(1.0)
    p.send_signal(signal.SIGUSR1)
    rc = p.wait(timeout=120)
    check(rc == 3, "stopped after checkpointing (rc %d)" % rc)
    tasks = sorted(n for n in os.listdir(out + ".ckpt/tasks") if n.endswith(".h5"))
    check(len(tasks) >= 2, "at least two checkpoints (%s)" % tasks)
    with h5py.File(out + ".ckpt/tasks/" + tasks[0], "r+") as f:
        f["params"][...] = 0
    with open(out + ".ckpt/tasks/" + tasks[1], "wb") as f:
        f.write(b"not an HDF5 file")
    rc, st = s.tool("status", out)
    check(rc == 0, "status works beside them\n" + st)
    rc, log = s.run(3, out, "--resume")
    check(rc == 0, "resume exits 0 (rc %d)\n%s" % (rc, log[-3000:]))
    check(rejected(out) == sorted(["tasks.%s.checksum" % tasks[0], "tasks.%s.unreadable" % tasks[1]]),
          "both are set aside with their reason (%s)" % rejected(out))
    check("set aside 2 sidecar piece(s)" in log, "a summary count\n" + log[-2000:])
    same_results(ref, out, N_TASKS)


def case_teachers(s):
    """Damage in /teachers: status names the group; resume rewrites it."""
    ref, _ = reference(s)
    out = os.path.join(s.dir, "teachers.h5")
    copy_sweep(ref, out)
    with h5py.File(out, "r+") as f:
        f["teachers/rho0_t0/hidden/theta"][0, 0] += 1.0
    rc, st = s.tool("status", out)
    check("damaged teacher probes" in st and "/teachers/rho0_t0" in st and "bad checksum" in st,
          "status names the damaged teacher\n" + st)
    rc, log = s.run(2, out, "--resume")
    check(rc == 0, "resume exits 0 (rc %d)\n%s" % (rc, log[-3000:]))
    with h5py.File(out, "r") as a, h5py.File(ref, "r") as b:
        for name in ("theta", "theta_dh", "norms"):
            x, y = a["teachers/rho0_t0/hidden/" + name][()], b["teachers/rho0_t0/hidden/" + name][()]
            check(np.array_equal(x, y), "teacher rho0_t0 %s rewritten bit for bit" % name)
    rc, st = s.tool("status", out)
    check("damaged" not in st, "status is clean again\n" + st)


def case_status_damage(s):
    """status reads the datasets: a missing, non-numeric or NaN dataset, or a bad checksum, is
    damage (named), not complete; format_version 99 is an error naming both versions."""
    ref, _ = reference(s)

    def damaged(name, edit, expect):
        out = os.path.join(s.dir, name + ".h5")
        shutil.copy(ref, out)
        with h5py.File(out, "r+") as f:
            edit(f)
        rc, st = s.tool("status", out)
        total = [l.split() for l in st.splitlines() if l.startswith("total")]
        check(rc == 0 and total and total[0][1] == str(N_TASKS - 1) and "(1 damaged)" in st and
              expect in st, "%s: reported as damaged, naming it\n%s" % (name, st))

    key = "rho1_T1_t0_d8"
    damaged("missing", lambda f: f["tasks/%s" % key].__delitem__("test_loss"), "test_loss is missing")
    def nan(f):
        f["tasks/%s/train_loss" % key][5] = np.nan
    damaged("nan", nan, "train_loss holds a non-finite value")
    def text(f):
        g = f["tasks/%s" % key]
        del g["eval_step"]
        g["eval_step"] = np.array([b"x"] * 7)
    damaged("text", text, "eval_step: holds non-numeric data")
    def shape(f):
        g = f["tasks/%s" % key]
        del g["train_loss"]
        g["train_loss"] = np.zeros(10, np.float32)
    damaged("shape", shape, "train_loss has 10 entries, expected 600")
    def flipped(f):
        f["tasks/%s/test_loss" % key][0] += 1.0
    damaged("flipped", flipped, "bad checksum")
    out = os.path.join(s.dir, "v99.h5")
    shutil.copy(ref, out)
    with h5py.File(out, "r+") as f:
        f.attrs["format_version"] = 99
    rc, st = s.tool("status", out)
    check(rc != 0 and "format_version 99" in st and "reads 1" in st,
          "format_version 99 is an error naming both versions\n" + st)
def derive_seed(master, purpose, key, index=0):
    """toy::derive_seed (lib/toy/schedule.hpp), from its documented definition."""
    mask = (1 << 64) - 1

    def mix(z):
        z = ((z ^ (z >> 30)) * 0xbf58476d1ce4e5b9) & mask
        z = ((z ^ (z >> 27)) * 0x94d049bb133111eb) & mask
        return z ^ (z >> 31)

    h = 0xcbf29ce484222325
    for part in (purpose.encode(), key.encode()):
        for b in len(part).to_bytes(8, "little") + part:
            h = ((h ^ b) * 0x100000001b3) & mask
    golden = 0x9e3779b97f4a7c15
    s = mix((master + golden) & mask)
    s = mix(((s ^ h) + golden) & mask)
    return mix(((s ^ (index & mask)) + golden) & mask)


def undescribed(path):
    """(datasets without a units or description string, datasets in all) of a whole file."""
    missing, count = [], [0]
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                count[0] += 1
                if not all(isinstance(obj.attrs.get(k), str) and obj.attrs[k]
                           for k in ("units", "description")):
                    missing.append(name)
        f.visititems(visit)
    return missing, count[0]


def case_schema(s):
    """The file explains itself: two slices merged and reduced, every dataset of them with units
    and a description, each task's seeds (checked against the documented derivation), counts
    as integers; status, plot and report read it."""
    with open(s.job, "w") as f:
        f.write(JOB.replace("steps: 600", "steps: 200").replace("  temperature: [0.5, 1.0]\n",
                                                               "  temperature: [1.0]\n")
                .replace("  teacher: [0]\n", "  teacher: [0, 1]\n")
                .replace("depth: [2, 4, 8]", "depth: [2, 3, 4, 8]"))
    slices = []
    for i in (0, 1):
        out = os.path.join(s.dir, "slice%d.h5" % i)
        rc, log = s.run(None, out, "--set", "run.slice=%d/2" % i)
        check(rc == 0, "slice %d/2 exits 0 (rc %d)\n%s" % (i, rc, log[-2000:]))
        slices.append(out)
    merged = os.path.join(s.dir, "merged.h5")
    rc, log = s.tool("merge", *slices, "--out", merged)
    check(rc == 0, "merge exits 0 (rc %d)\n%s" % (rc, log[-2000:]))
    rc, log = s.tool("reduce", merged, "--L0-floor", "0")
    check(rc == 0, "reduce exits 0 (rc %d)\n%s" % (rc, log[-2000:]))
    for path in slices + [merged]:
        missing, count = undescribed(path)
        check(not missing and count > 0, "%s: all %d datasets have units and a description%s" %
              (os.path.basename(path), count, " (not: %s)" % missing[:5] if missing else ""))
    with h5py.File(merged, "r") as f:
        tasks = f["tasks"]
        check(len(tasks) == 16, "the merged file holds the 16 tasks (%d)" % len(tasks))
        for key, g in tasks.items():
            a = g.attrs
            if not (a["seed"].dtype == np.uint64 and a["seed"] == 4242 and
                    a["student_seed"] == derive_seed(4242, "student", key) and
                    a["teacher_stream"] == "t%d" % a["teacher"] and
                    a["input_stream"] == a["probe_stream"] == "rho%d_t%d" % (a["rho"], a["teacher"]) and
                    a["depth"].dtype == np.int64 and a["loss"] == "kl" and
                    g["test_loss"].attrs["units"] == "nats"):
                raise Failure("task %s: seeds, loss or units wrong: %s" % (key, dict(a)))
        print("  ok: every task records seed 4242, its derived student seed and stream keys")
        t = f["teachers/rho1_t1"].attrs
        check(t["seed"] == 4242 and t["teacher_stream"] == "t1" and t["probe_stream"] == "rho1_t1",
              "a teacher records its seed and streams")
        n = f["fits_summary/rho0_T1/n_replicates"]
        fitted = sum(np.isfinite(f["fits/rho0_T1_t%d/alpha" % t][()]).astype(int) for t in (0, 1))
        check(n.dtype == np.int64 and list(n[()]) == list(fitted),
              "n_replicates is int64: the replicates with a fit at each step (%s)" % list(n[()]))
        check(f["fits/rho0_T1_t0/rss"].attrs["units"] == "nats^2" and f["fits"].attrs["loss"] == "kl",
              "fits in the units of the KL loss")
    rc, st = s.tool("status", merged)
    check(rc == 0 and "16" in st, "status reads the merged file\n" + st[-600:])
    rc, log = s.tool("plot", merged, "--out", os.path.join(s.dir, "fig"), "--format", "svg")
    check(rc == 0, "plot reads it (rc %d)\n%s" % (rc, log[-2000:]))
    rc, log = s.tool("report", merged, "--out", os.path.join(s.dir, "report"))
    check(rc == 0, "report reads it (rc %d)\n%s" % (rc, log[-2000:]))


CASES = {n[5:]: f for n, f in globals().items() if n.startswith("case_")}


def main():
    build, case = sys.argv[1], sys.argv[2]
    work = tempfile.mkdtemp(prefix="ds-e2e-%s-" % case)
    print("case %s in %s" % (case, work))
    try:
        CASES[case](Sweep(build, work))
    except Failure as e:
        print("FAIL:", e)
        print("(files kept in %s)" % work)
        return 1
    except Skip as e:
        print("SKIP:", e)
        shutil.rmtree(work, ignore_errors=True)
        return 77
    shutil.rmtree(work, ignore_errors=True)
    print("PASS:", case)
    return 0


if __name__ == "__main__":
    sys.exit(main())
