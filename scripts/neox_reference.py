#!/usr/bin/env python3
"""Independent float64 PyTorch reference implementation of GPT-NeoX (Pythia).

This is a small, readable re-implementation of Hugging Face
``transformers.models.gpt_neox.modeling_gpt_neox.GPTNeoXForCausalLM.forward``
(inference/training math only: no dropout, no KV cache, no attention-mask
argument). It exists so that the TypeScript implementation in ``src/`` can be
checked against golden numbers produced by code that shares nothing with it.

It also contains a tiny pure-python safetensors writer/reader (the
``safetensors`` library is not available in the Debian Python we use).

Usage (from the repository root)::

    python3 scripts/reference.py            # regenerates fixtures/, uses this module
    python3 scripts/neox_reference.py DIR   # loads DIR/{config.json,model.safetensors}
                                            # and, if present, checks DIR/golden.json

Requires torch + numpy. On this project's machines that is Debian's
``/usr/bin/python3`` with ``python3-torch``; if the ``python3`` on PATH lacks
torch the scripts re-exec themselves with ``/usr/bin/python3``.
"""

import json
import math
import os
import struct
import sys


def _ensure_torch():
    """Re-exec the running script under /usr/bin/python3 if this interpreter has no torch.

    Runs on import, so every script that imports this module (reference.py, train_reference.py)
    gets the same behaviour."""
    try:
        import torch  # noqa: F401
        import numpy  # noqa: F401
    except ImportError:
        fallback = "/usr/bin/python3"
        if os.path.exists(fallback) and os.path.realpath(sys.executable) != os.path.realpath(fallback) \
                and not os.environ.get("NEOX_REF_REEXEC"):
            os.environ["NEOX_REF_REEXEC"] = "1"
            os.execv(fallback, [fallback] + sys.argv)
        sys.stderr.write("this script needs torch and numpy (Debian: apt install python3-torch python3-numpy)\n")
        raise


_ensure_torch()

import numpy as np  # noqa: E402
import torch  # noqa: E402

# ---------------------------------------------------------------------------
# Config
# ---------------------------------------------------------------------------


class ModelConfig:
    """The subset of GPTNeoXConfig that the forward pass needs.

    Accepts both the classic key names (``rotary_pct``, ``rotary_emb_base``)
    and the newer transformers names (``partial_rotary_factor``, ``rope_theta``,
    possibly nested in ``rope_parameters``/``rope_scaling``). Defaults follow
    ``GPTNeoXConfig``'s defaults.
    """

    def __init__(self, d):
        self.raw = dict(d)
        self.vocab_size = int(d["vocab_size"])
        self.hidden_size = int(d["hidden_size"])
        self.num_hidden_layers = int(d["num_hidden_layers"])
        self.num_attention_heads = int(d["num_attention_heads"])
        self.intermediate_size = int(d.get("intermediate_size", 4 * self.hidden_size))
        self.max_position_embeddings = int(d.get("max_position_embeddings", 2048))
        self.layer_norm_eps = float(d.get("layer_norm_eps", 1e-5))
        self.use_parallel_residual = bool(d.get("use_parallel_residual", True))
        self.hidden_act = d.get("hidden_act", "gelu")
        if self.hidden_act != "gelu":
            raise ValueError("only exact (erf) gelu is implemented, got %r" % self.hidden_act)
        if d.get("tie_word_embeddings", False):
            raise ValueError("tied embeddings are not supported by this reference")

        nested = d.get("rope_parameters") or d.get("rope_scaling") or {}
        if not isinstance(nested, dict):
            nested = {}
        if "rotary_pct" in d:
            pct = d["rotary_pct"]
        elif "partial_rotary_factor" in d:
            pct = d["partial_rotary_factor"]
        elif "partial_rotary_factor" in nested:
            pct = nested["partial_rotary_factor"]
        else:
            pct = 0.25
        if "rotary_emb_base" in d:
            base = d["rotary_emb_base"]
        elif "rope_theta" in d:
            base = d["rope_theta"]
        elif "rope_theta" in nested:
            base = nested["rope_theta"]
        else:
            base = 10000
        rope_type = nested.get("rope_type", nested.get("type", "default"))
        if rope_type not in ("default", None):
            raise ValueError("rope scaling %r not supported" % rope_type)
        self.rotary_pct = float(pct)
        self.rotary_emb_base = float(base)

        if self.hidden_size % self.num_attention_heads:
            raise ValueError("hidden_size must be divisible by num_attention_heads")
        self.head_size = self.hidden_size // self.num_attention_heads
        # Same expression as HF: int(head_size * rotary_pct)
        self.rotary_ndims = int(self.head_size * self.rotary_pct)

    @classmethod
    def load(cls, path):
        with open(path) as f:
            return cls(json.load(f))


def param_names(cfg):
    """HF parameter names (no buffers), in model order."""
    names = ["gpt_neox.embed_in.weight"]
    for i in range(cfg.num_hidden_layers):
        p = "gpt_neox.layers.%d." % i
        names += [
            p + "input_layernorm.weight",
            p + "input_layernorm.bias",
            p + "post_attention_layernorm.weight",
            p + "post_attention_layernorm.bias",
            p + "attention.query_key_value.weight",
            p + "attention.query_key_value.bias",
            p + "attention.dense.weight",
            p + "attention.dense.bias",
            p + "mlp.dense_h_to_4h.weight",
            p + "mlp.dense_h_to_4h.bias",
            p + "mlp.dense_4h_to_h.weight",
            p + "mlp.dense_4h_to_h.bias",
        ]
    names += ["gpt_neox.final_layer_norm.weight", "gpt_neox.final_layer_norm.bias", "embed_out.weight"]
    return names


def param_shapes(cfg):
    C, I, V = cfg.hidden_size, cfg.intermediate_size, cfg.vocab_size
    shapes = {}
    for n in param_names(cfg):
        if n == "gpt_neox.embed_in.weight" or n == "embed_out.weight":
            s = (V, C)
        elif "layernorm" in n or "final_layer_norm" in n:
            s = (C,)
        elif n.endswith("query_key_value.weight"):
            s = (3 * C, C)
        elif n.endswith("query_key_value.bias"):
            s = (3 * C,)
        elif n.endswith("attention.dense.weight"):
            s = (C, C)
        elif n.endswith("attention.dense.bias"):
            s = (C,)
        elif n.endswith("dense_h_to_4h.weight"):
            s = (I, C)
        elif n.endswith("dense_h_to_4h.bias"):
            s = (I,)
        elif n.endswith("dense_4h_to_h.weight"):
            s = (C, I)
        elif n.endswith("dense_4h_to_h.bias"):
            s = (C,)
        else:
            raise AssertionError(n)
        shapes[n] = s
    return shapes


# ---------------------------------------------------------------------------
# Model math (float64)
# ---------------------------------------------------------------------------


def linear(x, w, b=None):
    """torch.nn.Linear: x @ W^T + b, W is [out, in]."""
    y = x @ w.transpose(0, 1)
    if b is not None:
        y = y + b
    return y


def layer_norm(x, w, b, eps):
    mean = x.mean(dim=-1, keepdim=True)
    var = ((x - mean) ** 2).mean(dim=-1, keepdim=True)  # biased variance, like torch
    return (x - mean) / torch.sqrt(var + eps) * w + b


def gelu_exact(x):
    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))


def rotary_inv_freq(cfg, dtype=torch.float64):
    d = cfg.rotary_ndims
    return 1.0 / (cfg.rotary_emb_base ** (torch.arange(0, d, 2, dtype=dtype) / d))


def rotary_cos_sin(cfg, T, dtype=torch.float64):
    """cos/sin tables of shape [T, rotary_ndims] (freqs duplicated: cat(f, f))."""
    inv_freq = rotary_inv_freq(cfg, dtype)
    pos = torch.arange(T, dtype=dtype)
    freqs = torch.outer(pos, inv_freq)          # [T, d/2]
    emb = torch.cat([freqs, freqs], dim=-1)      # [T, d]
    return emb.cos(), emb.sin()


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat([-x[..., h:], x[..., :h]], dim=-1)


def apply_rotary(x, cos, sin, rotary_ndims):
    """x: [B, nH, T, hs]; rotate the first rotary_ndims dims, pass the rest."""
    if rotary_ndims == 0:
        return x
    x_rot, x_pass = x[..., :rotary_ndims], x[..., rotary_ndims:]
    x_rot = x_rot * cos + rotate_half(x_rot) * sin
    return torch.cat([x_rot, x_pass], dim=-1)


def attention(cfg, P, prefix, x):
    """x: [B, T, C] (already layer-normed). Returns [B, T, C]."""
    B, T, C = x.shape
    nH, hs = cfg.num_attention_heads, cfg.head_size
    qkv = linear(x, P[prefix + "query_key_value.weight"], P[prefix + "query_key_value.bias"])  # [B,T,3C]
    # NeoX layout: per head interleaved [q_h | k_h | v_h], NOT GPT-2's [q | k | v].
    qkv = qkv.view(B, T, nH, 3 * hs)
    q = qkv[..., 0 * hs:1 * hs].permute(0, 2, 1, 3)  # [B, nH, T, hs]
    k = qkv[..., 1 * hs:2 * hs].permute(0, 2, 1, 3)
    v = qkv[..., 2 * hs:3 * hs].permute(0, 2, 1, 3)

    cos, sin = rotary_cos_sin(cfg, T, x.dtype)  # [T, rot]
    q = apply_rotary(q, cos, sin, cfg.rotary_ndims)
    k = apply_rotary(k, cos, sin, cfg.rotary_ndims)

    scores = (q @ k.transpose(-1, -2)) / math.sqrt(hs)  # [B, nH, T, T]
    causal = torch.ones(T, T, dtype=torch.bool).tril()
    scores = scores.masked_fill(~causal, float("-inf"))
    probs = torch.softmax(scores, dim=-1)
    out = probs @ v                                      # [B, nH, T, hs]
    out = out.permute(0, 2, 1, 3).reshape(B, T, C)       # heads concatenated (head-major)
    return linear(out, P[prefix + "dense.weight"], P[prefix + "dense.bias"])


def mlp(cfg, P, prefix, x):
    h = linear(x, P[prefix + "dense_h_to_4h.weight"], P[prefix + "dense_h_to_4h.bias"])
    h = gelu_exact(h)
    return linear(h, P[prefix + "dense_4h_to_h.weight"], P[prefix + "dense_4h_to_h.bias"])


def forward(cfg, P, ids):
    """Logits [B, T, V] for ids [B, T] (LongTensor). P: name -> float64 tensor.

    Only causal masking is applied (no padding mask): with causal attention the
    logits at valid positions of a right-padded row do not depend on the pad
    tokens, and logits at pad positions are whatever the model computes there.
    """
    eps = cfg.layer_norm_eps
    x = P["gpt_neox.embed_in.weight"][ids]  # [B, T, C]
    for i in range(cfg.num_hidden_layers):
        p = "gpt_neox.layers.%d." % i
        ln1 = layer_norm(x, P[p + "input_layernorm.weight"], P[p + "input_layernorm.bias"], eps)
        a = attention(cfg, P, p + "attention.", ln1)
        if cfg.use_parallel_residual:
            ln2 = layer_norm(x, P[p + "post_attention_layernorm.weight"], P[p + "post_attention_layernorm.bias"], eps)
            x = x + a + mlp(cfg, P, p + "mlp.", ln2)
        else:
            x = x + a
            ln2 = layer_norm(x, P[p + "post_attention_layernorm.weight"], P[p + "post_attention_layernorm.bias"], eps)
            x = x + mlp(cfg, P, p + "mlp.", ln2)
    x = layer_norm(x, P["gpt_neox.final_layer_norm.weight"], P["gpt_neox.final_layer_norm.bias"], eps)
    return linear(x, P["embed_out.weight"])


def target_mask(lengths, T):
    """[B, T-1] bool: prediction at position t (target ids[t+1]) is valid iff t+1 < len."""
    lengths = torch.as_tensor(lengths, dtype=torch.long)
    t = torch.arange(T - 1)
    return (t[None, :] + 1) < lengths[:, None]


def lm_loss(logits, ids, lengths):
    """Shifted next-token CE, averaged over all valid (b, t) targets (mask from lengths)."""
    B, T, V = logits.shape
    logp = torch.log_softmax(logits[:, :-1, :], dim=-1)          # [B, T-1, V]
    tgt = ids[:, 1:]                                             # [B, T-1]
    nll = -logp.gather(-1, tgt.unsqueeze(-1)).squeeze(-1)        # [B, T-1]
    m = target_mask(lengths, T).to(nll.dtype)
    count = m.sum()
    if count.item() == 0:
        raise ValueError("no valid targets")
    return (nll * m).sum() / count


def greedy_generate(cfg, P, prompt, max_new_tokens):
    """Greedy decoding without a cache: full forward each step, argmax of last logits.

    Returns (new_tokens, margins) where margins[i] = top1 - top2 logit at step i.
    Does not stop at EOS; always produces max_new_tokens tokens.
    """
    seq = list(prompt)
    out, margins = [], []
    with torch.no_grad():
        for _ in range(max_new_tokens):
            logits = forward(cfg, P, torch.tensor([seq], dtype=torch.long))[0, -1]
            top2 = torch.topk(logits, 2)
            nxt = int(top2.indices[0])
            margins.append(float(top2.values[0] - top2.values[1]))
            out.append(nxt)
            seq.append(nxt)
    return out, margins


# ---------------------------------------------------------------------------
# dtype rounding helpers (numpy, bit exact)
# ---------------------------------------------------------------------------


def f32_to_bf16_bits(a):
    """float32 array -> uint16 bf16 bits, round-to-nearest-even (NaN kept quiet)."""
    a = np.ascontiguousarray(a, dtype=np.float32)
    u = a.view(np.uint32).astype(np.uint64)
    rounded = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)
    nan = np.isnan(a)
    if nan.any():
        rounded[nan] = ((u[nan] >> 16) | 0x40).astype(np.uint16)
    return rounded


def bf16_bits_to_f32(bits):
    bits = np.ascontiguousarray(bits, dtype=np.uint16)
    return (bits.astype(np.uint32) << 16).view(np.float32)


def round_to_dtype(a, st_dtype):
    """Round a float array to a safetensors float dtype and return the exact values as float64."""
    a = np.asarray(a, dtype=np.float32)
    if st_dtype == "F32":
        return a.astype(np.float64)
    if st_dtype == "F16":
        return a.astype(np.float16).astype(np.float64)
    if st_dtype == "BF16":
        return bf16_bits_to_f32(f32_to_bf16_bits(a)).astype(np.float64)
    raise ValueError(st_dtype)


# ---------------------------------------------------------------------------
# Pure-python safetensors
# ---------------------------------------------------------------------------

_NP_DTYPES = {
    "F64": np.dtype("<f8"),
    "F32": np.dtype("<f4"),
    "F16": np.dtype("<f2"),
    "BF16": np.dtype("<u2"),  # raw bits
    "I64": np.dtype("<i8"),
    "I32": np.dtype("<i4"),
    "U8": np.dtype("u1"),
    "I8": np.dtype("i1"),
    "BOOL": np.dtype("u1"),
}


def _encode(arr, st_dtype):
    """numpy array (any float/int/bool) -> little-endian bytes in st_dtype."""
    arr = np.asarray(arr)
    if st_dtype == "BF16":
        if arr.dtype == np.uint16:
            raw = arr
        else:
            raw = f32_to_bf16_bits(arr.astype(np.float32))
        return np.ascontiguousarray(raw, dtype="<u2").tobytes()
    if st_dtype == "BOOL":
        return np.ascontiguousarray(arr.astype(bool).astype(np.uint8)).tobytes()
    return np.ascontiguousarray(arr.astype(_NP_DTYPES[st_dtype])).tobytes()


def save_safetensors(path, tensors, metadata=None):
    """tensors: dict name -> (st_dtype, numpy array). Written in sorted-name order."""
    header = {}
    blobs = []
    offset = 0
    for name in sorted(tensors):
        st_dtype, arr = tensors[name]
        arr = np.asarray(arr)
        data = _encode(arr, st_dtype)
        n = int(np.prod(arr.shape, dtype=np.int64)) if arr.shape else 1
        assert len(data) == n * _NP_DTYPES[st_dtype].itemsize, (name, len(data))
        header[name] = {"dtype": st_dtype, "shape": [int(s) for s in arr.shape],
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    hjson = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hjson += b" " * ((-len(hjson)) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hjson)))
        f.write(hjson)
        for b in blobs:
            f.write(b)


def load_safetensors(path):
    """Returns (tensors, metadata). tensors: name -> (st_dtype, numpy array).

    BF16 tensors are returned as float32 arrays holding the exact bf16 values;
    BOOL as numpy bool; other dtypes as their native numpy dtype.
    """
    with open(path, "rb") as f:
        buf = f.read()
    (n,) = struct.unpack("<Q", buf[:8])
    header = json.loads(buf[8:8 + n].decode("utf-8"))
    data = memoryview(buf)[8 + n:]
    metadata = header.pop("__metadata__", None)
    out = {}
    for name, info in header.items():
        st_dtype = info["dtype"]
        shape = tuple(info["shape"])
        b, e = info["data_offsets"]
        assert 0 <= b <= e <= len(data), (name, b, e, len(data))
        arr = np.frombuffer(data[b:e], dtype=_NP_DTYPES[st_dtype]).copy()
        count = int(np.prod(shape, dtype=np.int64)) if shape else 1
        assert arr.size == count, (name, arr.size, shape)
        if st_dtype == "BF16":
            arr = bf16_bits_to_f32(arr)
        elif st_dtype == "BOOL":
            arr = arr.astype(bool)
        out[name] = (st_dtype, arr.reshape(shape))
    return out, metadata


def load_params(path, cfg):
    """Load model.safetensors -> dict of float64 torch tensors for the parameters only
    (buffers such as attention.bias / masked_bias / rotary_emb.inv_freq are ignored)."""
    tensors, _ = load_safetensors(path)
    shapes = param_shapes(cfg)
    P = {}
    for name, shape in shapes.items():
        if name not in tensors:
            raise KeyError("missing parameter %s" % name)
        _, arr = tensors[name]
        assert tuple(arr.shape) == shape, (name, arr.shape, shape)
        P[name] = torch.from_numpy(np.asarray(arr, dtype=np.float64))
    return P


# ---------------------------------------------------------------------------
# CLI: check a fixture folder
# ---------------------------------------------------------------------------


def _check_dir(d):
    cfg = ModelConfig.load(os.path.join(d, "config.json"))
    P = load_params(os.path.join(d, "model.safetensors"), cfg)
    gpath = os.path.join(d, "golden.json")
    if not os.path.exists(gpath):
        print("loaded %d params; no golden.json to check" % len(P))
        return 0
    with open(gpath) as f:
        g = json.load(f)
    ids = torch.tensor(g["ids"], dtype=torch.long)
    with torch.no_grad():
        logits = forward(cfg, P, ids)
        loss = lm_loss(logits, ids, g["lengths"]).item()
    toks, _ = greedy_generate(cfg, P, g["greedy"]["prompt"], g["greedy"]["max_new_tokens"])
    ok = abs(loss - g["loss"]) <= 1e-9 * max(1.0, abs(g["loss"])) and toks == g["greedy"]["tokens"]
    print("%s: loss %.12f (golden %.12f) greedy %s -> %s" % (d, loss, g["loss"], toks, "OK" if ok else "MISMATCH"))
    return 0 if ok else 1


if __name__ == "__main__":
    if len(sys.argv) < 2:
        print(__doc__)
        sys.exit(2)
    sys.exit(max(_check_dir(d) for d in sys.argv[1:]))
