#!/usr/bin/env python3
"""Independent reference for the LLM families of lib/probe (GPT-NeoX, Qwen2, OPT).

Creates tiny random Hugging Face model directories (config.json with HF key names, weights written
in the safetensors format by hand: 8-byte little-endian header length, JSON header, raw
little-endian bytes) and runs its own forward, written from the published architectures, on
right-padded batches. Needs torch (python3-torch) only; no transformers, no safetensors package.

    llm_reference.py make OUTDIR [--cases a,b,...]

For each case, OUTDIR/<case>/ holds config.json, the weights (model.safetensors, or shards and
model.safetensors.index.json) and reference.safetensors with:
    input_ids       I64 [B, T]   padded positions hold arbitrary token ids
    attention_mask  I64 [B, T]   right padding
    hidden          F64 [L+1, B, T, d]   hidden[0] = embedding output, hidden[l] = output of block
                                         l-1; hidden[L] BEFORE the final norm (0 at padding)
    final_normed    F64 [B, T, d]        final_norm(hidden[L]): Hugging Face's last hidden state
    logits          F64 [B, T, V]
    readout         F64 [L, B, T, V]     readout[l] = head(final_norm(last_block(hidden[l])))

How the reference stays independent of the C++ code (and of HF's implementation):
- every document is run alone on its valid prefix, so there is no padding mask at all; attention
  is an explicit loop over query positions, each attending to keys 0..t;
- rotary embeddings rotate the pairs (i, i + r/2) as complex numbers by pos * theta^(-2i/r);
- GPT-NeoX's fused query_key_value weight is split by viewing its rows as [heads, 3, head_dim];
- grouped-query heads pick their kv head as h // (heads / kv_heads);
- OPT positions of a prefix of length n are the table rows 2 .. n+1;
- the arithmetic is float64 from the stored weights (rounded to their stored dtype first).
"""

import argparse
import json
import math
import os
import struct
import sys

import torch

DTYPES = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16",
          torch.float64: "F64", torch.int64: "I64"}


def write_safetensors(path, tensors, metadata=None):
    assert sys.byteorder == "little"
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous()
        raw = (t.view(torch.int16) if t.dtype == torch.bfloat16 else t).numpy().tobytes()
        header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        blobs.append(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in blobs:
            f.write(raw)


def write_sharded(directory, tensors, shards):
    names = sorted(tensors)
    per = math.ceil(len(names) / shards)
    weight_map, total = {}, 0
    for s in range(shards):
        part = names[s * per:(s + 1) * per]
        fname = "model-%05d-of-%05d.safetensors" % (s + 1, shards)
        write_safetensors(os.path.join(directory, fname), {n: tensors[n] for n in part},
                          {"format": "pt"})
        for n in part:
            weight_map[n] = fname
            total += tensors[n].numel() * tensors[n].element_size()
    with open(os.path.join(directory, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2)


# --- random weights with Hugging Face names ---------------------------------------------------

class Init:
    def __init__(self, seed):
        self.g = torch.Generator().manual_seed(seed)

    def normal(self, *shape, std=1.0, mean=0.0):
        return torch.randn(*shape, generator=self.g) * std + mean

    def linear(self, out_f, in_f):
        return self.normal(out_f, in_f, std=1.0 / math.sqrt(in_f))

    def bias(self, n):
        return self.normal(n, std=0.1)

    def gain(self, n):
        return self.normal(n, std=0.2, mean=1.0)


def neox_weights(c, init):
    H, I, V = c["hidden_size"], c["intermediate_size"], c["vocab_size"]
    w = {"gpt_neox.embed_in.weight": init.normal(V, H)}
    for l in range(c["num_hidden_layers"]):
        p = "gpt_neox.layers.%d." % l
        for ln in ("input_layernorm", "post_attention_layernorm"):
            w[p + ln + ".weight"] = init.gain(H)
            w[p + ln + ".bias"] = init.bias(H)
        w[p + "attention.query_key_value.weight"] = init.linear(3 * H, H)
        w[p + "attention.query_key_value.bias"] = init.bias(3 * H)
        w[p + "attention.dense.weight"] = init.linear(H, H)
        w[p + "attention.dense.bias"] = init.bias(H)
        w[p + "mlp.dense_h_to_4h.weight"] = init.linear(I, H)
        w[p + "mlp.dense_h_to_4h.bias"] = init.bias(I)
        w[p + "mlp.dense_4h_to_h.weight"] = init.linear(H, I)
        w[p + "mlp.dense_4h_to_h.bias"] = init.bias(H)
        # Old Pythia checkpoints carry these buffers; the loader must ignore them.
        w[p + "attention.rotary_emb.inv_freq"] = init.normal(4)
    w["gpt_neox.final_layer_norm.weight"] = init.gain(H)
    w["gpt_neox.final_layer_norm.bias"] = init.bias(H)
    w["embed_out.weight"] = init.linear(V, H)
    return w


def qwen2_weights(c, init):
    H, I, V = c["hidden_size"], c["intermediate_size"], c["vocab_size"]
    hd = H // c["num_attention_heads"]
    q, kv = c["num_attention_heads"] * hd, c["num_key_value_heads"] * hd
    w = {"model.embed_tokens.weight": init.normal(V, H)}
    for l in range(c["num_hidden_layers"]):
        p = "model.layers.%d." % l
        for name, rows in (("q_proj", q), ("k_proj", kv), ("v_proj", kv)):
            w[p + "self_attn.%s.weight" % name] = init.linear(rows, H)
            w[p + "self_attn.%s.bias" % name] = init.bias(rows)
        w[p + "self_attn.o_proj.weight"] = init.linear(H, q)
        w[p + "mlp.gate_proj.weight"] = init.linear(I, H)
        w[p + "mlp.up_proj.weight"] = init.linear(I, H)
        w[p + "mlp.down_proj.weight"] = init.linear(H, I)
        w[p + "input_layernorm.weight"] = init.gain(H)
        w[p + "post_attention_layernorm.weight"] = init.gain(H)
    w["model.norm.weight"] = init.gain(H)
    if not c["tie_word_embeddings"]:
        w["lm_head.weight"] = init.linear(V, H)
    return w


def opt_weights(c, init):
    H, F, V = c["hidden_size"], c["ffn_dim"], c["vocab_size"]
    w = {"model.decoder.embed_tokens.weight": init.normal(V, H),
         "model.decoder.embed_positions.weight":
             init.normal(c["max_position_embeddings"] + 2, H, std=0.5)}
    for l in range(c["num_hidden_layers"]):
        p = "model.decoder.layers.%d." % l
        for name in ("q_proj", "k_proj", "v_proj", "out_proj"):
            w[p + "self_attn.%s.weight" % name] = init.linear(H, H)
            w[p + "self_attn.%s.bias" % name] = init.bias(H)
        for ln in ("self_attn_layer_norm", "final_layer_norm"):
            w[p + ln + ".weight"] = init.gain(H)
            w[p + ln + ".bias"] = init.bias(H)
        w[p + "fc1.weight"] = init.linear(F, H)
        w[p + "fc1.bias"] = init.bias(F)
        w[p + "fc2.weight"] = init.linear(H, F)
        w[p + "fc2.bias"] = init.bias(H)
    w["model.decoder.final_layer_norm.weight"] = init.gain(H)
    w["model.decoder.final_layer_norm.bias"] = init.bias(H)
    return w


# --- the reference forward (float64, one document at a time, no masks) ------------------------

def layer_norm(x, w, b, eps):
    mu = x.mean(-1, keepdim=True)
    var = ((x - mu) ** 2).mean(-1, keepdim=True)
    return (x - mu) / torch.sqrt(var + eps) * w + b


def rms_norm(x, w, eps):
    return x / torch.sqrt((x * x).mean(-1, keepdim=True) + eps) * w


def gelu_erf(x):
    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))


def silu(x):
    return x / (1.0 + torch.exp(-x))


def rotary(x, r, theta):
    """x: [n, hd]; rotate dims i and i + r/2 (i < r/2) by angle pos * theta^(-2i/r)."""
    if r == 0:
        return x
    n, half = x.shape[0], r // 2
    pos = torch.arange(n, dtype=torch.float64)[:, None]
    freq = theta ** (-torch.arange(half, dtype=torch.float64) * 2.0 / r)
    z = torch.complex(x[:, :half], x[:, half:r]) * torch.exp(1j * pos * freq)
    return torch.cat([z.real, z.imag, x[:, r:]], dim=1)


def causal_attention(q, k, v):
    """q, k, v: [n, hd] for one head; query t attends to keys 0..t."""
    out = torch.zeros_like(q)
    scale = 1.0 / math.sqrt(q.shape[1])
    for t in range(q.shape[0]):
        s = (k[:t + 1] @ q[t]) * scale
        p = torch.exp(s - s.max())
        out[t] = (p / p.sum()) @ v[:t + 1]
    return out


class NeoX:
    def __init__(self, c, w):
        self.c, self.w = c, w
        self.hd = c["hidden_size"] // c["num_attention_heads"]
        self.r = int(self.hd * c["rotary_pct"])

    def embed(self, ids):
        return self.w["gpt_neox.embed_in.weight"][ids]

    def block(self, l, x):
        c, w, hd, nh = self.c, self.w, self.hd, self.c["num_attention_heads"]
        p = "gpt_neox.layers.%d." % l
        eps = c["layer_norm_eps"]
        a = layer_norm(x, w[p + "input_layernorm.weight"], w[p + "input_layernorm.bias"], eps)
        W = w[p + "attention.query_key_value.weight"].view(nh, 3, hd, -1)
        b = w[p + "attention.query_key_value.bias"].view(nh, 3, hd)
        heads = []
        for h in range(nh):
            q = rotary(a @ W[h, 0].T + b[h, 0], self.r, c["rotary_emb_base"])
            k = rotary(a @ W[h, 1].T + b[h, 1], self.r, c["rotary_emb_base"])
            v = a @ W[h, 2].T + b[h, 2]
            heads.append(causal_attention(q, k, v))
        attn = torch.cat(heads, 1) @ w[p + "attention.dense.weight"].T + w[p + "attention.dense.bias"]

        def mlp(y):
            z = layer_norm(y, w[p + "post_attention_layernorm.weight"],
                           w[p + "post_attention_layernorm.bias"], eps)
            u = gelu_erf(z @ w[p + "mlp.dense_h_to_4h.weight"].T + w[p + "mlp.dense_h_to_4h.bias"])
            return u @ w[p + "mlp.dense_4h_to_h.weight"].T + w[p + "mlp.dense_4h_to_h.bias"]

        if c["use_parallel_residual"]:
            return x + attn + mlp(x)
        y = x + attn
        return y + mlp(y)

    def final(self, x):
        return layer_norm(x, self.w["gpt_neox.final_layer_norm.weight"],
                          self.w["gpt_neox.final_layer_norm.bias"], self.c["layer_norm_eps"])

    def head(self, x):
        return x @ self.w["embed_out.weight"].T


class Qwen2:
    def __init__(self, c, w):
        self.c, self.w = c, w
        self.hd = c["hidden_size"] // c["num_attention_heads"]

    def embed(self, ids):
        return self.w["model.embed_tokens.weight"][ids]

    def block(self, l, x):
        c, w, hd = self.c, self.w, self.hd
        nh, kvh = c["num_attention_heads"], c["num_key_value_heads"]
        p = "model.layers.%d." % l
        a = rms_norm(x, w[p + "input_layernorm.weight"], c["rms_norm_eps"])

        def proj(name):
            return a @ w[p + "self_attn.%s.weight" % name].T + w[p + "self_attn.%s.bias" % name]

        q, k, v = proj("q_proj"), proj("k_proj"), proj("v_proj")
        heads = []
        for h in range(nh):
            g = h // (nh // kvh)
            qh = rotary(q[:, h * hd:(h + 1) * hd], hd, c["rope_theta"])
            kh = rotary(k[:, g * hd:(g + 1) * hd], hd, c["rope_theta"])
            heads.append(causal_attention(qh, kh, v[:, g * hd:(g + 1) * hd]))
        y = x + torch.cat(heads, 1) @ w[p + "self_attn.o_proj.weight"].T
        z = rms_norm(y, w[p + "post_attention_layernorm.weight"], c["rms_norm_eps"])
        u = silu(z @ w[p + "mlp.gate_proj.weight"].T) * (z @ w[p + "mlp.up_proj.weight"].T)
        return y + u @ w[p + "mlp.down_proj.weight"].T

    def final(self, x):
        return rms_norm(x, self.w["model.norm.weight"], self.c["rms_norm_eps"])

    def head(self, x):
        key = "model.embed_tokens.weight" if self.c["tie_word_embeddings"] else "lm_head.weight"
        return x @ self.w[key].T


class Opt:
    def __init__(self, c, w):
        self.c, self.w = c, w
        self.hd = c["hidden_size"] // c["num_attention_heads"]

    def embed(self, ids):
        n = ids.shape[0]
        return (self.w["model.decoder.embed_tokens.weight"][ids] +
                self.w["model.decoder.embed_positions.weight"][2:2 + n])

    def block(self, l, x):
        w, hd, nh = self.w, self.hd, self.c["num_attention_heads"]
        p = "model.decoder.layers.%d." % l
        a = layer_norm(x, w[p + "self_attn_layer_norm.weight"], w[p + "self_attn_layer_norm.bias"],
                       1e-5)

        def proj(name):
            return a @ w[p + "self_attn.%s.weight" % name].T + w[p + "self_attn.%s.bias" % name]

        q, k, v = proj("q_proj"), proj("k_proj"), proj("v_proj")
        heads = [causal_attention(q[:, h * hd:(h + 1) * hd], k[:, h * hd:(h + 1) * hd],
                                  v[:, h * hd:(h + 1) * hd]) for h in range(nh)]
        y = x + torch.cat(heads, 1) @ w[p + "self_attn.out_proj.weight"].T + \
            w[p + "self_attn.out_proj.bias"]
        z = layer_norm(y, w[p + "final_layer_norm.weight"], w[p + "final_layer_norm.bias"], 1e-5)
        u = torch.relu(z @ w[p + "fc1.weight"].T + w[p + "fc1.bias"])
        return y + u @ w[p + "fc2.weight"].T + w[p + "fc2.bias"]

    def final(self, x):
        return layer_norm(x, self.w["model.decoder.final_layer_norm.weight"],
                          self.w["model.decoder.final_layer_norm.bias"], 1e-5)

    def head(self, x):
        return x @ self.w["model.decoder.embed_tokens.weight"].T


# --- cases --------------------------------------------------------------------------------------

def neox_config(H, L, I, V, parallel):
    return {"architectures": ["GPTNeoXForCausalLM"], "model_type": "gpt_neox",
            "hidden_size": H, "num_hidden_layers": L, "num_attention_heads": 4,
            "intermediate_size": I, "vocab_size": V, "max_position_embeddings": 64,
            "rotary_pct": 0.25, "rotary_emb_base": 10000, "use_parallel_residual": parallel,
            "hidden_act": "gelu", "layer_norm_eps": 1e-5, "tie_word_embeddings": False,
            "bos_token_id": 0, "eos_token_id": 0, "torch_dtype": "float32"}


def qwen2_config(H, L, I, V, tied, theta):
    return {"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "hidden_size": H,
            "num_hidden_layers": L, "num_attention_heads": 4, "num_key_value_heads": 2,
            "intermediate_size": I, "vocab_size": V, "max_position_embeddings": 64,
            "rms_norm_eps": 1e-6, "rope_theta": theta, "hidden_act": "silu",
            "tie_word_embeddings": tied, "use_sliding_window": False, "sliding_window": 64,
            "max_window_layers": L, "rope_scaling": None, "torch_dtype": "bfloat16"}


def opt_config(H, L, F, V):
    return {"architectures": ["OPTForCausalLM"], "model_type": "opt", "hidden_size": H,
            "num_hidden_layers": L, "num_attention_heads": 4, "ffn_dim": F, "vocab_size": V,
            "max_position_embeddings": 32, "do_layer_norm_before": True,
            "word_embed_proj_dim": H, "activation_function": "relu", "enable_bias": True,
            "layer_norm_elementwise_affine": True, "_remove_final_layer_norm": False,
            "pad_token_id": 1, "torch_dtype": "float16"}


# name: (family, config, stored dtype, shards, seed)
CASES = {
    "neox_parallel": ("neox", neox_config(64, 3, 256, 160, True), torch.float32, 1, 1),
    "neox_serial": ("neox", neox_config(32, 2, 128, 120, False), torch.float32, 1, 2),
    "neox_serial_sharded": ("neox", neox_config(32, 2, 128, 120, False), torch.float32, 3, 2),
    "qwen2": ("qwen2", qwen2_config(64, 3, 96, 150, False, 10000.0), torch.float32, 1, 3),
    "qwen2_tied_bf16": ("qwen2", qwen2_config(32, 2, 80, 130, True, 1e6), torch.bfloat16, 1, 4),
    "opt": ("opt", opt_config(64, 3, 128, 140), torch.float32, 1, 5),
    "opt_f16": ("opt", opt_config(32, 2, 96, 110), torch.float16, 1, 6),
}
FAMILY = {"neox": (neox_weights, NeoX), "qwen2": (qwen2_weights, Qwen2), "opt": (opt_weights, Opt)}
LENGTHS = [11, 6, 1, 9]  # right-padded to T = 11
T = 11


def make_case(outdir, name):
    family, config, stored, shards, seed = CASES[name]
    d = os.path.join(outdir, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    make_weights, Model = FAMILY[family]
    weights = {k: v.to(stored) for k, v in make_weights(config, Init(seed)).items()}
    if shards == 1:
        write_safetensors(os.path.join(d, "model.safetensors"), weights, {"format": "pt"})
    else:
        write_sharded(d, weights, shards)

    model = Model(config, {k: v.to(torch.float64) for k, v in weights.items()})
    L, H, V = config["num_hidden_layers"], config["hidden_size"], config["vocab_size"]
    g = torch.Generator().manual_seed(100 + seed)
    B = len(LENGTHS)
    ids = torch.randint(0, V, (B, T), generator=g)  # padded slots keep random ids on purpose
    mask = (torch.arange(T)[None, :] < torch.tensor(LENGTHS)[:, None]).to(torch.int64)
    hidden = torch.zeros(L + 1, B, T, H, dtype=torch.float64)
    normed = torch.zeros(B, T, H, dtype=torch.float64)
    logits = torch.zeros(B, T, V, dtype=torch.float64)
    readout = torch.zeros(L, B, T, V, dtype=torch.float64)
    for b, n in enumerate(LENGTHS):
        hs = [model.embed(ids[b, :n])]
        for l in range(L):
            hs.append(model.block(l, hs[-1]))
        for l in range(L + 1):
            hidden[l, b, :n] = hs[l]
        normed[b, :n] = model.final(hs[L])
        logits[b, :n] = model.head(normed[b, :n])
        for l in range(L):
            readout[l, b, :n] = model.head(model.final(model.block(L - 1, hs[l])))
    write_safetensors(os.path.join(d, "reference.safetensors"),
                      {"input_ids": ids, "attention_mask": mask, "hidden": hidden,
                       "final_normed": normed, "logits": logits, "readout": readout})


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    mk = sub.add_parser("make", help="write the tiny models and their reference outputs")
    mk.add_argument("outdir")
    mk.add_argument("--cases", default=",".join(CASES))
    args = ap.parse_args()
    torch.set_num_threads(1)
    for name in args.cases.split(","):
        if name not in CASES:
            sys.exit("unknown case %r (known: %s)" % (name, ", ".join(CASES)))
        make_case(args.outdir, name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
