#!/usr/bin/env python3
"""End-to-end test of `depthscale report`: a real two-rank toy sweep, the report over it with the
Chinchilla fit and the LLM shapes, checked against the HDF5 file (h5py) and numpy.

    report_e2e.py BUILD_DIR SOURCE_DIR SHARED_DATA_DIR
"""
import os
import re
import subprocess
import sys
import tempfile

import h5py
import numpy as np

JOB = """name: e2e-report
kind: toy
seed: 7
grid:
  temperature: [1.0]
  rho: [0.0, 1.0]
  depth: [2, 3, 4, 6]
  teacher: [0, 1]
model: {width: 16, vocab: 32, teacher_depth: 16}
train:
  loss: kl
  steps: 300
  batch: 128
  lr: {base: 2.0e-3, schedule: linear_tail}
  eval: {every: 100, batches: 2}
  checkpoint_every: 100
probe_hidden: {inputs: 32}
"""

ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
           OMP_NUM_THREADS="1")


def check(cond, what):
    if not cond:
        raise SystemExit("FAILED: " + what)
    print("  ok:", what)


def main():
    build, source, shared = sys.argv[1:4]
    exe = os.path.join(build, "apps", "depthscale")
    chinchilla = os.path.join(shared, "chinchilla_fitting_data.csv")
    shapes = os.path.join(source, "jobs", "paper", "llm_shapes.csv")
    with tempfile.TemporaryDirectory() as d:
        job = os.path.join(d, "job.yaml")
        with open(job, "w") as f:
            f.write(JOB)
        sweep = os.path.join(d, "sweep.h5")
        subprocess.run(["mpirun", "-np", "2", "--oversubscribe", exe, "run", job, "--out", sweep],
                       env=ENV, check=True, timeout=300)
        out = os.path.join(d, "report")
        args = [exe, "report", sweep, "--out", out]
        if os.path.exists(chinchilla):
            args += ["--scaling", chinchilla, "--shapes", shapes]
        r = subprocess.run(args, env=ENV, capture_output=True, text=True, timeout=300)
        print(r.stdout[-2000:], r.stderr[-2000:])
        check(r.returncode == 0, "depthscale report exits 0")
        md = open(os.path.join(out, "report.md")).read()

        # The alpha table: the mean over replicates of /fits' final alpha, read with h5py.
        with h5py.File(sweep, "r") as h:
            check("fits" in h, "the report reduced the file (it has /fits now)")
            for rho in (0, 1):
                alphas = [h["fits"][g]["alpha"][-1] for g in h["fits"]
                          if h["fits"][g].attrs["rho"] == rho]
                mean = np.mean(alphas)
                sem = np.std(alphas, ddof=1) / np.sqrt(len(alphas))
                row = re.search(r"^\| %d \| 1 \| 2 \| ([-0-9.]+) ± ([0-9.]+) \|" % rho, md, re.M)
                check(row is not None, "an alpha row for rho = %d" % rho)
                check(abs(float(row.group(1)) - mean) <= 0.51 * 10 ** -len(row.group(1).split(".")[1])
                      + 1e-12, "rho %d: alpha %s is the replicate mean %.6f" % (rho, row.group(1), mean))
                check(abs(float(row.group(2)) - sem) <= 0.51 * 10 ** -len(row.group(2).split(".")[1])
                      + 1e-12, "rho %d: SEM %s is %.6f" % (rho, row.group(2), sem))
        # 300 steps is not the study's experiment: the toy alpha entries are not run.
        check(re.search(r"^\| toy_alpha \|.*\| not run \|", md, re.M) is not None,
              "toy alpha entries of the 40,000-step experiments are `not run` for a 300-step job")
        # Every image the document shows exists and is a PNG.
        images = re.findall(r"!\[[^]]*\]\(([^)]+)\)", md)
        check(len(images) >= 6, "%d figures in the document" % len(images))
        for rel in images:
            with open(os.path.join(out, rel), "rb") as f:
                check(f.read(8) == b"\x89PNG\r\n\x1a\n", rel + " is a PNG")
        if os.path.exists(chinchilla):
            # The shapes slope: numpy's least squares over the 203 kept rows, as the study's
            # notebook computes it (its output: 0.6046665568815158).
            data = np.genfromtxt(chinchilla, delimiter=",", names=True)
            cut = np.sort(data["loss"])[-40]
            kept = data[data["loss"] < cut]
            slope = np.polyfit(np.log(kept["d_model"]), np.log(kept["n_layers"]), 1)[0]
            row = re.search(r"^\| scaling_shapes_slope \| the Chinchilla models.*?\| ([0-9.]+) ± ", md,
                            re.M)
            check(row is not None and abs(float(row.group(1)) - slope) < 6e-4,
                  "shapes slope %s against numpy %.6f" % (row and row.group(1), slope))
            check(abs(slope - 0.6046665568815158) < 1e-9, "numpy reproduces the study's slope")
            check("model_shapes.png" in md and "scaling_parts.png" in md,
                  "the scaling figures are in the document")
            check(re.search(r"^\| scaling_alpha_D \| data exponent \|.*\| consistent", md, re.M)
                  is not None, "alpha_D is consistent with the study's")
    print("report e2e passed")


if __name__ == "__main__":
    main()
