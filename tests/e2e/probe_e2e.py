#!/usr/bin/env python3
"""End-to-end test of `depthscale run` on a `kind: probe` job, with real mpirun processes.

Makes a tiny byte-level BPE tokenizer and a tiny random GPT-NeoX model folder (weights from
tests/reference/llm_reference.py), tokenises a small text set with `depthscale tokenize`, then:
  1. runs a 2-rank probe and checks /probe/<model>/: shapes, finiteness, token/doc/position against
     the shards, attributes, summaries and PCA against the per-site arrays, and theta /
     cross_entropy rows of a few sites against the float64 Python reference forward;
  2. SIGKILLs a second 2-rank run part-way, truncates its file as a torn write would, resumes it
     (rebuilt from the sidecar batch files), and checks that the resumed file equals the
     uninterrupted one bit for bit (every dataset and attribute but timings and hosts);
  3. stops a third run with SIGUSR1 (exit 3) and resumes it to the same file;
  4. a model whose weights do not load: failed batches, exit 4, --retry-failed once repaired;
  5. dry runs: the resumed plan and its cost table, a missing model path named in the message
     (exit 2), a model folder with only config.json and absent shards (exit 0, an upper bound),
     and one without config.json (exit 2);
  6. two slices of a job array (run.slice), merged: bit-identical to the one-run file.
Last, `depthscale plot` on the file of 1: its token trajectories are the first rows of theta and
theta_dh under the summary mean; without per-site arrays they are skipped, saying why.

    probe_e2e.py BUILD_DIR
    probe_e2e.py BUILD_DIR --fixture DIR    (only writes the inputs to DIR and prints the job file)
"""
import csv
import glob
import json
import os
import re
import random
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "reference"))
import llm_reference as ref  # noqa: E402

ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
           OMP_NUM_THREADS="1", DEPTHSCALE_PROGRESS_SECONDS="1")

LAYERS, HIDDEN, VOCAB = 4, 32, 320
DOCUMENTS, BATCH, MAX_TOKENS = 120, 6, 48
BATCHES = (DOCUMENTS + BATCH - 1) // BATCH


class Failure(Exception):
    pass


def check(cond, what, detail=""):
    if not cond:
        raise Failure(what + ("\n" + detail if detail else ""))
    print("  ok:", what)


# --- inputs ----------------------------------------------------------------------------------------

def bytes_to_unicode():
    """GPT-2's byte → printable character map (the byte-level alphabet of tokenizer.json)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


def make_tokenizer(path, texts, merges_wanted=40):
    """A byte-level BPE tokenizer.json: 256 byte tokens, merges learnt from `texts`, one special."""
    b2u = bytes_to_unicode()
    vocab = {b2u[b]: b for b in range(256)}
    words = {}
    for t in texts:
        for i, w in enumerate(t.split(" ")):
            key = tuple(b2u[b] for b in ((" " if i else "") + w).encode())
            words[key] = words.get(key, 0) + 1
    merges = []
    for _ in range(merges_wanted):
        pairs = {}
        for w, n in words.items():
            for a, b in zip(w, w[1:]):
                pairs[(a, b)] = pairs.get((a, b), 0) + n
        if not pairs:
            break
        (a, b), _ = max(pairs.items(), key=lambda kv: (kv[1], kv[0]))
        merges.append(a + " " + b)
        vocab[a + b] = len(vocab)
        new = {}
        for w, n in words.items():
            out, i = [], 0
            while i < len(w):
                if i + 1 < len(w) and w[i] == a and w[i + 1] == b:
                    out.append(a + b)
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            new[tuple(out)] = new.get(tuple(out), 0) + n
        words = new
    special = len(vocab)
    level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
             "use_regex": True}
    tok = {"version": "1.0", "truncation": None, "padding": None,
           "added_tokens": [{"id": special, "content": "<|endoftext|>", "single_word": False,
                             "lstrip": False, "rstrip": False, "normalized": False,
                             "special": True}],
           "normalizer": None, "pre_tokenizer": level, "post_processor": level,
           "decoder": level,
           "model": {"type": "BPE", "dropout": None, "unk_token": None,
                     "continuing_subword_prefix": None, "end_of_word_suffix": None,
                     "fuse_unk": False, "byte_fallback": False, "vocab": vocab,
                     "merges": merges}}
    with open(path, "w") as f:
        json.dump(tok, f, ensure_ascii=False)
    return special + 1


def make_texts(n):
    rng = random.Random(7)
    words = ("the model reads documents in stream order and every layer moves the hidden state "
             "a little further along its path while deeper networks take smaller steps").split()
    texts = []
    for i in range(n):
        if i == 5:
            texts.append("a")  # one token: no prediction site at all
            continue
        k = rng.choice([3, 8, 15, 30, 60])
        texts.append(" ".join(rng.choice(words) for _ in range(k)) + ".")
    return texts


def make_model(folder, tokenizer):
    os.makedirs(folder, exist_ok=True)
    config = ref.neox_config(HIDDEN, LAYERS, 4 * HIDDEN, VOCAB, True)
    weights = ref.neox_weights(config, ref.Init(11))
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    ref.write_safetensors(os.path.join(folder, "model.safetensors"), weights, {"format": "pt"})
    shutil.copy(tokenizer, os.path.join(folder, "tokenizer.json"))
    return ref.NeoX(config, {k: v.to(torch.float64) for k, v in weights.items()})


def read_shards(prefix):
    """Documents of depthscale shards PREFIX_*.bin (format in lib/probe/shards.hpp)."""
    docs = []
    for path in sorted(glob.glob(prefix + "_*.bin")):
        raw = open(path, "rb").read()
        assert raw[:8] == b"DSTOKSHD"
        width, = struct.unpack_from("<I", raw, 12)
        n_docs, n_tok = struct.unpack_from("<QQ", raw, 32)
        offsets = np.frombuffer(raw, "<u8", n_docs + 1, 64)
        tokens = np.frombuffer(raw, "<u2" if width == 2 else "<u4", n_tok, 64 + 8 * (n_docs + 1))
        docs += [tokens[offsets[i]:offsets[i + 1]].astype(np.int64) for i in range(n_docs)]
    return docs


def fnv1a64(data):
    h = 0xcbf29ce484222325
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


# --- running -----------------------------------------------------------------------------------

class Probe:
    def __init__(self, build, workdir):
        self.exe = os.path.join(build, "apps", "depthscale")
        self.dir = workdir

    def cmd(self, np_, job, out, *extra):
        base = [self.exe, "run", job, "--out", out, *extra]
        return base if np_ is None else ["mpirun", "-np", str(np_), "--oversubscribe", *base]

    def run(self, np_, job, out, *extra, timeout=300):
        t0 = time.time()
        p = subprocess.run(self.cmd(np_, job, out, *extra), env=ENV, timeout=timeout,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        return p.returncode, p.stdout, time.time() - t0

    def start(self, np_, job, out, *extra):
        log = open(out + ".log", "w")
        return subprocess.Popen(self.cmd(np_, job, out, *extra), env=ENV, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)

    def start_fresh_until_a_batch(self, job, out):
        """Starts a 2-rank run on a clean `out` and returns once its first batch is in the sidecar
        (or the run ended)."""
        for x in glob.glob(out + "*"):
            shutil.rmtree(x) if os.path.isdir(x) else os.remove(x)
        side = out + ".ckpt/probe/tiny"
        proc = self.start(2, job, out, "--set", "probe.batch=%d" % BATCH)
        t0 = time.time()
        while time.time() - t0 < 120 and proc.poll() is None:
            if os.path.isdir(side) and any(n.endswith(".h5") for n in os.listdir(side)):
                break
            time.sleep(0.005)
        return proc

    def status(self, out):
        p = subprocess.run([self.exe, "status", out], env=ENV, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
        return p.returncode, p.stdout


def tree(path, skip_attrs=()):
    """{name: array or attrs} of everything under /probe, minus timings and hosts."""
    skip = {"wall_seconds", "host", "rank", *skip_attrs}
    out = {}
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            attrs = {k: v for k, v in obj.attrs.items() if k not in skip}
            out["@" + name] = attrs
            if isinstance(obj, h5py.Dataset):
                out[name] = obj[()]
        f["probe"].visititems(visit)
    return out


def same_tree(a, b):
    check(sorted(a) == sorted(b), "the same datasets and groups in both files (%d)" % len(a))
    for k in a:
        x, y = a[k], b[k]
        if k.startswith("@"):
            if sorted(x) != sorted(y):
                raise Failure("%s: attributes differ: %s vs %s" % (k, sorted(x), sorted(y)))
            for n in x:
                if not np.array_equal(np.asarray(x[n]), np.asarray(y[n])):
                    raise Failure("%s attribute %s differs: %r vs %r" % (k, n, x[n], y[n]))
        elif x.dtype != y.dtype or x.shape != y.shape or \
                x.tobytes() != y.tobytes():
            raise Failure("%s differs" % k)
    print("  ok: every dataset and attribute under /probe is bit-identical")


# --- checks of one finished file -------------------------------------------------------------

def angle(a, b):
    c = np.dot(a, b) / np.sqrt(np.dot(a, a) * np.dot(b, b))
    return float(np.arccos(np.clip(c, -1, 1)))


def check_file(path, docs, tokenizer, model):
    L = LAYERS
    with h5py.File(path, "r") as f:
        check("probe/tiny" in f, "/probe/tiny exists")
        g = f["probe/tiny"]
        check(g.attrs["status"] == "complete", "status = complete")
        check("batches" not in g, "batches/ unlinked once the model is whole")
        bare = []
        g.visititems(lambda name, obj: bare.append(name) if isinstance(obj, h5py.Dataset) and not all(
            isinstance(obj.attrs.get(k), str) and obj.attrs[k] for k in ("units", "description"))
            else None)
        check(not bare, "every dataset has units and a description%s" % (" (not: %s)" % bare if bare else ""))
        check(g["theta"].attrs["units"] == "radians" and g["cross_entropy"].attrs["units"] == "nats/token"
              and g["position"].attrs["units"] == "tokens", "units of theta, cross_entropy, position")
        used = [d[:MAX_TOKENS] for d in docs[:DOCUMENTS]]
        want_doc = np.concatenate([np.full(max(len(d) - 1, 0), i) for i, d in enumerate(used)])
        want_pos = np.concatenate([np.arange(max(len(d) - 1, 0)) for d in used])
        want_tok = np.concatenate([d[:-1] for d in used if len(d) > 1])
        N = len(want_doc)
        check(int(g.attrs["sites"]) == N and int(g.attrs["documents"]) == DOCUMENTS and
              int(g.attrs["tokens"]) == sum(len(d) for d in used) and
              int(g.attrs["batches"]) == BATCHES,
              "attrs: %d sites, %d documents, %d tokens, %d batches" %
              (N, DOCUMENTS, sum(len(d) for d in used), BATCHES))
        check(g.attrs["family"] == "gpt_neox" and int(g.attrs["num_layers"]) == L and
              g.attrs["dtype"] == "float32" and
              g.attrs["last_hidden"] == "final_norm" and
              "final_norm(output of the last block)" in g.attrs["hidden_convention"] and
              g.attrs["angles"] == "float64" and
              g.attrs["metrics"] == "norms,theta,theta_dh,angle_to_end,cross_entropy,proj_s",
              "attrs: family, num_layers, dtype, last_hidden, hidden_convention, angles, metrics")
        h = fnv1a64(open(tokenizer, "rb").read())
        check(g.attrs["tokenizer_hash"] == "0x%016x" % h, "attrs: tokenizer hash of tokenizer.json")
        shapes = {"norms": (N, L + 1), "theta": (N, L), "theta_dh": (N, L - 1),
                  "angle_to_end": (N, L), "cross_entropy": (N, L), "proj_s": (N, L + 1),
                  "token": (N,), "doc": (N,), "position": (N,)}
        for name, shape in shapes.items():
            if g[name].shape != shape:
                raise Failure("%s has shape %s, expected %s" % (name, g[name].shape, shape))
            if not np.all(np.isfinite(g[name][()])):
                raise Failure("%s has non-finite values" % name)
        check(True, "per-site datasets have their shapes and are finite")
        check(np.array_equal(g["doc"][()], want_doc) and np.array_equal(g["position"][()], want_pos)
              and np.array_equal(g["token"][()], want_tok),
              "token/doc/position are the shards' valid sites in stream order")
        theta = g["theta"][()]
        check(theta.min() >= 0 and theta.max() <= np.pi, "angles in [0, pi]")
        check(np.allclose(g["proj_s"][:, 0], 0, atol=1e-6) and
              np.allclose(g["proj_s"][:, L], 1, atol=1e-4), "proj_s is 0 at h_0 and 1 at h_L")
        check(np.allclose(g["angle_to_end"][:, L - 1], theta[:, L - 1], atol=1e-6),
              "angle_to_end[L-1] = theta[L-1]")
        # Summaries against the per-site arrays.
        s = g["summary"]
        for name in ("norms", "theta", "theta_dh", "angle_to_end", "cross_entropy", "proj_s"):
            want = g[name][()].astype(np.float64).mean(0)
            if not np.allclose(s[name][()], want, rtol=1e-9, atol=1e-12):
                raise Failure("summary/%s differs from the mean of %s" % (name, name))
        check(True, "summary/ per-layer means equal the means of the per-site arrays")
        mid = theta[:, 1:L - 1].astype(np.float64).mean()
        check(abs(s.attrs["theta_middle_mean"] - mid) < 1e-9, "summary theta_middle_mean")
        p = g["pca"]
        cov = np.cov(theta.astype(np.float64), rowvar=False)
        w = np.sort(np.linalg.eigvalsh(cov))[::-1]
        check(np.allclose(p["explained_variance"][()], w, rtol=1e-6, atol=1e-12) and
              abs(p["explained"][()].sum() - 1) < 1e-9 and p["components"].shape == (L, L),
              "pca/: explained variance = eigenvalues of the theta covariance")
        early, even = p["early_stop_reference"][()], p["even_reference"][()]
        de = ((theta.astype(np.float64) - early) ** 2).sum(1)
        dv = ((theta.astype(np.float64) - even) ** 2).sum(1)
        check(p.attrs["reference_early_stop_fraction"] == np.mean(de < dv),
              "pca reference_early_stop_fraction = share of sites nearer the early-stop trajectory"
              " (%.3f)" % p.attrs["reference_early_stop_fraction"])
        # The paper's statistic: PC1 score above the threshold, PC1 oriented towards early stop.
        pc1 = p["components"][0]
        check(float(pc1 @ (early - even)) > 0, "pca: PC1 points towards the early-stop trajectory")
        score = (theta.astype(np.float64) - p["mean"][()]) @ pc1
        threshold = float(p.attrs["early_stop_pc1"])
        member, first = score > threshold, want_pos == 0
        table = np.array([[np.sum(~member & ~first), np.sum(~member & first)],
                          [np.sum(member & ~first), np.sum(member & first)]])
        check(threshold == 0.5 and int(p.attrs["early_stop_count"]) == member.sum() and
              p.attrs["early_stop_fraction"] == member.mean() and
              np.array_equal(p["early_stop_by_position"][()], table) and
              int(p.attrs["first_position_sites"]) == first.sum(),
              "pca early_stop_*: the PC1 > 0.5 cluster, cross-tabulated with position 0 (%s)" %
              table.tolist())
        # A few sites against the float64 reference forward (lib/probe's independent model).
        rng = random.Random(3)
        long_sites = [i for i in range(N) if want_pos[i] > 20 and want_pos[i] + 2 < len(used[want_doc[i]])]
        picks = [0, N - 1] + rng.sample(long_sites, 2)
        worst = 0.0
        for i in picks:
            d, t = int(want_doc[i]), int(want_pos[i])
            ids = torch.tensor(used[d][:t + 1])
            hs = [model.embed(ids)]
            for l in range(L):
                hs.append(model.block(l, hs[-1]))
            hv = [x[t].numpy() for x in hs[:L]] + [model.final(hs[L])[t].numpy()]  # HF's last
            want_theta = [angle(hv[l], hv[l + 1]) for l in range(L)]
            worst = max(worst, np.max(np.abs(np.array(want_theta) - theta[i])))
            target = int(used[d][t + 1])
            logits = model.head(model.final(hs[L]))[t]
            ce = float(torch.logsumexp(logits, 0) - logits[target])
            ro = model.head(model.final(model.block(L - 1, hs[0])))[t]
            ce0 = float(torch.logsumexp(ro, 0) - ro[target])
            got = g["cross_entropy"][i]
            if abs(got[L - 1] - ce) > 1e-4 * max(1, abs(ce)) or \
                    abs(got[0] - ce0) > 1e-4 * max(1, abs(ce0)):
                raise Failure("site %d: cross_entropy %s vs reference %.6f (col L-1), %.6f (col 0)"
                              % (i, got, ce, ce0))
            if worst > 1e-4:
                raise Failure("site %d (doc %d, position %d): theta %s vs reference %s" %
                              (i, d, t, theta[i], want_theta))
        check(True, "theta and cross_entropy of %d sites equal the float64 reference (max |dtheta| "
              "%.1e)" % (len(picks), worst))


def make_fixture(pr, work):
    """Tokenizer, tiny model, shards and job file in `work`; returns (job, texts' docs, tok, model)."""
    texts = make_texts(DOCUMENTS + 10)
    tok = os.path.join(work, "tokenizer.json")
    vocab = make_tokenizer(tok, texts)
    assert vocab <= VOCAB
    model = make_model(os.path.join(work, "tiny-neox"), tok)
    with open(os.path.join(work, "docs.jsonl"), "w") as f:
        for t in texts:
            f.write(json.dumps({"text": t}) + "\n")
    p = subprocess.run([pr.exe, "tokenize", "--tokenizer", tok,
                        os.path.join(work, "docs.jsonl"), "--out",
                        os.path.join(work, "shards", "fw"), "--docs-per-shard", "50"],
                       env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    check(p.returncode == 0, "depthscale tokenize exits 0", p.stdout[-2000:])
    docs = read_shards(os.path.join(work, "shards", "fw"))
    check(len(docs) == len(texts) and len(glob.glob(os.path.join(work, "shards", "*.bin"))) == 3,
          "3 shards of %d documents" % len(texts))
    job = os.path.join(work, "probe.yaml")
    with open(job, "w") as f:
        f.write("""name: probe-e2e
kind: probe
seed: 1
probe:
  models: [{name: tiny, path: %s}]
  shards: %s
  documents: %d
  max_tokens: %d
  batch: %d
  dtype: float32
  device: cpu
""" % (os.path.join(work, "tiny-neox"), os.path.join(work, "shards", "fw_*.bin"), DOCUMENTS,
       MAX_TOKENS, 12))
    return job, docs, tok, model


def main():
    build = sys.argv[1]
    if len(sys.argv) == 4 and sys.argv[2] == "--fixture":
        # For the SLURM test: only make the inputs, in a folder it owns; print the job file.
        os.makedirs(sys.argv[3], exist_ok=True)
        job, _, _, _ = make_fixture(Probe(build, sys.argv[3]), sys.argv[3])
        print(job)
        return 0
    work = tempfile.mkdtemp(prefix="probe_e2e_")
    t_start = time.time()
    try:
        pr = Probe(build, work)
        job, docs, tok, model = make_fixture(pr, work)

        print("1. uninterrupted 2-rank run (--set probe.batch=%d)" % BATCH)
        a = os.path.join(work, "a.h5")
        rc, log, secs = pr.run(2, job, a, "--set", "probe.batch=%d" % BATCH)
        check(rc == 0, "2-rank probe exits 0 (%.1f s)" % secs, log[-3000:])
        check("→ rank 1" in log and "→ rank 0" in log, "both ranks worked on batches")
        check(not os.path.exists(a + ".ckpt/probe/tiny"), "the model's sidecar batch files are gone")
        with h5py.File(a, "r") as f:
            data = []
            f.visititems(lambda n, o: data.append(o.nbytes) if isinstance(o, h5py.Dataset) else None)
        size = os.path.getsize(a)
        check("compacted" in log and size < 1.25 * sum(data) + 100000,
              "the file was compacted: %d bytes for %d bytes of data" % (size, sum(data)), log[-2000:])
        check_file(a, docs, tok, model)
        rc, st = pr.status(a)
        check(rc == 0 and re.search(r"^tiny\s+complete\s+\d+\s+0\s+0\s+%d\s" % DOCUMENTS, st,
                                    re.M) is not None,
              "depthscale status shows the model complete with its %d documents" % DOCUMENTS, st)

        print("2. SIGKILL part-way, then --resume")
        b = os.path.join(work, "b.h5")
        side = b + ".ckpt/probe/tiny"
        killed_at = None
        for attempt in range(5):
            proc = pr.start_fresh_until_a_batch(job, b)
            time.sleep(random.Random(attempt).uniform(0, 0.15))
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            time.sleep(0.5)  # the ranks die a moment after mpirun: count once they are gone
            done = [n for n in os.listdir(side) if n.endswith(".h5")] if os.path.isdir(side) else []
            if 0 < len(done) < BATCHES:
                killed_at = len(done)
                break
        check(killed_at is not None, "killed with %s of %d batches in the sidecar" %
              (killed_at, BATCHES))
        rc, log, secs = pr.run(None, job, b, "--dry-run", "--set", "probe.batch=%d" % BATCH)
        plan, _, cost = log.partition("cost of the batches to run")
        row = [l.split() for l in plan.splitlines() if l.startswith("tiny ")]
        check(rc == 0 and len(row) == 1 and row[0][1] == "gpt_neox" and
              row[0][3:6] == [str(BATCHES), str(killed_at), "0"],
              "dry run of the killed file shows its %d complete batches" % killed_at, log[-1500:])
        # The cost table: exact tokens of the documents, FLOPs of the pending batches only, the
        # memory of a worker and a measured matmul rate.
        crow = [l.split() for l in cost.splitlines() if l.startswith("tiny ")]
        tokens = sum(min(len(d), MAX_TOKENS) for d in docs[:DOCUMENTS])
        check(len(crow) == 1 and crow[0][6:9] == [str(DOCUMENTS), str(tokens), "exact"] and
              0 < float(crow[0][11]) and 0 < float(crow[0][12]) < 4 and float(crow[0][13]) > 0 and
              "time = FLOPs / the matmul rate measured here" in cost,
              "the dry run's cost table: %d exact tokens, TFLOP, peak GiB, GFLOP/s" % tokens,
              cost[-2500:])
        rc, st = pr.status(b)
        row = [l.split() for l in st.splitlines() if l.startswith("tiny ")]
        check(rc == 0 and len(row) == 1 and row[0][1] == "running" and
              int(row[0][2]) + int(row[0][4]) == killed_at and row[0][3] == "0",
              "depthscale status of the killed file: running, %d batches done (file + sidecar)" %
              killed_at, st)
        # As if the kill had also torn the main file: the sidecar batch files are the ground truth.
        with open(b, "r+b") as f:
            f.truncate(os.path.getsize(b) * 6 // 10)
        rc, log, secs = pr.run(2, job, b, "--resume", "--set", "probe.batch=%d" % BATCH)
        check(rc == 0, "resumed 2-rank run exits 0 (%.1f s)" % secs, log[-3000:])
        check("rebuilt it" in log and "copied %d tiny batch results" % killed_at in log,
              "the truncated file was rebuilt and its %d batches recopied from the sidecar" %
              killed_at, log[-3000:])
        ran = log.count(" complete (rank ")
        check(0 < ran < BATCHES, "the resumed run computed only the missing batches (%d of %d)" %
              (ran, BATCHES))
        same_tree(tree(a), tree(b))
        rc, log, _ = pr.run(2, job, b, "--resume", "--set", "probe.batch=%d" % BATCH)
        check(rc == 0 and " complete (rank " not in log, "resuming a finished file computes nothing")
        rc, log, _ = pr.run(None, job, b, "--resume", "--set", "probe.batch=%d" % (BATCH + 1))
        check(rc == 2 and "probe.batch changed" in log, "a changed batch size is refused (exit 2)")

        print("3. SIGUSR1 to mpirun (SLURM's warning signal): exit 3, then --resume")
        c = os.path.join(work, "c.h5")
        rc = None
        for attempt in range(5):
            proc = pr.start_fresh_until_a_batch(job, c)
            proc.send_signal(signal.SIGUSR1)
            rc = proc.wait(timeout=120)
            if rc == 3:
                break
        log = open(c + ".log").read()
        check(rc == 3 and "stop requested" in log, "stopped with exit code 3 (rc %s)" % rc, log[-2000:])
        rc, log, secs = pr.run(2, job, c, "--resume", "--set", "probe.batch=%d" % BATCH)
        check(rc == 0, "resume after the stop exits 0", log[-3000:])
        same_tree(tree(a), tree(c))

        print("4. a model that cannot be loaded: failed batches, exit 4, then --retry-failed")
        broken = os.path.join(work, "broken-neox")
        shutil.copytree(os.path.join(work, "tiny-neox"), broken)
        weights = os.path.join(broken, "model.safetensors")
        shutil.move(weights, weights + ".good")
        with open(weights, "wb") as f:
            f.write(b"\x10\x00\x00\x00\x00\x00\x00\x00{}")  # a header without the weights
        job2 = os.path.join(work, "broken.yaml")
        with open(job2, "w") as f:
            f.write(open(job).read().replace(os.path.join(work, "tiny-neox"), broken))
        e = os.path.join(work, "e.h5")
        rc, log, _ = pr.run(2, job2, e, "--set", "probe.batch=%d" % BATCH)
        with h5py.File(e, "r") as f:
            st = [g.attrs["status"] for g in f["probe/tiny/batches"].values()]
            err = f["probe/tiny/batches/000000"].attrs["error"]
        check(rc == 4 and len(st) == BATCHES and set(st) == {"failed"} and broken in err,
              "exit 4 with every batch status=failed and the error recorded (%s)" % err[:80],
              log[-2000:])
        rc, log, _ = pr.run(2, job2, e, "--resume", "--set", "probe.batch=%d" % BATCH)
        check(rc == 4 and " complete (rank " not in log and "FAILED" not in log,
              "--resume alone leaves failed batches as they are (exit 4)", log[-2000:])
        shutil.move(weights + ".good", weights)
        rc, log, _ = pr.run(2, job2, e, "--resume", "--retry-failed", "--set",
                            "probe.batch=%d" % BATCH)
        check(rc == 0, "--retry-failed reruns them (exit 0)", log[-2000:])
        same_tree(tree(a, {"model_path", "shards"}), tree(e, {"model_path", "shards"}))

        print("5. dry run with a missing model folder")
        rc, log, _ = pr.run(None, job, os.path.join(work, "c.h5"), "--dry-run", "--set",
                            "probe.models=[{name: gone, path: /nonexistent/gone-model}]")
        check(rc == 2 and "/nonexistent/gone-model does not exist" in log and
              "probe.yaml:(--set): probe.models[0].path" in log,
              "exit 2 naming the missing path and key", log[-800:])
        print("5b. dry run from config.json alone, without the shards")
        bare = os.path.join(work, "config-only")
        os.makedirs(bare, exist_ok=True)
        shutil.copy(os.path.join(work, "tiny-neox", "config.json"), bare)
        rc, log, _ = pr.run(None, job, os.path.join(work, "bare.h5"), "--dry-run", "--set",
                            "probe.models=[{name: bare, path: %s}]" % bare, "--set",
                            "probe.shards=%s" % os.path.join(work, "absent", "fw_*.bin"))
        _, _, cost = log.partition("cost of the batches to run")
        crow = [l.split() for l in cost.splitlines() if l.startswith("bare ")]
        check(rc == 0 and "no file matches" in log and len(crow) == 1 and
              crow[0][6:9] == [str(DOCUMENTS), str(DOCUMENTS * MAX_TOKENS), "bound"] and
              float(crow[0][11]) > 0,
              "exit 0 with the absent shards named and documents x max_tokens as the bound",
              log[-2500:])
        os.remove(os.path.join(bare, "config.json"))
        rc, log, _ = pr.run(None, job, os.path.join(work, "bare.h5"), "--dry-run", "--set",
                            "probe.models=[{name: bare, path: %s}]" % bare)
        check(rc == 2 and "has no config.json" in log, "without config.json: exit 2 naming it",
              log[-800:])
        print("6. a job array's shape: two slices (run.slice), joined by depthscale merge")
        slices = [os.path.join(work, "slice%d.h5" % i) for i in range(2)]
        for i, sl in enumerate(slices):
            rc, log, secs = pr.run(1, job, sl, "--set", "probe.batch=%d" % BATCH,
                                   "--set", "run.slice=%d/2" % i)
            check(rc == 0, "slice %d/2 exits 0 (%.1f s)" % (i, secs), log[-2000:])
            with h5py.File(sl, "r") as f:
                mine = sorted(f["probe/tiny/batches"].keys())
                whole = "status" in f["probe/tiny"].attrs
            want = ["%06d" % b for b in range(BATCHES) if b % 2 == i]
            check(mine == want and not whole,
                  "slice %d holds batches %s..%s of every other one, the model not finalised" %
                  (i, want[0], want[-1]), str(mine))
        merged = os.path.join(work, "merged.h5")
        p = subprocess.run([pr.exe, "merge", *slices, "--out", merged], env=ENV,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        check(p.returncode == 0 and "1 models finished" in p.stdout,
              "merge joins the slices and finalises the model", p.stdout[-2000:])
        same_tree(tree(a), tree(merged))
        rc, st = pr.status(merged)
        check(rc == 0 and re.search(r"^tiny\s+complete\s", st, re.M) is not None,
              "depthscale status shows the merged model complete", st)

        print("7. analysis keys: last_block, chosen metrics, bf16 angles; with and without "
              "per-site arrays")
        keys = ["--set", "probe.batch=%d" % BATCH, "--set", "probe.last_hidden=last_block",
                "--set", "probe.metrics=[theta, norms]", "--set", "probe.angles=bfloat16"]
        kept, summ = os.path.join(work, "kept.h5"), os.path.join(work, "summ.h5")
        rc, log, _ = pr.run(2, job, kept, *keys)
        check(rc == 0, "run with the analysis keys exits 0", log[-2000:])
        rc, log, _ = pr.run(2, job, summ, *keys, "--set", "probe.store_per_token=false")
        check(rc == 0, "the same with store_per_token: false exits 0", log[-2000:])
        with h5py.File(kept, "r") as f, h5py.File(summ, "r") as g:
            k, m = f["probe/tiny"], g["probe/tiny"]
            check(sorted(x for x in k if isinstance(k[x], h5py.Dataset)) ==
                  ["doc", "norms", "position", "theta", "token"] and
                  not [x for x in m if isinstance(m[x], h5py.Dataset)],
                  "per-site datasets: only the chosen metrics, none without store_per_token")
            check(sorted(k["summary"]) == ["norms", "theta"] == sorted(m["summary"]) and
                  k.attrs["metrics"] == "norms,theta" and k.attrs["last_hidden"] == "last_block"
                  and k.attrs["angles"] == "bfloat16",
                  "summary/ holds the chosen metrics; attributes record the choices")
            theta = k["theta"][()]
            bf = torch.from_numpy(theta).to(torch.bfloat16).float().numpy()
            check(np.array_equal(theta, bf), "bf16 angles: every theta is a bfloat16 number")
            with h5py.File(a, "r") as h:
                t64 = h["probe/tiny/theta"][()]
            dev = np.abs(theta[:, :LAYERS - 1] - t64[:, :LAYERS - 1]).max()
            check(dev < 0.02 and dev > 0,
                  "bf16 theta lies within bf16 rounding of the float64 run's (max %.4f)" % dev)
            same = all(k["pca"].attrs[x] == m["pca"].attrs[x] for x in
                       ("early_stop_count", "early_stop_fraction", "early_stop_first_position"))
            check(same and np.array_equal(k["pca/early_stop_by_position"][()],
                                          m["pca/early_stop_by_position"][()]),
                  "the early-stop statistic is the same without per-site arrays (%d of %d sites)"
                  % (k["pca"].attrs["early_stop_count"], k.attrs["sites"]))

        print("8. shards that cannot be shown to be the model's tokenizer's are refused")
        llmc = os.path.join(work, "llmc_000.bin")
        toks = np.concatenate([[VOCAB - 1] + list(d) for d in docs[:DOCUMENTS]]).astype(np.uint16)
        header = np.zeros(256, dtype=np.int32)
        header[:3] = [20240520, 1, len(toks)]
        with open(llmc, "wb") as f:
            f.write(header.tobytes() + toks.tobytes())
        sep = ["--set", "probe.shards=%s" % llmc, "--set", "probe.separator=%d" % (VOCAB - 1),
               "--set", "probe.batch=%d" % BATCH]
        rc, log, _ = pr.run(None, job, os.path.join(work, "llmc.h5"), *sep)
        check(rc != 0 and "records no tokenizer" in log and "llm.c" in log and
              "depthscale tokenize" in log and "probe.check_tokenizer: false" in log,
              "an llm.c shard is refused, with how to make the right shards (exit %d)" % rc,
              log[-1500:])
        rc, log, _ = pr.run(None, job, os.path.join(work, "llmc-trusted.h5"), *sep,
                            "--set", "probe.check_tokenizer=false")
        check(rc == 0, "probe.check_tokenizer: false accepts it", log[-1500:])
        bare = os.path.join(work, "no-tokenizer")
        shutil.copytree(os.path.join(work, "tiny-neox"), bare)
        os.remove(os.path.join(bare, "tokenizer.json"))
        rc, log, _ = pr.run(None, job, os.path.join(work, "bare.h5"), "--set",
                            "probe.models=[{name: tiny, path: %s}]" % bare)
        check(rc == 2 and "has no tokenizer" in log and "probe.models[0].path" in log,
              "a model folder without tokenizer files is refused (exit 2)", log[-1500:])

        print("9. depthscale plot: per-token trajectories (Figs 2a, 2e) from the first sites")
        figs = os.path.join(work, "figs")
        p = subprocess.run([pr.exe, "plot", a, "--out", figs], env=ENV, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
        png = os.path.join(figs, "probe_token_trajectories.png")
        check(p.returncode == 0 and os.path.isfile(png) and os.path.getsize(png) > 0,
              "depthscale plot exits 0 and draws probe_token_trajectories.png", p.stdout[-2000:])
        with open(os.path.join(figs, "probe_token_trajectories.csv")) as fh:
            rows = list(csv.DictReader(fh))
        with h5py.File(a, "r") as f:
            g = f["probe/tiny"]
            for metric in ("theta", "theta_dh"):
                want = g[metric][:20].astype(np.float64)  # the first 20 sites
                lines = np.full(want.shape, np.nan)
                mean = np.full(want.shape[1], np.nan)
                mine = [r for r in rows if r["metric"] == metric]
                for r in mine:
                    if r["kind"] == "site":
                        lines[int(r["site"]), int(r["layer"])] = float(r["angle"])
                    else:
                        mean[int(r["layer"])] = float(r["angle"])
                check(len(mine) == want.size + want.shape[1] and
                      all(r["model"] == "tiny" for r in mine) and np.array_equal(lines, want) and
                      np.array_equal(mean, g["summary/" + metric][()]),
                      "%s: the grey lines are its first 20 rows, the mean is summary/%s"
                      % (metric, metric))
        figs = os.path.join(work, "figs-summ")
        p = subprocess.run([pr.exe, "plot", summ, "--out", figs], env=ENV,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        check(p.returncode == 0 and "probe_token_trajectories skipped" in p.stdout and
              not os.path.exists(os.path.join(figs, "probe_token_trajectories.png")),
              "without store_per_token the token trajectories are skipped, saying why",
              p.stdout[-2000:])

        print("PASS (%.1f s)" % (time.time() - t_start))
        return 0
    except Failure as e:
        print("FAIL:", e)
        return 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
