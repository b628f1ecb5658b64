#!/usr/bin/env python3
"""End-to-end test of `depthscale convert`: pytorch_model.bin folders into safetensors folders.

Makes real torch.save checkpoints with tests/reference/torch_checkpoints.py (single and sharded,
tied embeddings, shared and non-contiguous storages, float16 / bfloat16), converts them, and checks
the output with readers independent of depthscale's: every safetensors file parsed here by hand
(header, offsets tiling the buffer), every tensor equal in name, dtype, shape and value to what
torch.load gives for the source, config.json copied byte for byte, shards and their index as
Hugging Face lays them out. Then: a second conversion into the same folder is refused without
--overwrite (exit 2) and with it replaces the old shards by one file; a malicious
pytorch_model.bin is refused (exit 1, the global named) and its payload does not run.

    convert_e2e.py BUILD_DIR
"""
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
GEN = os.path.join(HERE, "..", "reference", "torch_checkpoints.py")
DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
          "F64": torch.float64, "I64": torch.int64}


class Failure(Exception):
    pass


def check(cond, what, detail=""):
    if not cond:
        raise Failure(what + ("\n" + detail if detail else ""))
    print("  ok:", what)


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    buf = data[8 + n:]
    meta = header.pop("__metadata__", None)
    spans = sorted((v["data_offsets"][0], v["data_offsets"][1]) for v in header.values())
    at = 0
    for b, e in spans:
        if b != at:
            raise Failure("%s: data_offsets do not tile the buffer" % path)
        at = e
    if at != len(buf):
        raise Failure("%s: %d trailing bytes" % (path, len(buf) - at))
    out = {}
    for name, v in header.items():
        b, e = v["data_offsets"]
        dtype = DTYPES[v["dtype"]]
        raw = bytearray(buf[b:e])
        t = torch.frombuffer(raw, dtype=dtype) if e > b else torch.empty(0, dtype=dtype)
        out[name] = t.reshape(v["shape"])
    return out, meta


def read_folder(d):
    index = os.path.join(d, "model.safetensors.index.json")
    if os.path.exists(os.path.join(d, "model.safetensors")):
        return read_safetensors(os.path.join(d, "model.safetensors"))[0], None
    with open(index) as f:
        j = json.load(f)
    out = {}
    for shard in sorted(set(j["weight_map"].values())):
        part, meta = read_safetensors(os.path.join(d, shard))
        if meta != {"format": "pt"}:
            raise Failure("%s: metadata %r" % (shard, meta))
        for name in part:
            if j["weight_map"].get(name) != shard:
                raise Failure("%s holds %s but the index says %s" % (shard, name,
                                                                     j["weight_map"].get(name)))
        out.update(part)
    if set(out) != set(j["weight_map"]):
        raise Failure("the index lists tensors no shard holds")
    total = sum(t.numel() * t.element_size() for t in out.values())
    if j["metadata"]["total_size"] != total:
        raise Failure("total_size %d, tensors %d" % (j["metadata"]["total_size"], total))
    return out, j


def torch_weights(d):
    index = os.path.join(d, "pytorch_model.bin.index.json")
    if not os.path.exists(index):
        return dict(torch.load(os.path.join(d, "pytorch_model.bin")))
    with open(index) as f:
        files = sorted(set(json.load(f)["weight_map"].values()))
    out = {}
    for fname in files:
        out.update(torch.load(os.path.join(d, fname)))
    return out


def same(a, b):
    return (set(a) == set(b) and
            all(a[k].dtype == b[k].dtype and a[k].shape == b[k].shape and torch.equal(a[k], b[k])
                for k in a))


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    exe = os.path.join(sys.argv[1], "apps", "depthscale")
    work = tempfile.mkdtemp(prefix="ds-convert-e2e-")

    def convert(*args):
        p = subprocess.run([exe, "convert", *args], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
        return p.returncode, p.stdout

    try:
        models, hostile = os.path.join(work, "models"), os.path.join(work, "hostile")
        subprocess.run([sys.executable, GEN, "models", models], check=True)
        subprocess.run([sys.executable, GEN, "hostile", hostile], check=True)

        for case, shard_size, shards in (("opt_sharded", None, 1), ("qwen2_tied_bf16", None, 1),
                                         ("neox", "40KB", None), ("qwen2_sharded", "30KiB", None)):
            print("%s (--shard-size %s)" % (case, shard_size or "default"))
            src = os.path.join(models, case, "bin")
            out = os.path.join(work, "out", case)
            rc, log = convert(src, out, *(["--shard-size", shard_size] if shard_size else []))
            check(rc == 0, "convert exits 0", log)
            got, index = read_folder(out)
            want = torch_weights(src)
            check(same(got, want), "%d tensors equal torch.load's in name, dtype, shape, value" %
                  len(want))
            if shards == 1:
                check(index is None and not os.path.exists(
                    os.path.join(out, "model.safetensors.index.json")), "one model.safetensors")
            else:
                n = len(set(index["weight_map"].values()))
                check(n > 1 and all(f == "model-%05d-of-%05d.safetensors" % (i + 1, n)
                                    for i, f in enumerate(sorted(set(index["weight_map"].values())))),
                      "%d shards named model-0000k-of-%05d.safetensors, with the index" % (n, n))
            with open(os.path.join(src, "config.json"), "rb") as a, \
                    open(os.path.join(out, "config.json"), "rb") as b:
                check(a.read() == b.read(), "config.json copied")
            check(not [f for f in os.listdir(out) if ".tmp." in f], "no temporary files left")

        print("into a folder that holds a conversion already")
        src = os.path.join(models, "neox", "bin")
        out = os.path.join(work, "out", "neox")
        rc, log = convert(src, out)
        check(rc == 2 and "--overwrite" in log, "refused without --overwrite (exit 2)", log)
        rc, log = convert(src, out, "--overwrite")
        check(rc == 0, "--overwrite converts again", log)
        check(sorted(os.listdir(out)) == ["config.json", "model.safetensors"],
              "one model.safetensors replaces the old shards and index", str(os.listdir(out)))
        check(same(read_folder(out)[0], torch_weights(src)), "and holds the same tensors")

        print("in place: safetensors beside pytorch_model.bin")
        inplace = os.path.join(work, "inplace")
        shutil.copytree(os.path.join(models, "opt_f16", "bin"), inplace)
        rc, log = convert(inplace, inplace)
        check(rc == 0 and os.path.exists(os.path.join(inplace, "model.safetensors")),
              "converted in place", log)
        rc, log = convert(inplace, inplace, "--overwrite")
        check(rc == 2 and "safetensors already" in log,
              "a safetensors folder is not converted onto itself (exit 2)", log)

        print("a malicious pytorch_model.bin")
        evil = os.path.join(work, "evil")
        os.makedirs(evil)
        shutil.copy(os.path.join(hostile, "evil_system.bin"), os.path.join(evil,
                                                                        "pytorch_model.bin"))
        rc, log = convert(evil, os.path.join(work, "out", "evil"))
        check(rc == 1 and "posix.system" in log and "not allowed" in log,
              "refused (exit 1), naming the global", log)
        check(not os.path.exists(os.path.join(hostile, "pwned_evil_system")),
              "its payload did not run")
        print("PASS")
        return 0
    except Failure as e:
        print("FAIL:", e)
        return 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
