#!/usr/bin/env python3
"""Peak memory of a probe worker, measured against the dry run's estimate (lib/probe/cost.hpp).

Writes a random GPT-NeoX model (safetensors, FP32; weights from tests/reference/llm_reference.py)
and one llm.c-format token shard of random documents, prints `depthscale run JOB --dry-run`, then
runs the job in one process (rank 0 with its worker thread, no mpirun) while sampling its resident
set from /proc every 20 ms, and prints the measured peak (VmHWM of the whole run, and the largest
sample while loading and while probing) against the estimate, and the wall time against the dry
run's time at its measured matmul rate.

    bench/probe_memory.py [BUILD_DIR] [--layers 12] [--hidden 1024] [--vocab 16384]
                          [--batch 8] [--tokens 512] [--documents 8] [--threads 0] [--keep DIR]
                          [--set KEY=VALUE ...]

The defaults run in about 1.5-3 minutes on 2 cores and stay under 3 GB.
"""
import argparse
import json
import os
import re
import struct
import subprocess
import sys
import tempfile
import threading
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "reference"))
import llm_reference as ref  # noqa: E402

SEPARATOR = 0  # the shard's document separator (never a document token here)


def write_model(folder, layers, hidden, vocab, seed=1):
    os.makedirs(folder, exist_ok=True)
    config = ref.neox_config(hidden, layers, 4 * hidden, vocab, True)
    config["num_attention_heads"] = max(1, hidden // 64)
    config["max_position_embeddings"] = 4096
    weights = ref.neox_weights(config, ref.Init(seed))
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    ref.write_safetensors(os.path.join(folder, "model.safetensors"), weights, {"format": "pt"})
    return sum(t.numel() for t in weights.values())


def write_llmc_shard(path, documents, vocab, seed=2):
    """llm.c uint16 layout: 256 int32 header (magic 20240520, version 1, token count), then the
    tokens, each document after the separator."""
    g = torch.Generator().manual_seed(seed)
    tokens = []
    for n in documents:
        tokens.append(SEPARATOR)
        tokens += torch.randint(1, vocab, (n,), generator=g).tolist()
    header = [20240520, 1, len(tokens)] + [0] * 253
    with open(path, "wb") as f:
        f.write(struct.pack("<256i", *header))
        f.write(struct.pack("<%dH" % len(tokens), *tokens))


def rss_sampler(pid, samples, stop):
    while not stop.is_set():
        try:
            with open("/proc/%d/status" % pid) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        samples.append((time.time(), int(line.split()[1]) * 1024))
        except OSError:
            break
        time.sleep(0.02)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build", nargs="?", default="build")
    ap.add_argument("--layers", type=int, default=12)
    ap.add_argument("--hidden", type=int, default=1024)
    ap.add_argument("--vocab", type=int, default=16384)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--tokens", type=int, default=512)
    ap.add_argument("--documents", type=int, default=8)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--keep", help="write the inputs here and keep them")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="a job override passed to both runs, e.g. probe.last_hidden=last_block")
    a = ap.parse_args()
    exe = os.path.join(os.path.abspath(a.build), "apps", "depthscale")
    work = a.keep or tempfile.mkdtemp(prefix="ds-probe-mem-")
    os.makedirs(work, exist_ok=True)
    model = os.path.join(work, "model")
    params = write_model(model, a.layers, a.hidden, a.vocab)
    # Every document at least max_tokens long but one shorter (padding), one much shorter.
    lengths = [a.tokens + 50] * a.documents
    if a.documents > 2:
        lengths[1], lengths[2] = a.tokens // 2, a.tokens // 8
    write_llmc_shard(os.path.join(work, "shard_000.bin"), lengths, a.vocab)
    job = os.path.join(work, "job.yaml")
    with open(job, "w") as f:
        f.write("name: probe-memory\nkind: probe\nseed: 1\nprobe:\n"
                "  models: [{name: bench, path: %s}]\n  shards: %s/shard_*.bin\n"
                "  separator: %d\n  documents: %d\n  max_tokens: %d\n  batch: %d\n"
                # Random ids for a random model with no tokenizer: nothing to check them against.
                "  check_tokenizer: false\n"
                "run:\n  threads: %d\n" % (model, work, SEPARATOR, a.documents, a.tokens,
                                           a.batch, a.threads))
    out = os.path.join(work, "out.h5")
    for p in (out,):
        if os.path.exists(p):
            os.remove(p)
    env = dict(os.environ, DEPTHSCALE_PROGRESS_SECONDS="1000")
    print("model: GPT-NeoX, %d layers, d = %d, %d heads, vocab %d, %.1fM parameters (FP32, %.2f GB)"
          % (a.layers, a.hidden, max(1, a.hidden // 64), a.vocab, params / 1e6, params * 4 / 1e9))
    print("job: %d documents, batch %d, max_tokens %d; inputs in %s" %
          (a.documents, a.batch, a.tokens, work))

    sets = [x for kv in a.set for x in ("--set", kv)]
    dry = subprocess.run([exe, "run", job, "--out", out, "--dry-run", *sets], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if dry.returncode != 0:
        sys.exit("dry run failed:\n" + dry.stderr)
    print("\n--- depthscale run --dry-run ---")
    print(dry.stdout.strip())
    row = next(l.split() for l in dry.stdout.splitlines()[::-1] if l.startswith("bench "))
    est_gib, gflops, est_time = float(row[12]), float(row[13]), " ".join(row[14:])
    total_tflop = float(row[11])
    mem = re.search(r"bench: ([0-9.]+) GiB = process ([0-9.]+) \+ weights ([0-9.]+) \+ max\("
                    r"checkpoint mapped while loading ([0-9.]+), hidden states ([0-9.]+) \+ "
                    r"max\(one block ([0-9.]+), metrics ([0-9.]+)\) \+ results ([0-9.]+)\)",
                    dry.stdout)
    load_est = (float(mem.group(2)) + float(mem.group(3)) + float(mem.group(4))) * 1e9 / 2**30
    probe_est = (float(mem.group(2)) + float(mem.group(3)) + float(mem.group(5)) +
                 max(float(mem.group(6)), float(mem.group(7))) + float(mem.group(8))) * 1e9 / 2**30

    print("\n--- depthscale run (one process, /usr/bin/time -v) ---")
    t0 = time.time()
    proc = subprocess.Popen(["/usr/bin/time", "-v", exe, "run", job, "--out", out, *sets], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # /usr/bin/time's child is depthscale: sample that one.
    child = None
    for _ in range(200):
        try:
            kids = open("/proc/%d/task/%d/children" % (proc.pid, proc.pid)).read().split()
        except OSError:
            kids = []
        if kids:
            child = int(kids[0])
            break
        time.sleep(0.005)
    samples, stop = [], threading.Event()
    sampler = threading.Thread(target=rss_sampler, args=(child, samples, stop))
    if child:
        sampler.start()
    loaded_at = [None]
    err_lines = []

    def read_err():
        for line in proc.stderr:
            err_lines.append(line)
            if loaded_at[0] is None and re.search(r"\] loaded bench ", line):
                loaded_at[0] = time.time()
    reader = threading.Thread(target=read_err)
    reader.start()
    proc.stdout.read()
    proc.wait()
    reader.join()
    stop.set()
    if child:
        sampler.join()
    wall = time.time() - t0
    err = "".join(err_lines)
    if proc.returncode != 0:
        sys.exit("run failed (%d):\n%s" % (proc.returncode, err[-3000:]))
    hwm = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", err).group(1)) * 1024
    batch_line = re.search(r"bench batch 0 complete .*", err)
    print(batch_line.group(0) if batch_line else "(no batch line)")
    t_load = loaded_at[0] or t0
    load_peak = max([r for t, r in samples if t <= t_load] or [0])
    probe_peak = max([r for t, r in samples if t > t_load] or [0])
    gib = 2.0**30
    if samples:
        # The resident set over the run, in tenths of it (load, forward, angles, the readouts).
        t_first, t_last = samples[0][0], samples[-1][0]
        span = max(t_last - t_first, 1e-9)
        tenths = [0.0] * 10
        for t, r in samples:
            k = min(9, int(10 * (t - t_first) / span))
            tenths[k] = max(tenths[k], r / 2.0**30)
        print("resident set by tenth of the run (GiB, max of 20 ms samples): " +
              " ".join("%.2f" % x for x in tenths))
    print("\n--- measured against the estimate ---")
    print("threads: %s; wall %.1f s for the whole run (load, probe, write)" %
          (a.threads or "cores / ranks", wall))
    print("peak RSS (VmHWM, whole run): %.2f GiB; estimate %.2f GiB; measured/estimate %.2f"
          % (hwm / gib, est_gib, hwm / gib / est_gib))
    print("  while loading (samples every 20 ms): %.2f GiB; estimate (process + weights + "
          "checkpoint) %.2f GiB; ratio %.2f" % (load_peak / gib, load_est, load_peak / gib / load_est))
    print("  while probing: %.2f GiB; estimate (process + weights + hidden + max(block, metrics) "
          "+ results) %.2f GiB; ratio %.2f" % (probe_peak / gib, probe_est,
                                                probe_peak / gib / probe_est))
    m = re.search(r"\(rank \d+, \d+ sites, ([0-9.]+) s,", err)
    batch_s = float(m.group(1)) if m else float("nan")
    print("time of the batch: %.1f s measured; %s estimated at the dry run's %.1f GFLOP/s "
          "(%.3g TFLOP: %.1f GFLOP/s achieved)" % (batch_s, est_time, gflops, total_tflop,
                                                    total_tflop * 1e3 / batch_s))
    print(json.dumps({"params": params, "peak_rss_gib": hwm / gib, "estimate_gib": est_gib,
                      "ratio": hwm / gib / est_gib, "load_peak_gib": load_peak / gib,
                      "load_estimate_gib": load_est, "probe_peak_gib": probe_peak / gib,
                      "probe_estimate_gib": probe_est, "batch_seconds": batch_s,
                      "estimated_time": est_time, "matmul_gflops": gflops,
                      "achieved_gflops": total_tflop * 1e3 / batch_s, "wall_seconds": wall}))
    if not a.keep:
        subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    main()
