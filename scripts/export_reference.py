#!/usr/bin/env python3
"""What the Hugging Face ecosystem computes from an exported model folder (and PEFT adapter).

    python3 scripts/export_reference.py --model DIR [--adapter DIR] [--compare DIR]
                                        [--ids '[[1, 2, 3], [4, 5, 6]]'] [--out FILE.json]

Loads DIR the way ``GPTNeoXForCausalLM.from_pretrained(DIR)`` does, with PyTorch only (no
transformers, peft or safetensors package; none is in Debian):

* ``model.safetensors`` is parsed by hand with the checks of the Rust ``safetensors`` reader
  (header JSON object, known dtypes, offsets contiguous from 0 and covering the whole data
  section, byte counts matching the shapes) and transformers' own (``__metadata__.format`` is
  ``"pt"``). F32, F16 and BF16 are read exactly and computed in float64.
* The model is an ``nn.Module`` tree with ``GPTNeoXForCausalLM``'s module names
  (``gpt_neox.embed_in``, ``gpt_neox.layers[i].{input_layernorm, post_attention_layernorm,
  attention.query_key_value, attention.dense, mlp.dense_h_to_4h, mlp.dense_4h_to_h}``,
  ``gpt_neox.final_layer_norm``, ``embed_out``), built from config.json and filled with
  ``load_state_dict(strict=True)``: every name and shape must be exactly what the model expects
  (buffers the Hub's old files carry are dropped first, as transformers does).
  The forward uses torch's own ``nn.LayerNorm``, exact-erf ``F.gelu``, ``nn.Linear``, and HF's
  rotary (``rotate_half``, first ``int(head_size * rotary_pct)`` dims), per-head interleaved
  q/k/v, causal softmax attention and the parallel (or sequential) residual.
* ``--adapter DIR`` applies a PEFT LoRA adapter as ``PeftModel.from_pretrained`` does:
  adapter_config.json is checked (peft_type LORA, fan_in_fan_out false, bias none, no DoRA /
  rsLoRA / modules_to_save / rank_pattern); every ``nn.Linear`` whose name matches
  ``target_modules`` (PEFT's rule: equal to, or ending in ``"." + target``; a string is a
  ``re.fullmatch`` pattern) is wrapped in a LoRA layer with PEFT's state-dict layout
  (``base_layer``, ``lora_A.default``, ``lora_B.default``); the file's keys
  ``base_model.model.<module>.lora_A.weight`` get the adapter name inserted
  (``...lora_A.default.weight``), as set_peft_model_state_dict does, and must fill every LoRA
  weight with nothing left over. Forward: ``y = base(x) + (lora_alpha / r) · B(A(x))``.
* ``--compare DIR`` loads a second folder and reports the largest logit difference from it; if
  DIR is the float32 export and --model its float16 export, it also checks that every F16 value is
  numpy's round-to-nearest-even of the F32 value, bit for bit.

Self-checks before anything is written: without an adapter the module forward equals the
functional float64 reference of scripts/neox_reference.py (< 1e-10); with one, it equals a plain
forward on the float64-merged weights ``W + (alpha/r)·B·A`` (< 1e-10).

Prints (or writes to --out) JSON: ``logits`` [B][T][V] (float64, 9 significant digits) and what
was checked. scripts/export_fixtures.ts runs this on the studio's exports to make
fixtures/export/*.json (see fixtures/export/README.md). If the python3 on PATH has no torch, the
script re-execs itself with /usr/bin/python3 (via neox_reference).
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True  # no scripts/__pycache__ in the working tree

import neox_reference as nx  # first: re-execs under /usr/bin/python3 when torch is missing  # noqa: E402

import argparse  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import struct  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

DT = torch.float64

# ---------------------------------------------------------------------------
# safetensors, read as strictly as the Rust library does
# ---------------------------------------------------------------------------

_SIZES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1}


class ExportError(Exception):
    pass


def read_safetensors(path, require_pt_format=True):
    """-> (tensors name -> (dtype, float64 numpy array or raw array), metadata)."""
    with open(path, "rb") as f:
        buf = f.read()
    if len(buf) < 8:
        raise ExportError("%s: shorter than a safetensors header" % path)
    (n,) = struct.unpack("<Q", buf[:8])
    if 8 + n > len(buf):
        raise ExportError("%s: header length %d runs past the file" % (path, n))
    raw = buf[8:8 + n]
    if not raw.startswith(b"{"):
        raise ExportError("%s: header does not start with '{'" % path)
    header = json.loads(raw.decode("utf-8"))
    data = memoryview(buf)[8 + n:]
    metadata = header.pop("__metadata__", None)
    if metadata is not None and not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
        raise ExportError("%s: __metadata__ must map strings to strings" % path)
    if require_pt_format and metadata is not None and metadata.get("format") not in ("pt", "tf", "flax", "mlx"):
        # transformers' load_state_dict refuses such a file ("does not contain valid metadata").
        raise ExportError("%s: __metadata__.format is %r, transformers wants 'pt'" % (path, metadata.get("format")))
    spans = []
    out = {}
    for name, info in header.items():
        dtype, shape, (b, e) = info["dtype"], tuple(info["shape"]), info["data_offsets"]
        if dtype not in _SIZES:
            raise ExportError("%s: %s has unknown dtype %s" % (path, name, dtype))
        count = int(np.prod(shape, dtype=np.int64)) if shape else 1
        if e - b != count * _SIZES[dtype]:
            raise ExportError("%s: %s is %s%s but spans %d bytes" % (path, name, dtype, list(shape), e - b))
        spans.append((b, e, name))
        chunk = np.frombuffer(data[b:e], dtype={"F64": "<f8", "F32": "<f4", "F16": "<f2", "BF16": "<u2", "I64": "<i8",
                                                 "I32": "<i4", "I16": "<i2", "I8": "i1", "U8": "u1", "BOOL": "u1"}[dtype])
        if dtype == "BF16":
            chunk = (chunk.astype(np.uint32) << 16).view(np.float32)
        out[name] = (dtype, chunk.reshape(shape).copy())
    # Rust safetensors' validate(): sorted by offset, each tensor starts where the last ended,
    # starting at 0, and the last ends at the end of the buffer.
    spans.sort()
    pos = 0
    for b, e, name in spans:
        if b != pos:
            raise ExportError("%s: %s starts at %d, expected %d (InvalidOffset)" % (path, name, b, pos))
        pos = e
    if pos != len(data):
        raise ExportError("%s: tensors cover %d of %d data bytes (MetadataIncompleteBuffer)" % (path, pos, len(data)))
    return out, metadata


# ---------------------------------------------------------------------------
# GPTNeoXForCausalLM as an nn.Module tree (HF module names), float64
# ---------------------------------------------------------------------------


def rotate_half(x):
    x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


class GPTNeoXAttention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        C = cfg.hidden_size
        self.nH, self.hs, self.rot, self.base = cfg.num_attention_heads, cfg.head_size, cfg.rotary_ndims, cfg.rotary_emb_base
        self.query_key_value = nn.Linear(C, 3 * C, dtype=DT)
        self.dense = nn.Linear(C, C, dtype=DT)

    def forward(self, x):
        B, T, C = x.shape
        qkv = self.query_key_value(x).view(B, T, self.nH, 3 * self.hs).transpose(1, 2)  # (B, nH, T, 3hs)
        q, k, v = qkv.chunk(3, dim=-1)  # per head [q | k | v]: GPT-NeoX's interleaving
        if self.rot:
            inv_freq = 1.0 / (self.base ** (torch.arange(0, self.rot, 2, dtype=DT) / self.rot))
            freqs = torch.outer(torch.arange(T, dtype=DT), inv_freq)
            emb = torch.cat((freqs, freqs), dim=-1)
            cos, sin = emb.cos(), emb.sin()
            rq, pq = q[..., : self.rot], q[..., self.rot:]
            rk, pk = k[..., : self.rot], k[..., self.rot:]
            q = torch.cat((rq * cos + rotate_half(rq) * sin, pq), dim=-1)
            k = torch.cat((rk * cos + rotate_half(rk) * sin, pk), dim=-1)
        scores = (q @ k.transpose(-1, -2)) * self.hs ** -0.5
        scores = scores.masked_fill(~torch.ones(T, T, dtype=torch.bool).tril(), torch.finfo(DT).min)
        out = F.softmax(scores, dim=-1) @ v  # (B, nH, T, hs)
        return self.dense(out.transpose(1, 2).reshape(B, T, C))


class GPTNeoXMLP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.dense_h_to_4h = nn.Linear(cfg.hidden_size, cfg.intermediate_size, dtype=DT)
        self.dense_4h_to_h = nn.Linear(cfg.intermediate_size, cfg.hidden_size, dtype=DT)

    def forward(self, x):
        return self.dense_4h_to_h(F.gelu(self.dense_h_to_4h(x)))  # exact erf GELU ("gelu")


class GPTNeoXLayer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.parallel = cfg.use_parallel_residual
        self.input_layernorm = nn.LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps, dtype=DT)
        self.post_attention_layernorm = nn.LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps, dtype=DT)
        self.attention = GPTNeoXAttention(cfg)
        self.mlp = GPTNeoXMLP(cfg)

    def forward(self, x):
        a = self.attention(self.input_layernorm(x))
        if self.parallel:
            return x + a + self.mlp(self.post_attention_layernorm(x))
        x = x + a
        return x + self.mlp(self.post_attention_layernorm(x))


class GPTNeoXModel(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.embed_in = nn.Embedding(cfg.vocab_size, cfg.hidden_size, dtype=DT)
        self.layers = nn.ModuleList([GPTNeoXLayer(cfg) for _ in range(cfg.num_hidden_layers)])
        self.final_layer_norm = nn.LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps, dtype=DT)

    def forward(self, ids):
        x = self.embed_in(ids)
        for layer in self.layers:
            x = layer(x)
        return self.final_layer_norm(x)


class GPTNeoXForCausalLM(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.gpt_neox = GPTNeoXModel(cfg)
        self.embed_out = nn.Linear(cfg.hidden_size, cfg.vocab_size, bias=False, dtype=DT)

    def forward(self, ids):
        return self.embed_out(self.gpt_neox(ids))


# Buffers that old Hub files carry and transformers drops (_keys_to_ignore_on_load_unexpected).
_IGNORED = re.compile(r"\.attention\.(bias|masked_bias|rotary_emb\.inv_freq)$|rotary_emb\.inv_freq$")
_TORCH_DTYPE = {"F32": "float32", "F16": "float16", "BF16": "bfloat16"}


def load_folder(d):
    """config.json + model.safetensors -> (cfg, model, info). Strict: exact names and shapes."""
    with open(os.path.join(d, "config.json")) as f:
        raw_cfg = json.load(f)
    if raw_cfg.get("model_type") != "gpt_neox" or raw_cfg.get("architectures") != ["GPTNeoXForCausalLM"]:
        raise ExportError("%s/config.json: model_type %r / architectures %r, expected gpt_neox / [GPTNeoXForCausalLM]"
                          % (d, raw_cfg.get("model_type"), raw_cfg.get("architectures")))
    cfg = nx.ModelConfig(raw_cfg)
    tensors, metadata = read_safetensors(os.path.join(d, "model.safetensors"))
    dtypes = sorted({dt for k, (dt, _) in tensors.items() if not _IGNORED.search(k)})
    state = {k: torch.from_numpy(np.asarray(a, dtype=np.float64)) for k, (_, a) in tensors.items() if not _IGNORED.search(k)}
    model = GPTNeoXForCausalLM(cfg)
    with torch.no_grad():
        model.load_state_dict(state, strict=True)  # raises on any missing/unexpected name or wrong shape
    model.eval()
    if len(dtypes) != 1 or _TORCH_DTYPE.get(dtypes[0]) != raw_cfg.get("torch_dtype"):
        raise ExportError("%s: weights are %s but config.json's torch_dtype is %r" % (d, dtypes, raw_cfg.get("torch_dtype")))
    info = {"dtype": dtypes[0], "torch_dtype": raw_cfg.get("torch_dtype"), "tensors": len(state), "metadata": metadata}
    gen = os.path.join(d, "generation_config.json")
    if os.path.exists(gen):
        with open(gen) as f:
            g = json.load(f)
        ok = g.get("bos_token_id") == raw_cfg.get("bos_token_id") and g.get("eos_token_id") == raw_cfg.get("eos_token_id")
        if not ok:
            raise ExportError("%s/generation_config.json: bos/eos %r/%r differ from config.json's" % (d, g.get("bos_token_id"), g.get("eos_token_id")))
        info["generation_config"] = g
    return cfg, model, {k: (dt, a) for k, (dt, a) in tensors.items()}, info


# ---------------------------------------------------------------------------
# PEFT LoRA
# ---------------------------------------------------------------------------


class LoraLinear(nn.Module):
    """peft.tuners.lora.layer.Linear's state-dict layout and eval-mode forward (one adapter, 'default')."""

    def __init__(self, base_layer, r, alpha):
        super().__init__()
        self.base_layer = base_layer
        self.lora_A = nn.ModuleDict({"default": nn.Linear(base_layer.in_features, r, bias=False, dtype=DT)})
        self.lora_B = nn.ModuleDict({"default": nn.Linear(r, base_layer.out_features, bias=False, dtype=DT)})
        self.scaling = {"default": alpha / r}

    def forward(self, x):
        # lora_dropout is the identity in eval mode.
        return self.base_layer(x) + self.lora_B["default"](self.lora_A["default"](x)) * self.scaling["default"]


def _peft_targets(target_modules, key):
    """peft.tuners.tuners_utils.check_target_module_exists (no layers_to_transform)."""
    if isinstance(target_modules, str):
        return re.fullmatch(target_modules, key) is not None
    return key in target_modules or any(key.endswith("." + t) for t in target_modules)


def apply_adapter(model, d):
    with open(os.path.join(d, "adapter_config.json")) as f:
        c = json.load(f)
    if c.get("peft_type") != "LORA":
        raise ExportError("peft_type %r" % c.get("peft_type"))
    for k, want in (("fan_in_fan_out", False), ("use_dora", False), ("use_rslora", False), ("bias", "none")):
        if c.get(k, want) != want:
            raise ExportError("adapter_config.json %s = %r, this reference applies %r only" % (k, c.get(k), want))
    for k in ("modules_to_save", "rank_pattern", "alpha_pattern", "layers_to_transform"):
        if c.get(k):
            raise ExportError("adapter_config.json sets %s; not supported here" % k)
    r, alpha, targets = int(c["r"]), float(c.get("lora_alpha", 8)), c["target_modules"]
    if isinstance(targets, str) and targets == "all-linear":
        raise ExportError("all-linear not handled by this reference")
    wrapped = []
    for name, module in list(model.named_modules()):
        if name and _peft_targets(targets, name):
            if not isinstance(module, nn.Linear):
                raise ExportError("target %s is a %s, not nn.Linear" % (name, type(module).__name__))
            parent_name, _, child = name.rpartition(".")
            parent = model.get_submodule(parent_name)
            setattr(parent, child, LoraLinear(module, r, alpha))
            wrapped.append(name)
    if not wrapped:
        raise ExportError("target_modules %r match no module" % (targets,))
    # PeftModelForCausalLM(base_model=LoraModel(model=...)): state keys start "base_model.model.".
    peft = nn.Module()
    peft.base_model = nn.Module()
    peft.base_model.model = model
    tensors, _ = read_safetensors(os.path.join(d, "adapter_model.safetensors"), require_pt_format=False)
    sd = {}
    for k, (dt, a) in tensors.items():
        m = re.fullmatch(r"(base_model\.model\..+)\.(lora_A|lora_B)\.weight", k)
        if not m:
            raise ExportError("adapter key %s is not <module>.lora_A/B.weight under base_model.model." % k)
        sd["%s.%s.default.weight" % (m.group(1), m.group(2))] = torch.from_numpy(np.asarray(a, dtype=np.float64))
    with torch.no_grad():
        missing, unexpected = peft.load_state_dict(sd, strict=False)
    missing = [k for k in missing if "lora_" in k]
    if missing or unexpected:
        raise ExportError("adapter keys: missing %s, unexpected %s" % (missing, unexpected))
    # (every wrapped module's shapes were checked by load_state_dict: it raises on a size mismatch)
    info = {"r": r, "lora_alpha": alpha, "scaling": alpha / r, "target_modules": targets, "wrapped": wrapped,
            "keys": sorted(tensors), "dtypes": sorted({dt for dt, _ in tensors.values()})}
    return info


def merged_copy(cfg, model):
    """A plain GPTNeoXForCausalLM with W + scaling·B·A for every LoRA layer of `model` (float64)."""
    plain = GPTNeoXForCausalLM(cfg)
    sd = {}
    for name, module in model.named_modules():
        if isinstance(module, LoraLinear):
            w = module.base_layer.weight + module.scaling["default"] * (module.lora_B["default"].weight @ module.lora_A["default"].weight)
            sd[name + ".weight"] = w
            sd[name + ".bias"] = module.base_layer.bias
    for k, v in model.state_dict().items():
        if ".base_layer." not in k and "lora_" not in k:
            sd[k] = v
    with torch.no_grad():
        plain.load_state_dict(sd, strict=True)
    return plain.eval()


# ---------------------------------------------------------------------------


def max_abs(a, b):
    return float((a - b).abs().max())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--adapter")
    ap.add_argument("--compare")
    ap.add_argument("--ids", default="[[3, 17, 42, 0, 88, 5, 61, 29], [90, 12, 7, 7, 33, 0, 54, 71]]")
    ap.add_argument("--out")
    a = ap.parse_args()

    ids = torch.tensor(json.loads(a.ids), dtype=torch.long)
    cfg, model, tensors, info = load_folder(a.model)
    out = {"model": info, "ids": ids.tolist(), "checks": {}}
    with torch.no_grad():
        if a.adapter:
            out["adapter"] = apply_adapter(model, a.adapter)
            logits = model(ids)
            merged = merged_copy(cfg, model)(ids)
            d = max_abs(logits, merged)
            assert d < 1e-10, d
            out["checks"]["adapter_vs_float64_merge_max_abs"] = d
        else:
            logits = model(ids)
            P = {k: torch.from_numpy(np.asarray(v, dtype=np.float64)) for k, (_, v) in tensors.items() if not _IGNORED.search(k)}
            d = max_abs(logits, nx.forward(cfg, P, ids))
            assert d < 1e-10, d
            out["checks"]["vs_neox_reference_forward_max_abs"] = d
        if a.compare:
            _, model2, tensors2, info2 = load_folder(a.compare)
            out["checks"]["compare_dtype"] = info2["dtype"]
            out["checks"]["max_abs_vs_compare"] = max_abs(logits, model2(ids))
            if info["dtype"] == "F16" and info2["dtype"] == "F32":
                same = all(np.array_equal(np.asarray(tensors[k][1], dtype=np.float16).view(np.uint16),
                                          np.asarray(tensors2[k][1], dtype=np.float32).astype(np.float16).view(np.uint16))
                           for k in tensors2)
                if not same or set(tensors) != set(tensors2):
                    raise ExportError("F16 weights are not numpy's round-to-nearest-even of the F32 weights")
                out["checks"]["f16_is_numpy_rounding_of_f32"] = True
    out["logits"] = [[[float("%.9g" % x) for x in row] for row in seq] for seq in logits.tolist()]
    out["logits_max_abs"] = float(logits.abs().max())
    out["torch"] = torch.__version__
    text = json.dumps(out, indent=1)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text + "\n")
    else:
        print(text)


if __name__ == "__main__":
    try:
        main()
    except ExportError as e:
        sys.stderr.write("export_reference: %s\n" % e)
        sys.exit(1)
