#!/usr/bin/env python3
"""Real torch.save checkpoints for lib/probe's reader of PyTorch's format (torch_checkpoint.hpp).

Every file here is written by torch.save itself (Debian's python3-torch), as Hugging Face's
pytorch_model.bin are, then sometimes re-packed or damaged on purpose. Needs torch only.

    torch_checkpoints.py models OUTDIR    tiny random models, each twice:
        OUTDIR/<case>/st/   config.json + model.safetensors (written by hand, llm_reference.py)
        OUTDIR/<case>/bin/  config.json + pytorch_model.bin, or pytorch_model-0000k-of-0000n.bin
                            shards + pytorch_model.bin.index.json
      with the same tensors under the same names. The cases cover OPT (float16, keys saved from
      the bare model without "model.", lm_head tied to the embedding: one storage, two names),
      sharded OPT and Qwen2, GPT-NeoX (an OrderedDict with state_dict()'s _metadata attribute, a
      transposed non-contiguous weight, two weights that are slices of one storage, pickle
      protocol 4), tied Qwen2 in bfloat16 (protocol 5), and the same GPT-NeoX re-packed as
      ZIP64 with another archive folder name and a byteorder entry (checked with torch.load).

    torch_checkpoints.py hostile OUTDIR   files that must be refused, one per case, OUTDIR/<case>.bin;
      the malicious ones would create OUTDIR/pwned_<case> when loaded with Python's pickle (this
      script checks that they do, on a twin that writes elsewhere).

    torch_checkpoints.py big OUTDIR       a 4.3 GB torch.save file (real ZIP64 records), for the
      disabled test TorchModels.DISABLED_PastFourGiB.
"""

import collections
import io
import json
import math
import os
import pickle
import struct
import sys
import zipfile
import zlib

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import llm_reference as ref  # noqa: E402


# --- models ---------------------------------------------------------------------------------------

def share_storage(w, a, b):
    """Makes w[a] and w[b] slices of one storage (as a fused buffer split in two would be)."""
    buf = torch.cat([w[a].flatten(), w[b].flatten()])
    n = w[a].numel()
    w[a] = buf[:n].view(w[a].shape)
    w[b] = buf[n:].view(w[b].shape)
    assert w[a].storage().data_ptr() == w[b].storage().data_ptr()


def transpose_layout(w, name):
    """Same values, strides of a transposed matrix (non-contiguous)."""
    w[name] = w[name].t().contiguous().t()
    assert not w[name].is_contiguous()


def neox_case():
    c = ref.neox_config(32, 2, 128, 120, False)
    w = ref.neox_weights(c, ref.Init(11))
    share_storage(w, "gpt_neox.layers.0.attention.dense.weight",
                  "gpt_neox.layers.1.attention.dense.weight")
    transpose_layout(w, "gpt_neox.layers.0.mlp.dense_h_to_4h.weight")
    sd = collections.OrderedDict(sorted(w.items()))
    # As nn.Module.state_dict() returns it: BUILD sets this attribute when unpickled.
    sd._metadata = collections.OrderedDict([("", {"version": 1}), ("gpt_neox", {"version": 1})])
    return c, sd, 1, 4


def opt_f16_case():
    c = ref.opt_config(32, 2, 96, 110)
    w = {k: v.half() for k, v in ref.opt_weights(c, ref.Init(12)).items()}
    w = {k[len("model."):] if k.startswith("model.") else k: v for k, v in w.items()}
    w["lm_head.weight"] = w["decoder.embed_tokens.weight"]  # tied: one storage saved once
    return c, collections.OrderedDict(sorted(w.items())), 1, 2


def opt_sharded_case():
    c = ref.opt_config(64, 3, 128, 140)
    return c, ref.opt_weights(c, ref.Init(13)), 3, 2


def qwen2_tied_case():
    c = ref.qwen2_config(32, 2, 80, 130, True, 1e6)
    w = {k: v.bfloat16() for k, v in ref.qwen2_weights(c, ref.Init(14)).items()}
    w["lm_head.weight"] = w["model.embed_tokens.weight"]
    return c, w, 1, 5


def qwen2_sharded_case():
    c = ref.qwen2_config(64, 3, 96, 150, False, 10000.0)
    return c, ref.qwen2_weights(c, ref.Init(15)), 2, 2


CASES = {"neox": neox_case, "opt_f16": opt_f16_case, "opt_sharded": opt_sharded_case,
         "qwen2_tied_bf16": qwen2_tied_case, "qwen2_sharded": qwen2_sharded_case}


def save_bin(directory, sd, shards, protocol):
    os.makedirs(directory, exist_ok=True)
    if shards == 1:
        torch.save(sd, os.path.join(directory, "pytorch_model.bin"), pickle_protocol=protocol)
        return
    names = sorted(sd)
    per = math.ceil(len(names) / shards)
    weight_map, total = {}, 0
    for s in range(shards):
        fname = "pytorch_model-%05d-of-%05d.bin" % (s + 1, shards)
        part = {n: sd[n] for n in names[s * per:(s + 1) * per]}  # a plain dict, as HF's shards
        torch.save(part, os.path.join(directory, fname), pickle_protocol=protocol)
        for n, t in part.items():
            weight_map[n] = fname
            total += t.numel() * t.element_size()
    with open(os.path.join(directory, "pytorch_model.bin.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2)


def write_config(directory, config):
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "config.json"), "w") as f:
        json.dump(config, f, indent=2)


def zip_entries(path):
    with zipfile.ZipFile(path) as z:
        return [(i.filename, z.read(i.filename)) for i in z.infolist()]


def write_zip64(path, entries):
    """A STORED archive that uses ZIP64 records everywhere (0xFFFFFFFF in every 32-bit size and
    offset, the values in extra field 0x0001, a ZIP64 end record and its locator), as PyTorch's
    writer does for entries or archives past 4 GiB."""
    central = []
    with open(path, "wb") as f:
        for name, data in entries:
            nb, off, crc = name.encode(), f.tell(), zlib.crc32(data)
            extra = struct.pack("<HHQQ", 1, 16, len(data), len(data))
            f.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 45, 0, 0, 0, 0x21, crc, 0xFFFFFFFF,
                                0xFFFFFFFF, len(nb), len(extra)) + nb + extra + data)
            central.append((nb, crc, len(data), off))
        cd = f.tell()
        for nb, crc, size, off in central:
            extra = struct.pack("<HHQQQ", 1, 24, size, size, off)
            f.write(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 45, 45, 0, 0, 0, 0x21, crc,
                                0xFFFFFFFF, 0xFFFFFFFF, len(nb), len(extra), 0, 0, 0, 0,
                                0xFFFFFFFF) + nb + extra)
        end = f.tell()
        f.write(struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, len(central),
                            len(central), end - cd, cd))
        f.write(struct.pack("<IIQI", 0x07064B50, 0, end, 1))
        f.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF,
                            0xFFFFFFFF, 0))


def rename_archive(entries, folder):
    return [(folder + "/" + n.split("/", 1)[1], d) for n, d in entries]


def make_models(outdir):
    for name, make in CASES.items():
        config, sd, shards, protocol = make()
        d = os.path.join(outdir, name)
        write_config(os.path.join(d, "st"), config)
        ref.write_safetensors(os.path.join(d, "st", "model.safetensors"), dict(sd),
                              {"format": "pt"})
        write_config(os.path.join(d, "bin"), config)
        save_bin(os.path.join(d, "bin"), sd, shards, protocol)
        if shards == 1:  # torch.load reads back what was saved
            back = torch.load(os.path.join(d, "bin", "pytorch_model.bin"))
            assert all(torch.equal(back[k], sd[k]) for k in sd)
        if name == "neox":
            src = zip_entries(os.path.join(d, "bin", "pytorch_model.bin"))
            entries = rename_archive(src, "custom_name") + [("custom_name/byteorder", b"little")]
            z = os.path.join(outdir, "neox_zip64", "bin")
            write_config(z, config)
            write_zip64(os.path.join(z, "pytorch_model.bin"), entries)
            back = torch.load(os.path.join(z, "pytorch_model.bin"))
            assert all(torch.equal(back[k], sd[k]) for k in sd), "torch.load of the ZIP64 file"
            write_config(os.path.join(outdir, "neox_zip64", "st"), config)
            ref.write_safetensors(os.path.join(outdir, "neox_zip64", "st", "model.safetensors"),
                                  dict(sd), {"format": "pt"})


# --- hostile files ------------------------------------------------------------------------------

class System:
    """Unpickled by Python, runs a shell command (pickle's classic)."""

    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


class Eval:
    def __init__(self, code):
        self.code = code

    def __reduce__(self):
        import builtins
        return (builtins.eval, (self.code,))


def rewrite(src, dst, edit, compression=zipfile.ZIP_STORED):
    entries = edit(zip_entries(src))
    with zipfile.ZipFile(dst, "w", compression) as z:
        for n, d in entries:
            z.writestr(n, d)


def replace_entry(suffix, data):
    return lambda entries: [(n, data if n.endswith(suffix) else d) for n, d in entries]


def make_hostile(outdir):
    outdir = os.path.abspath(outdir)
    os.makedirs(outdir, exist_ok=True)
    g = torch.Generator().manual_seed(3)
    sd = collections.OrderedDict([("a.weight", torch.randn(4, 3, generator=g)),
                                  ("b.bias", torch.randn(5, generator=g))])
    good = os.path.join(outdir, "good.bin")
    torch.save(sd, good)
    p = lambda name: os.path.join(outdir, name + ".bin")  # noqa: E731

    def evil(name, payload, protocol, top_level=False):
        obj = payload if top_level else collections.OrderedDict(list(sd.items()) + [("x", payload)])
        torch.save(obj, p(name), pickle_protocol=protocol)

    for name, payload, protocol, top in (
            ("evil_system", lambda m: System("touch " + m), 2, False),
            ("evil_eval", lambda m: Eval("open(%r, 'w').close()" % m), 4, False),
            ("evil_top_level", lambda m: System("touch " + m), 2, True)):
        marker = os.path.join(outdir, "pwned_" + name)
        evil(name, payload(marker), protocol, top)
        # Proof that the file is what it claims: Python's pickle runs it (on a twin whose payload
        # writes elsewhere, then removed).
        twin_marker = os.path.join(outdir, "twin_marker")
        evil("twin", payload(twin_marker), protocol, top)
        torch.load(p("twin"))
        assert os.path.exists(twin_marker), name + ": the payload did not run under torch.load"
        os.remove(twin_marker)
        os.remove(p("twin"))
        assert not os.path.exists(marker)

    # Not the zip format at all.
    torch.save(sd, p("legacy"), _use_new_zipfile_serialization=False)
    with open(good, "rb") as f:
        data = f.read()
    with open(p("truncated"), "wb") as f:
        f.write(data[: len(data) * 2 // 3])
    # Opcodes: 0xff is none; INT ('I') is a real opcode that no state dict uses.
    rewrite(good, p("unknown_opcode"), replace_entry("data.pkl", b"\x80\x02}q\x00\xff."))
    rewrite(good, p("unsupported_opcode"), replace_entry("data.pkl", b"\x80\x02I5\n."))
    # Storage blobs of the wrong size, or missing.
    rewrite(good, p("short_storage"),
            lambda es: [(n, d[:-4] if n.endswith("/data/0") else d) for n, d in es])
    rewrite(good, p("missing_storage"), lambda es: [(n, d) for n, d in es
                                                    if not n.endswith("/data/1")])
    rewrite(good, p("deflated"), lambda es: es, zipfile.ZIP_DEFLATED)
    rewrite(good, p("big_endian"), lambda es: es + [(es[0][0].split("/")[0] + "/byteorder",
                                                     b"big")])
    # Valid pickles of the wrong things.
    torch.save([sd["a.weight"]], p("not_a_dict"))
    torch.save({"model": sd, "step": 3}, p("training_checkpoint"))
    torch.save({"a.weight": sd["a.weight"], "n": 3}, p("int_value"))


# --- past 4 GiB ----------------------------------------------------------------------------------

def make_big(outdir):
    """OUTDIR/big.bin: an int8 tensor of 2^32 + 1000 elements between two small ones, so that
    torch.save itself writes ZIP64 sizes and offsets; OUTDIR/small.safetensors: the small ones."""
    os.makedirs(outdir, exist_ok=True)
    g = torch.Generator().manual_seed(4)
    small = {"a.before": torch.randn(3, generator=g), "z.after": torch.randn(2, 5, generator=g)}
    big = torch.zeros(2 ** 32 + 1000, dtype=torch.int8)
    big[-1000:] = torch.arange(1000) % 127
    sd = collections.OrderedDict([("a.before", small["a.before"]), ("big", big),
                                  ("z.after", small["z.after"])])
    torch.save(sd, os.path.join(outdir, "big.bin"))
    ref.write_safetensors(os.path.join(outdir, "small.safetensors"), small)


def main():
    modes = {"models": make_models, "hostile": make_hostile, "big": make_big}
    if len(sys.argv) != 3 or sys.argv[1] not in modes:
        sys.exit(__doc__)
    torch.set_num_threads(1)
    modes[sys.argv[1]](sys.argv[2])
    return 0


if __name__ == "__main__":
    sys.exit(main())
