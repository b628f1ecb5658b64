#!/usr/bin/env python3
"""Independent float64 reference for the per-site hidden-state metrics of lib/probe/metrics (docs/experiments.md §2).

Reads the tiny models' reference outputs that llm_reference.py writes (hidden states, logits and
last-block readouts, all float64 from its own forward) and computes every per-site metric and the
summaries from the SPEC definitions with numpy, sharing no code with the C++ side:

    llm_reference.py make OUTDIR
    probe_metrics_reference.py metrics OUTDIR [--cases a,b,...]

For each case directory OUTDIR/<case>/ holding reference.safetensors, writes two files:
OUTDIR/<case>/metrics_reference.safetensors with the last hidden state taken BEFORE the final
norm (depthscale's `last_hidden: last_block`), and OUTDIR/<case>/metrics_reference_hf.safetensors
as the study's scripts compute them: Hugging Face's hidden_states, whose last entry is AFTER the
final norm (`last_hidden: final_norm`, the default). Each holds:
    doc, position, token, next_token   I64 [N]   valid sites in (document, position) order
    norms, proj_s                      F64 [N, L+1]
    theta, angle_to_end, cross_entropy F64 [N, L]
    theta_dh                           F64 [N, L-1]
    mean.<metric>                      F64 [columns]   mean over sites
    theta_middle_mean                  F64 [1]   mean of theta over sites and layers 1..L-2 (NaN
                                                 for L < 3)
    pca.mean, pca.explained_variance, pca.explained_ratio  F64 [L]
    pca.components                     F64 [L, L]  rows by descending variance, largest |entry| > 0
    reference_early_stop_fraction      F64 [1]   share of sites nearer the early-stop trajectory
    early_stop_reference, even_reference  F64 [L]
    pc1_score                          F64 [N]   (theta - mean) . components[0]
    early_stop_counts.<t>              I64 [4]   the paper's cluster at PC1 score > t, for
                                                 t in THRESHOLDS: sites, members, sites at
                                                 position 0, members at position 0
    theta_bf16, angle_to_end_bf16, theta_dh_bf16  F64   the angles with the cosine rounded to
                                                 bf16, then the arccos rounded to bf16
    theta_bf16_torch                   F64 [N, L] torch.cosine_similarity on the hidden states
                                                 cast to bf16, arccos in bf16: what a bf16 run of
                                                 the authors' script gives (its inputs differ from
                                                 ours by the bf16 rounding of the states)

Definitions used (written out here independently of the C++):
- a site (b, t), t = 0..T-2, is valid when attention_mask[b, t] = attention_mask[b, t+1] = 1;
- angle(a, b) = arccos(clip(<a, b> / (|a| |b|), -1, 1));
- theta_dh uses dh_l = h_{l+1} - h_l; proj_s = <h_l - h_0, h_L - h_0> / (|h_L - h_0|^2 + 1e-10);
- cross_entropy[:, L-1] from the model's logits, [:, l < L-1] from readout[l] (the last block
  applied to hidden[l], then final norm and head): logsumexp(z) - z[next token];
- reference trajectories for L layers: pi/2, then round(6 (L-2) / 22) entries 0.45, zeros, pi/2
  (early stop) and pi/2, 0.45 x (L-2), pi/2 (even); a site is early-stop when strictly closer;
- PCA: eigenvectors of the sample covariance (divisor N - 1) of the theta rows; sign: PC1 has
  a positive dot product with (early - even), the other axes their largest |entry| positive;
- the paper's early-stop cluster: sites whose PC1 score exceeds a threshold (0.5 in the paper).
"""

import argparse
import json
import math
import os
import struct
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from llm_reference import write_safetensors  # noqa: E402  (writing only; torch tensors)

NP = {"F64": np.float64, "F32": np.float32, "I64": np.int64}
THRESHOLDS = ("0", "0.5")


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        out[name] = np.frombuffer(data[base + a:base + b], dtype=NP[info["dtype"]]).reshape(
            info["shape"])
    return out


def angle(a, b):
    """Row-wise angle between [N, d] arrays."""
    cos = np.einsum("nd,nd->n", a, b) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    return np.arccos(np.clip(cos, -1.0, 1.0))


def references(L):
    middle = max(L - 2, 0)
    k = int(math.floor(6.0 * middle / 22.0 + 0.5))
    even = [0.45] * L
    early = [0.45 if 1 <= i <= k else 0.0 for i in range(L)]
    even[0] = even[-1] = early[0] = early[-1] = math.pi / 2
    return np.array(early), np.array(even)


def bf16(x):
    import torch
    return torch.from_numpy(np.ascontiguousarray(x)).to(torch.bfloat16).to(torch.float64).numpy()


def angle_bf16(a, b):
    cos = np.einsum("nd,nd->n", a, b) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    return bf16(np.arccos(bf16(np.clip(cos, -1.0, 1.0))))


def angle_torch_bf16(a, b):
    import torch
    x = torch.from_numpy(a).to(torch.bfloat16)
    y = torch.from_numpy(b).to(torch.bfloat16)
    return torch.nn.functional.cosine_similarity(x, y, dim=-1).clamp(-1, 1).arccos().double().numpy()


def site_metrics(ref, hf):
    ids, mask = ref["input_ids"], ref["attention_mask"]
    hidden, logits, readout = ref["hidden"], ref["logits"], ref["readout"]
    if hf:  # Hugging Face's hidden_states: the last entry after the final norm
        hidden = np.concatenate([hidden[:-1], ref["final_normed"][None]], 0)
    L = hidden.shape[0] - 1
    B, T = ids.shape
    sites = [(b, t) for b in range(B) for t in range(T - 1) if mask[b, t] == 1 and mask[b, t + 1] == 1]
    doc = np.array([b for b, _ in sites], dtype=np.int64)
    pos = np.array([t for _, t in sites], dtype=np.int64)
    h = hidden[:, doc, pos, :]  # [L+1, N, d]
    nxt = ids[doc, pos + 1]
    m = {"doc": doc, "position": pos, "token": ids[doc, pos].astype(np.int64),
         "next_token": nxt.astype(np.int64)}
    m["norms"] = np.stack([np.linalg.norm(h[l], axis=1) for l in range(L + 1)], 1)
    m["theta"] = np.stack([angle(h[l], h[l + 1]) for l in range(L)], 1)
    dh = [h[l + 1] - h[l] for l in range(L)]
    m["theta_dh"] = np.stack([angle(dh[l], dh[l + 1]) for l in range(L - 1)], 1) if L > 1 else \
        np.zeros((len(sites), 0))
    m["angle_to_end"] = np.stack([angle(h[l], h[L]) for l in range(L)], 1)
    v = h[L] - h[0]
    vv = np.einsum("nd,nd->n", v, v)
    m["proj_s"] = np.stack([np.einsum("nd,nd->n", h[l] - h[0], v) / (vv + 1e-10)
                            for l in range(L + 1)], 1)
    m["theta_bf16"] = np.stack([angle_bf16(h[l], h[l + 1]) for l in range(L)], 1)
    m["angle_to_end_bf16"] = np.stack([angle_bf16(h[l], h[L]) for l in range(L)], 1)
    m["theta_dh_bf16"] = np.stack([angle_bf16(dh[l], dh[l + 1]) for l in range(L - 1)], 1) \
        if L > 1 else np.zeros((len(sites), 0))
    m["theta_bf16_torch"] = np.stack([angle_torch_bf16(h[l], h[l + 1]) for l in range(L)], 1)

    def ce(z):  # z [N, V]
        zmax = z.max(axis=1, keepdims=True)
        lse = np.log(np.exp(z - zmax).sum(axis=1)) + zmax[:, 0]
        return lse - z[np.arange(len(nxt)), nxt]

    cols = [ce(readout[l][doc, pos]) for l in range(L - 1)] + [ce(logits[doc, pos])]
    m["cross_entropy"] = np.stack(cols, 1)
    return m


def summaries(m):
    theta = m["theta"]
    N, L = theta.shape
    s = {}
    for k in ("norms", "theta", "theta_dh", "angle_to_end", "cross_entropy", "proj_s"):
        s["mean." + k] = m[k].mean(axis=0)
    s["theta_middle_mean"] = np.array([theta[:, 1:L - 1].mean() if L > 2 else math.nan])
    s["pca.mean"] = theta.mean(axis=0)
    centred = theta - theta.mean(axis=0)
    cov = centred.T @ centred / (N - 1)
    w, vecs = np.linalg.eigh(cov)
    order = np.argsort(w)[::-1]
    w, vecs = np.maximum(w[order], 0.0), vecs[:, order].T
    early, even = references(L)
    for r in range(L):
        towards = float(vecs[r] @ (early - even))
        if (towards < 0) if (r == 0 and towards != 0) else (vecs[r, np.argmax(np.abs(vecs[r]))] < 0):
            vecs[r] = -vecs[r]
    s["pca.components"] = vecs
    s["pca.explained_variance"] = w
    s["pca.explained_ratio"] = w / w.sum()
    de = ((theta - early) ** 2).sum(axis=1)
    dv = ((theta - even) ** 2).sum(axis=1)
    s["reference_early_stop_fraction"] = np.array([(de < dv).mean()])
    s["early_stop_reference"], s["even_reference"] = early, even
    score = (theta - theta.mean(axis=0)) @ vecs[0]
    s["pc1_score"] = score
    first = m["position"] == 0
    for t in THRESHOLDS:
        member = score > float(t)
        s["early_stop_counts." + t] = np.array(
            [N, member.sum(), first.sum(), (member & first).sum()], dtype=np.int64)
    return s


def main():
    import torch

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    mk = sub.add_parser("metrics", help="metrics_reference.safetensors for each case of OUTDIR")
    mk.add_argument("outdir")
    mk.add_argument("--cases", default="")
    args = ap.parse_args()
    cases = args.cases.split(",") if args.cases else sorted(
        c for c in os.listdir(args.outdir)
        if os.path.exists(os.path.join(args.outdir, c, "reference.safetensors")))
    if not cases:
        sys.exit("no case directories with reference.safetensors in %s" % args.outdir)
    for case in cases:
        d = os.path.join(args.outdir, case)
        ref = read_safetensors(os.path.join(d, "reference.safetensors"))
        for hf, name in ((False, "metrics_reference"), (True, "metrics_reference_hf")):
            m = site_metrics(ref, hf)
            m.update(summaries(m))
            write_safetensors(os.path.join(d, name + ".safetensors"),
                              {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in m.items()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
