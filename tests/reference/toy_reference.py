#!/usr/bin/python3
"""Independent PyTorch reference for the toy teacher-student networks (docs/experiments.md section 1).

Written from docs/experiments.md alone, with nn.Module / autograd / torch.optim.Adam, so that it shares no
code with the C++ implementation. It is driven by a cross-check file that the C++ side writes:

  root attrs   width, vocab, teacher_depth, depth, steps, batch (int)
               block "plain"|"rk2", head "trained"|"teacher"|"none", loss "kl"|"mse",
               depth_scaling "none"|"inv_sqrt", schedule "constant"|"linear_tail" (str)
               temperature, lr_base (float64); student_temperature (int 0/1)
  /teacher/layer_<l>/A [4m,m], b [4m], B [m,4m]        l = 0..teacher_depth-1
  /teacher/W [n,m]                                       absent when head is none
  /student/layer_<l>/A, b, B                             plain blocks
  /student/layer_<l>/A1, b1, B1, A2, b2, B2              rk2 blocks
  /student/W [n,m]                                       only when head is trained
  /inputs [steps, batch, m]                              raw x per step (RMSNorm applied inside)
  /cpp/train_loss [steps]                                the C++ per-step train loss
  /cpp/final/...                                         C++ student parameters after training,
                                                         same names as /student

Usage:
  toy_reference.py crosscheck FILE.h5 [--rtol 1e-4] [--param-tol 1e-4] [--dtype float32|float64]
  toy_reference.py selftest [--keep DIR]

crosscheck exits 0 when everything is within tolerance, 1 when something diverged (the message
names the first step / parameter that did), 2 when the file is malformed.

Conventions taken from the SPEC (and written down here so a mismatch is easy to spot):
  * RMSNorm(x) = x * rsqrt(mean(x^2) + eps), no gain, eps = torch.finfo(float32).eps.
  * MLP(v) = B relu(A v + b)^2; plain block h += MLP(RMSNorm(h));
    rk2 block h += MLP2(RMSNorm(h + 0.5 * MLP1(RMSNorm(h)))).
  * Output: RMSNorm(h_depth), then W for heads trained/teacher.
  * KL(teacher || student) from log-softmaxes, sum over classes / batch ("batchmean"); teacher
    logits divided by T, student logits divided by T only when student_temperature.
    MSE: mean over all elements of (student output - teacher output)^2.
  * The train loss of step s is the loss of the forward pass *before* the update of step s.
  * lr(s) = lr_base * (1/sqrt(depth) if inv_sqrt) * (linear tail: 1 for s < 0.8 S, else
    (S - s) / (0.2 S) * 0.9 + 0.1), s = 0..S-1 and S = the file's steps; depth is the number of
    blocks (for rk2 too).
  * Adam(betas=(0.9, 0.999), eps=1e-8, no weight decay); only the student's blocks and (for head
    trained) its W are trained.
"""
import argparse
import math
import os
import sys
import tempfile

import h5py
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

EPS = torch.finfo(torch.float32).eps

# --------------------------------------------------------------------------------------------
# Tolerances (see README.md; the selftest checks them against a float64 run of the same steps).
#
# Losses: |py - cpp| <= rtol * |cpp| at every step, rtol = 1e-4. Two FP32 implementations differ
# by summation order (BLAS blocking, reductions): ~1e-7 relative per operation, a few 1e-7 after
# a forward pass. 50 Adam steps feed this back, but Adam divides each gradient by its own running
# RMS, so relative gradient errors become relative update errors of the same size rather than
# growing. Measured (float32 vs float64 of the same 50 steps, m=32, n=128, teacher depth 16 and
# 128, batch 256 and 1024, T = 0.01..1, all four selftest configurations, ~40 runs): worst loss
# difference 6e-6 relative, typically 2e-7. 1e-4 leaves >15x headroom and is still far below
# what a real bug does (wrong scale, sign, temperature, lr schedule: >= 1e-3 relative).
#
# Parameters: per tensor, max_i |py_i - cpp_i| <= param_tol * max(max_i |cpp_i|, lr(0)),
# param_tol = 2e-3 (the lr floor only matters for a tensor that is still ~0). Here FP32 has a
# heavy tail that losses do not: Adam normalises each element's update by its own gradient RMS,
# so an element whose gradient is near zero relative to its rounding noise (a nearly dead relu^2
# unit, a batch sum that nearly cancels) takes steps of a noticeable fraction of lr in a
# different direction in the two implementations. Measured over the same runs: 99% of
# elements within 1e-3*lr (~5e-6 of the tensor's scale), but single elements up to 0.19*lr,
# which is 9.6e-4 of the tensor's scale. A weight changed by 1e-3 in a tensor of scale ~0.2
# (every A, a trained W) shows as >= 5e-3; in a B (scale ~0.02) as ~5e-2. 2e-3 sits between,
# with only 2-2.5x margin either side: that is what Adam's single-element FP32 noise allows.
DEFAULT_RTOL = 1e-4
DEFAULT_PARAM_TOL = 2e-3


def rms_norm(x):
    return x * torch.rsqrt(x.pow(2).mean(dim=-1, keepdim=True) + EPS)


class MLP(nn.Module):
    def __init__(self, m):
        super().__init__()
        self.A = nn.Linear(m, 4 * m)               # weight [4m, m], bias [4m]
        self.B = nn.Linear(4 * m, m, bias=False)   # weight [m, 4m]

    def forward(self, v):
        return self.B(F.relu(self.A(v)).pow(2))


class PlainBlock(nn.Module):
    def __init__(self, m):
        super().__init__()
        self.mlp = MLP(m)

    def forward(self, h):
        return h + self.mlp(rms_norm(h))


class RK2Block(nn.Module):
    def __init__(self, m):
        super().__init__()
        self.mlp1 = MLP(m)
        self.mlp2 = MLP(m)

    def forward(self, h):
        mid = h + 0.5 * self.mlp1(rms_norm(h))
        return h + self.mlp2(rms_norm(mid))


class ToyNet(nn.Module):
    """head: 'trained' (W is a parameter), 'fixed' (W is a buffer), 'none' (output RMSNorm(h))."""

    def __init__(self, m, n, depth, block, head):
        super().__init__()
        cls = {"plain": PlainBlock, "rk2": RK2Block}[block]
        self.block_kind = block
        self.head_kind = head
        self.blocks = nn.ModuleList([cls(m) for _ in range(depth)])
        if head == "trained":
            self.head = nn.Linear(m, n, bias=False)
        elif head == "fixed":
            self.register_buffer("W_fixed", torch.zeros(n, m))
        elif head != "none":
            raise ValueError(head)

    def forward(self, x):
        h = rms_norm(x)
        for blk in self.blocks:
            h = blk(h)
        out = rms_norm(h)
        if self.head_kind == "trained":
            out = self.head(out)
        elif self.head_kind == "fixed":
            out = F.linear(out, self.W_fixed)
        return out

    # --- mapping to the file's names -----------------------------------------------------
    def named_file_tensors(self, with_fixed_head=True):
        """(file name relative to /student or /teacher, tensor) for every stored tensor; a fixed
        head's W is included only with with_fixed_head (a student's fixed head is /teacher/W)."""
        out = []
        for l, blk in enumerate(self.blocks):
            mlps = [("", blk.mlp)] if self.block_kind == "plain" else [("1", blk.mlp1), ("2", blk.mlp2)]
            for sfx, mlp in mlps:
                out.append((f"layer_{l}/A{sfx}", mlp.A.weight))
                out.append((f"layer_{l}/b{sfx}", mlp.A.bias))
                out.append((f"layer_{l}/B{sfx}", mlp.B.weight))
        if self.head_kind == "trained":
            out.append(("W", self.head.weight))
        elif self.head_kind == "fixed" and with_fixed_head:
            out.append(("W", self.W_fixed))
        return out


# --------------------------------------------------------------------------------------------
# Configuration and file I/O


def _attr_str(v):
    if isinstance(v, np.ndarray):
        v = v.item() if v.shape == () else v[0]
    if isinstance(v, (bytes, np.bytes_)):
        v = v.decode("utf-8")
    return str(v).rstrip("\x00").strip()


class Config:
    INT = ("width", "vocab", "teacher_depth", "depth", "steps", "batch")
    STR = {"block": ("plain", "rk2"), "head": ("trained", "teacher", "none"), "loss": ("kl", "mse"),
           "depth_scaling": ("none", "inv_sqrt"), "schedule": ("constant", "linear_tail")}
    FLOAT = ("temperature", "lr_base")

    def __init__(self, **kw):
        for k in self.INT:
            setattr(self, k, int(kw[k]))
        for k, allowed in self.STR.items():
            v = kw[k]
            if v not in allowed:
                raise ValueError(f"attr {k}={v!r} not one of {allowed}")
            setattr(self, k, v)
        for k in self.FLOAT:
            setattr(self, k, float(kw[k]))
        self.student_temperature = int(kw["student_temperature"])
        if self.loss == "kl" and self.head == "none":
            raise ValueError("loss kl needs a head (trained or teacher)")

    @classmethod
    def from_attrs(cls, attrs):
        kw = {}
        for k in cls.INT + cls.FLOAT + ("student_temperature",):
            if k not in attrs:
                raise KeyError(f"missing root attribute {k!r}")
            v = attrs[k]
            kw[k] = np.asarray(v).reshape(-1)[0]
        for k in cls.STR:
            if k not in attrs:
                raise KeyError(f"missing root attribute {k!r}")
            kw[k] = _attr_str(attrs[k])
        return cls(**kw)

    def write_attrs(self, attrs):
        for k in self.INT:
            attrs[k] = np.int64(getattr(self, k))
        for k in self.STR:
            attrs[k] = getattr(self, k)
        for k in self.FLOAT:
            attrs[k] = np.float64(getattr(self, k))
        attrs["student_temperature"] = np.int64(self.student_temperature)

    def describe(self):
        return (f"m={self.width} n={self.vocab} teacher_depth={self.teacher_depth} depth={self.depth} "
                f"block={self.block} head={self.head} loss={self.loss} T={self.temperature:g} "
                f"student_T={self.student_temperature} lr_base={self.lr_base:g} "
                f"scaling={self.depth_scaling} schedule={self.schedule} steps={self.steps} batch={self.batch}")


def build_models(cfg, dtype=torch.float32):
    m, n = cfg.width, cfg.vocab
    t_head = "none" if cfg.head == "none" else "fixed"
    s_head = {"trained": "trained", "teacher": "fixed", "none": "none"}[cfg.head]
    teacher = ToyNet(m, n, cfg.teacher_depth, "plain", t_head).to(dtype)
    student = ToyNet(m, n, cfg.depth, cfg.block, s_head).to(dtype)
    teacher.requires_grad_(False)
    return teacher, student


def _load_into(model, group, where, with_fixed_head=True):
    with torch.no_grad():
        for name, t in model.named_file_tensors(with_fixed_head):
            if name not in group:
                raise KeyError(f"missing dataset {where}/{name}")
            arr = np.asarray(group[name][()], dtype=np.float32)
            if tuple(arr.shape) != tuple(t.shape):
                raise ValueError(f"{where}/{name}: shape {arr.shape}, expected {tuple(t.shape)}")
            t.copy_(torch.from_numpy(arr))


def load_file(path, dtype=torch.float32):
    with h5py.File(path, "r") as f:
        cfg = Config.from_attrs(f.attrs)
        teacher, student = build_models(cfg, dtype)
        _load_into(teacher, f["teacher"], "/teacher")
        # the student's fixed head (head 'teacher') is the teacher's W
        if cfg.head == "teacher":
            with torch.no_grad():
                student.W_fixed.copy_(teacher.W_fixed)
        s_group = f["student"]
        if cfg.head == "teacher" and "W" in s_group:
            print("note: /student/W present with head=teacher; ignored (the student uses /teacher/W)")
        _load_into(student, s_group, "/student", with_fixed_head=False)
        inputs = np.asarray(f["inputs"][()], dtype=np.float32)
        want = (cfg.steps, cfg.batch, cfg.width)
        if inputs.shape != want:
            raise ValueError(f"/inputs: shape {inputs.shape}, expected {want}")
        cpp_loss = np.asarray(f["cpp/train_loss"][()], dtype=np.float64)
        if cpp_loss.shape != (cfg.steps,):
            raise ValueError(f"/cpp/train_loss: shape {cpp_loss.shape}, expected ({cfg.steps},)")
        cpp_final = {}
        g = f["cpp/final"]
        for name, t in student.named_file_tensors(with_fixed_head=False):
            if name not in g:
                raise KeyError(f"missing dataset /cpp/final/{name}")
            cpp_final[name] = np.asarray(g[name][()], dtype=np.float64)
            if cpp_final[name].shape != tuple(t.shape):
                raise ValueError(f"/cpp/final/{name}: shape {cpp_final[name].shape}, expected {tuple(t.shape)}")
    return cfg, teacher, student, inputs, cpp_loss, cpp_final


def write_file(path, cfg, teacher, student, inputs, train_loss, final):
    """final: dict name -> array (student parameter names, as in /student)."""
    with h5py.File(path, "w") as f:
        cfg.write_attrs(f.attrs)
        for gname, model in (("teacher", teacher), ("student", student)):
            g = f.create_group(gname)
            # the student's fixed head (head teacher) lives in /teacher/W only
            for name, t in model.named_file_tensors(with_fixed_head=(gname == "teacher")):
                g.create_dataset(name, data=t.detach().to(torch.float32).numpy())
        f.create_dataset("inputs", data=np.asarray(inputs, dtype=np.float32))
        f.create_dataset("cpp/train_loss", data=np.asarray(train_loss, dtype=np.float32))
        g = f.create_group("cpp/final")
        for name, arr in final.items():
            g.create_dataset(name, data=np.asarray(arr, dtype=np.float32))


# --------------------------------------------------------------------------------------------
# Training


def lr_at(cfg, step):
    lr = cfg.lr_base
    if cfg.depth_scaling == "inv_sqrt":
        lr /= math.sqrt(cfg.depth)
    if cfg.schedule == "linear_tail":
        S = cfg.steps
        if step >= 0.8 * S:
            lr *= (S - step) / (0.2 * S) * 0.9 + 0.1
    return lr


def loss_fn(cfg, s_out, t_out):
    if cfg.loss == "kl":
        t_logp = F.log_softmax(t_out / cfg.temperature, dim=-1)
        s_in = s_out / cfg.temperature if cfg.student_temperature else s_out
        s_logp = F.log_softmax(s_in, dim=-1)
        # kl_div(input, target) = sum target_p * (log target_p - input) ; batchmean: / batch
        return F.kl_div(s_logp, t_logp, reduction="batchmean", log_target=True)
    return F.mse_loss(s_out, t_out)


def train(cfg, teacher, student, inputs):
    """Runs cfg.steps steps on inputs[step]; returns (per-step losses, final student params)."""
    dtype = next(student.parameters()).dtype
    params = [p for p in student.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=lr_at(cfg, 0), betas=(0.9, 0.999), eps=1e-8, weight_decay=0)
    losses = np.zeros(cfg.steps, dtype=np.float64)
    for step in range(cfg.steps):
        x = torch.from_numpy(np.asarray(inputs[step], dtype=np.float32)).to(dtype)
        with torch.no_grad():
            t_out = teacher(x)
        s_out = student(x)
        loss = loss_fn(cfg, s_out, t_out)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        for g in opt.param_groups:
            g["lr"] = lr_at(cfg, step)
        opt.step()
        losses[step] = loss.item()
    final = {name: t.detach().to(torch.float64).numpy().copy()
             for name, t in student.named_file_tensors(with_fixed_head=False)}
    return losses, final


# --------------------------------------------------------------------------------------------
# Comparison


def compare(cfg, py_loss, cpp_loss, py_final, cpp_final, rtol, param_tol, verbose=True):
    ok = True
    msgs = []
    # losses
    abs_d = np.abs(py_loss - cpp_loss)
    rel_d = abs_d / np.maximum(np.abs(cpp_loss), np.finfo(np.float32).tiny)
    bad = np.nonzero(~(abs_d <= rtol * np.abs(cpp_loss)))[0]   # catches NaN too
    if verbose:
        print(f"train loss: {cfg.steps} steps, first {cpp_loss[0]:.6g} last {cpp_loss[-1]:.6g}; "
              f"max abs diff {abs_d.max():.3e}, max rel diff {rel_d.max():.3e} (rtol {rtol:g})")
    if bad.size:
        ok = False
        s = int(bad[0])
        msgs.append(f"train loss first diverged at step {s}: python {py_loss[s]:.9g} vs C++ {cpp_loss[s]:.9g} "
                    f"(rel {rel_d[s]:.3e} > {rtol:g}); {bad.size} of {cfg.steps} steps out of tolerance")
    # parameters, in model order
    floor = lr_at(cfg, 0)
    worst = (0.0, None)
    first_bad = None
    for name in py_final:
        if name not in cpp_final:
            continue
        a, b = py_final[name], cpp_final[name]
        d = np.abs(a - b)
        scale = max(float(np.abs(b).max()), floor)
        md = float(d.max()) if d.size else 0.0
        r = md / scale
        if not np.isfinite(md) or not np.all(np.isfinite(b)):
            r = math.inf
        if r > worst[0] or worst[1] is None:
            worst = (r, name, md, scale)
        if not (r <= param_tol) and first_bad is None:
            idx = np.unravel_index(int(np.nanargmax(np.where(np.isnan(d), np.inf, d))), d.shape)
            first_bad = (name, idx, a[idx], b[idx], md, scale, r)
    if verbose and worst[1] is not None:
        print(f"final params: {len(cpp_final)} tensors; worst {worst[1]}: max abs diff {worst[2]:.3e}, "
              f"scale {worst[3]:.3e}, scaled diff {worst[0]:.3e} (param tol {param_tol:g})")
    if first_bad is not None:
        ok = False
        name, idx, av, bv, md, scale, r = first_bad
        msgs.append(f"final param first diverged: /cpp/final/{name}{list(idx)} python {av:.9g} vs C++ {bv:.9g} "
                    f"(max abs diff {md:.3e} / scale {scale:.3e} = {r:.3e} > {param_tol:g})")
    return ok, msgs


def crosscheck(path, rtol=DEFAULT_RTOL, param_tol=DEFAULT_PARAM_TOL, dtype=torch.float32, verbose=True):
    """Returns the exit code: 0 within tolerance, 1 diverged, 2 malformed file."""
    try:
        cfg, teacher, student, inputs, cpp_loss, cpp_final = load_file(path, dtype)
    except (KeyError, ValueError, OSError) as e:
        print(f"crosscheck {path}: malformed file: {e}", file=sys.stderr)
        return 2
    if verbose:
        print(f"crosscheck {os.path.basename(path)}: {cfg.describe()}")
    py_loss, py_final = train(cfg, teacher, student, inputs)
    ok, msgs = compare(cfg, py_loss, cpp_loss, py_final, cpp_final, rtol, param_tol, verbose)
    for msg in msgs:
        print("FAIL: " + msg)
    if ok and verbose:
        print("PASS")
    return 0 if ok else 1


# --------------------------------------------------------------------------------------------
# Self test: random models built per SPEC, written in the cross-check layout, checked back.


def init_models(cfg, gen_seed):
    """SPEC initialisation: nn.Linear defaults; teacher B scaled 1/sqrt(teacher_depth), rho = 0;
    student B = 0 and (trained head) W = 0; fixed teacher head W ~ N(0,1)/sqrt(m)."""
    torch.manual_seed(gen_seed)
    teacher, student = build_models(cfg)
    with torch.no_grad():
        for blk in teacher.blocks:
            blk.mlp.B.weight.mul_(1.0 / math.sqrt(cfg.teacher_depth))
        if cfg.head != "none":
            # teacher's own head: nn.Linear default for exp9, N(0,1)/sqrt(m) for the fixed-head case
            if cfg.head == "teacher":
                teacher.W_fixed.copy_(torch.randn(cfg.vocab, cfg.width) / math.sqrt(cfg.width))
            else:
                teacher.W_fixed.copy_(nn.Linear(cfg.width, cfg.vocab, bias=False).weight)
        for blk in student.blocks:
            for mlp in ([blk.mlp] if cfg.block == "plain" else [blk.mlp1, blk.mlp2]):
                mlp.B.weight.zero_()
        if cfg.head == "trained":
            student.head.weight.zero_()
        elif cfg.head == "teacher":
            student.W_fixed.copy_(teacher.W_fixed)
    return teacher, student


SELFTEST_CASES = [
    # exp9-like: plain, trained head, KL, constant lr
    dict(block="plain", head="trained", loss="kl", depth_scaling="none", schedule="constant",
         temperature=0.1, lr_base=6e-4, student_temperature=0),
    # exp9-3-like: fixed teacher head, temperature on the student too, inv_sqrt + linear tail
    dict(block="plain", head="teacher", loss="kl", depth_scaling="inv_sqrt", schedule="linear_tail",
         temperature=0.3, lr_base=4 * 6e-4, student_temperature=1),
    # exp9-4-like: RK2 students, MSE on RMSNorm(h), no head
    dict(block="rk2", head="none", loss="mse", depth_scaling="inv_sqrt", schedule="linear_tail",
         temperature=1.0, lr_base=2 * 6e-4, student_temperature=0),
    # exp9-2-like: plain, MSE, no head
    dict(block="plain", head="none", loss="mse", depth_scaling="inv_sqrt", schedule="linear_tail",
         temperature=1.0, lr_base=2 * 6e-4, student_temperature=0),
]


def _perturb(src, dst, dataset, index, delta):
    import shutil
    shutil.copyfile(src, dst)
    with h5py.File(dst, "r+") as f:
        arr = f[dataset][()]
        arr[index] += delta
        f[dataset][...] = arr


def selftest(keep_dir=None, quiet=False):
    torch.set_num_threads(1)
    tmp = keep_dir or tempfile.mkdtemp(prefix="toy_reference_selftest_")
    os.makedirs(tmp, exist_ok=True)
    failures = []

    def expect(label, path, want, **kw):
        print(f"--- {label}: expect {'PASS (exit 0)' if want == 0 else 'FAIL (exit %d)' % want}")
        rc = crosscheck(path, verbose=True, **kw)
        status = "ok" if rc == want else "UNEXPECTED"
        print(f"--- {label}: exit {rc} [{status}]")
        if rc != want:
            failures.append(label)

    for i, case in enumerate(SELFTEST_CASES):
        cfg = Config(width=32, vocab=128, teacher_depth=16, depth=4 if case["block"] == "rk2" else 6,
                     steps=50, batch=256, **case)
        teacher, student = init_models(cfg, 1234 + i)
        gen = torch.Generator().manual_seed(99 + i)
        inputs = torch.randn(cfg.steps, cfg.batch, cfg.width, generator=gen).numpy()
        # the untrained student as it goes into the file
        t0, s0 = build_models(cfg)
        t0.load_state_dict(teacher.state_dict())
        s0.load_state_dict(student.state_dict())
        base = os.path.join(tmp, f"case{i}_{case['block']}_{case['head']}_{case['loss']}")

        # (a) round trip: our own float32 losses/params stored as /cpp/*
        tt, ss = build_models(cfg)
        tt.load_state_dict(teacher.state_dict()); ss.load_state_dict(student.state_dict())
        loss32, final32 = train(cfg, tt, ss, inputs)
        write_file(base + ".h5", cfg, t0, s0, inputs, loss32, final32)
        expect(f"case {i} round trip", base + ".h5", 0)

        # (b) tolerance sanity: /cpp/* from a float64 run of the same steps, i.e. the exact answer
        # up to float64 rounding; a correct FP32 implementation must still pass against it.
        tt, ss = build_models(cfg, torch.float64)
        tt.load_state_dict(teacher.state_dict()); ss.load_state_dict(student.state_dict())
        loss64, final64 = train(cfg, tt, ss, inputs)
        write_file(base + "_fp64.h5", cfg, t0, s0, inputs, loss64, final64)
        expect(f"case {i} vs float64 truth", base + "_fp64.h5", 0)

        # (c) perturbations of 1e-3 in one weight must fail
        names = [n for n, _ in s0.named_file_tensors(with_fixed_head=False)]
        a_name = names[0]  # layer_0/A or layer_0/A1
        _perturb(base + ".h5", base + "_pert_student.h5", f"student/{a_name}", (0, 0), 1e-3)
        expect(f"case {i} student/{a_name}[0,0] += 1e-3", base + "_pert_student.h5", 1)
        _perturb(base + ".h5", base + "_pert_final.h5", f"cpp/final/{a_name}", (3, 5), 1e-3)
        expect(f"case {i} cpp/final/{a_name}[3,5] += 1e-3", base + "_pert_final.h5", 1)
        if cfg.head != "none":
            _perturb(base + ".h5", base + "_pert_teacherW.h5", "teacher/W", (0, 0), 1e-3)
            expect(f"case {i} teacher/W[0,0] += 1e-3", base + "_pert_teacherW.h5", 1)
        _perturb(base + ".h5", base + "_pert_loss.h5", "cpp/train_loss", (cfg.steps // 2,),
                 1e-3 * float(loss32[cfg.steps // 2]))
        expect(f"case {i} cpp/train_loss[{cfg.steps // 2}] *= 1.001", base + "_pert_loss.h5", 1)

    # malformed file
    bad = os.path.join(tmp, "malformed.h5")
    with h5py.File(bad, "w") as f:
        f.attrs["width"] = 32
    expect("malformed file", bad, 2)

    if keep_dir is None:
        import shutil
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        print(f"files kept in {tmp}")
    if failures:
        print("SELFTEST FAILED: " + "; ".join(failures))
        return 1
    print("SELFTEST PASSED")
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("crosscheck", help="compare a C++ cross-check file against this reference")
    c.add_argument("file")
    c.add_argument("--rtol", type=float, default=DEFAULT_RTOL, help="relative tolerance on per-step losses")
    c.add_argument("--param-tol", type=float, default=DEFAULT_PARAM_TOL,
                   help="tolerance on final params, relative to max(max|param|, lr)")
    c.add_argument("--dtype", choices=("float32", "float64"), default="float32",
                   help="precision of the reference run (float64: compare against the near-exact answer)")
    s = sub.add_parser("selftest", help="round-trip and perturbation checks of this harness")
    s.add_argument("--keep", metavar="DIR", help="write the generated files here and keep them")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    if args.cmd == "crosscheck":
        dtype = torch.float32 if args.dtype == "float32" else torch.float64
        return crosscheck(args.file, args.rtol, args.param_tol, dtype)
    return selftest(args.keep)


if __name__ == "__main__":
    sys.exit(main())
