#!/usr/bin/python3
"""The original's per-student loop, as a PyTorch baseline for depthscale's toy benchmarks.

One student is trained in its own process against a full teacher forward every step, the way the
original study's Python did it (docs/experiments.md section 1, exp9 settings): m = 32, n = 128, teacher depth
128 (rho = 0, every B scaled 1/sqrt(128)), plain residual blocks B relu(A RMSNorm(h) + b)^2, KL
loss against softmax(teacher logits / T), student head trained from zero, batch 1024 of fresh
N(0, I) inputs every step, Adam(6e-4, betas (0.9, 0.999), eps 1e-8), FP32, train loss read back
every step. Plain nn.Module + autograd + torch.optim.Adam; nothing the original would not have
used (no torch.compile, no fused kernels, no teacher reuse across students), and nothing slowed
down either (no Python-side per-element work, no extra synchronisation).

  reference_toy.py --depth D [--steps S] [--warmup W] [--threads 1] [--json]
  reference_toy.py --depths 6,12,16,24,32,48 [--steps S] [--warmup W] [--threads 1] [--json]

The first form times one student: ms per training step (teacher forward + student forward,
backward and Adam step, fresh inputs included), student steps per second, and the teacher forward
alone per step, timed separately afterwards over the same number of steps. The second runs each
depth in its own subprocess, one after another (like the original: one process per student), and
reports each depth and the exp9 mix: every depth trains the same number of steps, so the mix's
throughput is 1000 / mean(ms per step) student-steps per second, divided by threads for "per core".
"""
import argparse
import json
import math
import os
import subprocess
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

WIDTH, VOCAB, TEACHER_DEPTH, BATCH, LR = 32, 128, 128, 1024, 6e-4


def rms_norm(x):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + torch.finfo(x.dtype).eps)


class Block(nn.Module):
    def __init__(self, m):
        super().__init__()
        self.A = nn.Linear(m, 4 * m)
        self.B = nn.Linear(4 * m, m, bias=False)

    def forward(self, h):
        return h + self.B(F.relu(self.A(rms_norm(h))) ** 2)


class Net(nn.Module):
    def __init__(self, m, n, depth):
        super().__init__()
        self.blocks = nn.ModuleList([Block(m) for _ in range(depth)])
        self.W = nn.Linear(m, n, bias=False)

    def forward(self, x):
        h = rms_norm(x)
        for blk in self.blocks:
            h = blk(h)
        return self.W(rms_norm(h))


def make_teacher(depth):
    t = Net(WIDTH, VOCAB, depth)
    with torch.no_grad():
        for blk in t.blocks:
            blk.B.weight.mul_(1.0 / math.sqrt(depth))
    t.requires_grad_(False)
    return t


def make_student(depth):
    s = Net(WIDTH, VOCAB, depth)
    with torch.no_grad():
        for blk in s.blocks:
            blk.B.weight.zero_()
        s.W.weight.zero_()
    return s


def loaded_blas():
    """Shared libraries providing BLAS in this process (from /proc/self/maps), for the record."""
    libs = set()
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                path = line.split()[-1]
                base = os.path.basename(path)
                if any(k in base for k in ("blas", "dnnl", "mkl", "blis")):
                    libs.add(os.path.realpath(path))
    except OSError:
        pass
    return sorted(libs)


def openblas_core(libs):
    """The core type OpenBLAS picked (or was told by OPENBLAS_CORETYPE), "" when not OpenBLAS."""
    import ctypes
    for path in libs:
        try:
            f = ctypes.CDLL(path).openblas_get_corename  # already loaded: the same library
        except (OSError, AttributeError):
            continue
        f.restype = ctypes.c_char_p
        return f().decode()
    return ""


def bench_one(depth, steps, warmup, threads, temperature, seed):
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    teacher = make_teacher(TEACHER_DEPTH)
    student = make_student(depth)
    opt = torch.optim.Adam(student.parameters(), lr=LR, betas=(0.9, 0.999), eps=1e-8)

    losses = []
    t0 = None
    for step in range(warmup + steps):
        if step == warmup:
            t0 = time.perf_counter()
        x = torch.randn(BATCH, WIDTH)
        with torch.no_grad():
            target = F.log_softmax(teacher(x) / temperature, dim=-1)
        logp = F.log_softmax(student(x), dim=-1)
        loss = F.kl_div(logp, target, reduction="batchmean", log_target=True)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    train_s = time.perf_counter() - t0

    # the teacher's share, measured on its own: same forward, same fresh inputs
    for _ in range(warmup):
        with torch.no_grad():
            F.log_softmax(teacher(torch.randn(BATCH, WIDTH)) / temperature, dim=-1)
    teacher_s = 0.0
    for _ in range(steps):
        x = torch.randn(BATCH, WIDTH)
        t1 = time.perf_counter()
        with torch.no_grad():
            F.log_softmax(teacher(x) / temperature, dim=-1)
        teacher_s += time.perf_counter() - t1

    ms = 1000.0 * train_s / steps
    teacher_ms = 1000.0 * teacher_s / steps
    return {
        "depth": depth,
        "steps": steps,
        "warmup": warmup,
        "threads": threads,
        "ms_per_step": ms,
        "student_steps_per_second": 1000.0 / ms,
        "student_steps_per_second_per_core": 1000.0 / ms / threads,
        "teacher_forward_ms_per_step": teacher_ms,
        "teacher_fraction": teacher_ms / ms,
        "first_loss": losses[0],
        "last_loss": losses[-1],
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "blas": loaded_blas(),
        "blas_core": openblas_core(loaded_blas()),
        "width": WIDTH, "vocab": VOCAB, "teacher_depth": TEACHER_DEPTH, "batch": BATCH, "lr": LR,
        "temperature": temperature,
    }


def print_one(r):
    print(f"depth {r['depth']:3d}: {r['ms_per_step']:8.2f} ms/step  {r['student_steps_per_second']:7.2f} "
          f"student-steps/s  teacher forward {r['teacher_forward_ms_per_step']:7.2f} ms/step "
          f"({100 * r['teacher_fraction']:.0f}%)  loss {r['first_loss']:.4f} -> {r['last_loss']:.4f}  "
          f"[{r['steps']} steps after {r['warmup']} warmup, {r['threads']} thread(s), torch {r['torch']}]")


def run_depths(args):
    depths = [int(d) for d in args.depths.split(",") if d.strip()]
    env = dict(os.environ)
    for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[k] = str(args.threads)
    results = []
    for d in depths:
        cmd = [sys.executable, os.path.abspath(__file__), "--depth", str(d), "--steps", str(args.steps),
               "--warmup", str(args.warmup), "--threads", str(args.threads),
               "--temperature", repr(args.temperature), "--seed", str(args.seed), "--json"]
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        if p.returncode != 0:
            sys.stderr.write(p.stderr)
            raise SystemExit(f"depth {d}: subprocess failed with exit {p.returncode}")
        r = json.loads([l for l in p.stdout.splitlines() if l.startswith("{")][-1])
        results.append(r)
        if not args.json:
            print_one(r)
            sys.stdout.flush()
    mean_ms = sum(r["ms_per_step"] for r in results) / len(results)
    mix = {
        "depths": depths,
        "threads": args.threads,
        "steps": args.steps,
        "warmup": args.warmup,
        "torch": torch.__version__,
        "per_depth": results,
        "mean_ms_per_step": mean_ms,
        "mix_student_steps_per_second": 1000.0 / mean_ms,
        "mix_student_steps_per_second_per_core": 1000.0 / mean_ms / args.threads,
        "mean_teacher_fraction": sum(r["teacher_fraction"] for r in results) / len(results),
        "blas_core": results[0]["blas_core"] if results else "",
    }
    if args.json:
        print(json.dumps(mix))
    else:
        print(f"mix over depths {depths} (equal steps each): mean {mean_ms:.2f} ms/step -> "
              f"{mix['mix_student_steps_per_second_per_core']:.2f} student-steps/s per core "
              f"(teacher forward {100 * mix['mean_teacher_fraction']:.0f}% of the time on average)")
        if results and results[0]["blas"]:
            print("BLAS: " + ", ".join(results[0]["blas"]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--depth", type=int, help="student depth (one student, this process)")
    g.add_argument("--depths", help="comma-separated depths, each in its own subprocess")
    ap.add_argument("--steps", type=int, default=50, help="timed steps")
    ap.add_argument("--warmup", type=int, default=5, help="untimed steps first")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--temperature", type=float, default=0.1, help="T (does not change the cost)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true", help="emit one JSON line")
    args = ap.parse_args()
    if args.steps < 1 or args.warmup < 0 or args.threads < 1:
        ap.error("need steps >= 1, warmup >= 0, threads >= 1")
    if args.depths:
        run_depths(args)
        return
    r = bench_one(args.depth, args.steps, args.warmup, args.threads, args.temperature, args.seed)
    if args.json:
        print(json.dumps(r))
    else:
        print_one(r)
        if r["blas"]:
            print("BLAS: " + ", ".join(r["blas"]))


if __name__ == "__main__":
    main()
