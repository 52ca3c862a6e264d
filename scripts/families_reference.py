#!/usr/bin/env python3
"""Independent float64 PyTorch reference for the Llama, Qwen2, Qwen3 and GPT-2 families, and the
generator of their golden fixtures.

A small, readable re-implementation of Hugging Face transformers' ``LlamaForCausalLM``,
``Qwen2ForCausalLM``, ``Qwen3ForCausalLM`` and ``GPT2LMHeadModel`` forward passes (training and
inference math only: no dropout, no cache, no attention-mask argument), written from the modeling
files and sharing nothing with the TypeScript engine. Like ``reference.py`` for GPT-NeoX, it writes
tiny random checkpoints with Hugging Face names plus golden logits, loss, every gradient and a greedy
continuation, in the same folder format (see fixtures/README.md).

Usage (from the repository root)::

    python3 scripts/families_reference.py            # (re)writes every case below under fixtures/
    python3 scripts/families_reference.py CASE ...   # only the named cases

Needs torch + numpy (Debian: python3-torch, python3-numpy); no transformers. Deterministic: each case
seeds torch with its own seed.
"""

import json
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import neox_reference as nx  # first: re-execs under /usr/bin/python3 when torch is missing  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(REPO, "fixtures")
DTYPE_NAME = {"F32": "float32", "F16": "float16", "BF16": "bfloat16"}

T = 7
LENGTHS = [7, 5]
MAX_NEW_TOKENS = 8
MIN_GREEDY_MARGIN = 0.1


# ---------------------------------------------------------------------------
# Configs: the fields each family's modeling file reads, with transformers' defaults
# ---------------------------------------------------------------------------


class Cfg:
    def __init__(self, d):
        self.raw = dict(d)
        t = d["model_type"]
        self.type = t
        if t == "gpt2":
            self.vocab = d["vocab_size"]
            self.hidden = d["n_embd"]
            self.layers = d["n_layer"]
            self.heads = d["n_head"]
            self.kv_heads = self.heads
            self.head_dim = self.hidden // self.heads
            self.inter = d.get("n_inner") or 4 * self.hidden
            self.positions = d["n_positions"]
            self.eps = d.get("layer_norm_epsilon", 1e-5)
            self.tied = d.get("tie_word_embeddings", True)
            assert d.get("activation_function", "gelu_new") == "gelu_new"
            self.prefix = "transformer."
        else:
            self.vocab = d["vocab_size"]
            self.hidden = d["hidden_size"]
            self.layers = d["num_hidden_layers"]
            self.heads = d["num_attention_heads"]
            self.kv_heads = d.get("num_key_value_heads") or self.heads
            self.head_dim = d.get("head_dim") or self.hidden // self.heads
            self.inter = d["intermediate_size"]
            self.positions = d["max_position_embeddings"]
            self.eps = d.get("rms_norm_eps", 1e-6)
            self.theta = d.get("rope_theta", 10000.0)
            self.tied = d.get("tie_word_embeddings", False)
            assert d.get("hidden_act", "silu") == "silu"
            assert d.get("rope_scaling") is None
            # Which projections carry a bias: Qwen2 always on q, k, v (never o); Llama and Qwen3 on
            # q, k, v and o when attention_bias is set.
            if t == "qwen2":
                self.qkv_bias, self.o_bias = True, False
            else:
                self.qkv_bias = self.o_bias = bool(d.get("attention_bias", False))
            self.mlp_bias = bool(d.get("mlp_bias", False)) if t == "llama" else False
            self.qk_norm = t == "qwen3"


def param_shapes(c):
    """HF name -> shape, in model order (the order the weights are drawn in)."""
    s = {}
    if c.type == "gpt2":
        C, I, p = c.hidden, c.inter, c.prefix
        s[p + "wte.weight"] = (c.vocab, C)
        s[p + "wpe.weight"] = (c.positions, C)
        for i in range(c.layers):
            h = "%sh.%d." % (p, i)
            s[h + "ln_1.weight"] = (C,)
            s[h + "ln_1.bias"] = (C,)
            s[h + "attn.c_attn.weight"] = (C, 3 * C)  # Conv1D: (in, out), applied as x @ W + b
            s[h + "attn.c_attn.bias"] = (3 * C,)
            s[h + "attn.c_proj.weight"] = (C, C)
            s[h + "attn.c_proj.bias"] = (C,)
            s[h + "ln_2.weight"] = (C,)
            s[h + "ln_2.bias"] = (C,)
            s[h + "mlp.c_fc.weight"] = (C, I)
            s[h + "mlp.c_fc.bias"] = (I,)
            s[h + "mlp.c_proj.weight"] = (I, C)
            s[h + "mlp.c_proj.bias"] = (C,)
        s[p + "ln_f.weight"] = (C,)
        s[p + "ln_f.bias"] = (C,)
        if not c.tied:
            s["lm_head.weight"] = (c.vocab, C)
        return s
    C, I, hd = c.hidden, c.inter, c.head_dim
    s["model.embed_tokens.weight"] = (c.vocab, C)
    for i in range(c.layers):
        p = "model.layers.%d." % i
        s[p + "input_layernorm.weight"] = (C,)
        s[p + "self_attn.q_proj.weight"] = (c.heads * hd, C)
        if c.qkv_bias:
            s[p + "self_attn.q_proj.bias"] = (c.heads * hd,)
        s[p + "self_attn.k_proj.weight"] = (c.kv_heads * hd, C)
        if c.qkv_bias:
            s[p + "self_attn.k_proj.bias"] = (c.kv_heads * hd,)
        s[p + "self_attn.v_proj.weight"] = (c.kv_heads * hd, C)
        if c.qkv_bias:
            s[p + "self_attn.v_proj.bias"] = (c.kv_heads * hd,)
        s[p + "self_attn.o_proj.weight"] = (C, c.heads * hd)
        if c.o_bias:
            s[p + "self_attn.o_proj.bias"] = (C,)
        if c.qk_norm:
            s[p + "self_attn.q_norm.weight"] = (hd,)
            s[p + "self_attn.k_norm.weight"] = (hd,)
        s[p + "post_attention_layernorm.weight"] = (C,)
        for m, shape in (("gate_proj", (I, C)), ("up_proj", (I, C)), ("down_proj", (C, I))):
            s[p + "mlp.%s.weight" % m] = shape
            if c.mlp_bias:
                s[p + "mlp.%s.bias" % m] = (shape[0],)
    s["model.norm.weight"] = (C,)
    if not c.tied:
        s["lm_head.weight"] = (c.vocab, C)
    return s


# ---------------------------------------------------------------------------
# Model math (float64), following the modeling files
# ---------------------------------------------------------------------------


def rms_norm(x, w, eps):
    """LlamaRMSNorm / Qwen2RMSNorm / Qwen3RMSNorm: weight * x / sqrt(mean(x^2) + eps)."""
    return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))


def layer_norm(x, w, b, eps):
    mu = x.mean(-1, keepdim=True)
    var = ((x - mu) ** 2).mean(-1, keepdim=True)
    return (x - mu) / torch.sqrt(var + eps) * w + b


def gelu_new(x):
    """transformers' NewGELUActivation (GPT-2's "gelu_new"): the tanh approximation."""
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


def rope(x, theta):
    """Rotary over the whole head, pairs (i, i + d/2), as rotate_half with emb = cat(freqs, freqs)."""
    Tn, d = x.shape[-2], x.shape[-1]
    inv = 1.0 / theta ** (torch.arange(0, d, 2, dtype=torch.float64) / d)
    ang = torch.arange(Tn, dtype=torch.float64)[:, None] * inv[None, :]
    emb = torch.cat([ang, ang], -1)
    x1, x2 = x[..., : d // 2], x[..., d // 2:]
    return x * emb.cos() + torch.cat([-x2, x1], -1) * emb.sin()


def causal_softmax_attention(q, k, v, scale):
    """q (B, nH, T, d), k/v (B, nKV, T, d): repeat_kv (head h reads kv head h // (nH / nKV)), causal softmax."""
    groups = q.shape[1] // k.shape[1]
    k = k.repeat_interleave(groups, dim=1)
    v = v.repeat_interleave(groups, dim=1)
    Tn = q.shape[2]
    scores = q @ k.transpose(-1, -2) * scale
    scores = scores.masked_fill(torch.ones(Tn, Tn, dtype=torch.bool).triu(1), float("-inf"))
    return torch.softmax(scores, -1) @ v


def forward(c, P, ids):
    B, Tn = ids.shape
    if c.type == "gpt2":
        p = c.prefix
        x = P[p + "wte.weight"][ids] + P[p + "wpe.weight"][torch.arange(Tn)][None]
        for i in range(c.layers):
            h = "%sh.%d." % (p, i)
            a = layer_norm(x, P[h + "ln_1.weight"], P[h + "ln_1.bias"], c.eps)
            qkv = a @ P[h + "attn.c_attn.weight"] + P[h + "attn.c_attn.bias"]
            q, k, v = (t.view(B, Tn, c.heads, c.head_dim).transpose(1, 2) for t in qkv.split(c.hidden, dim=2))
            y = causal_softmax_attention(q, k, v, 1.0 / math.sqrt(c.head_dim)).transpose(1, 2).reshape(B, Tn, c.hidden)
            x = x + y @ P[h + "attn.c_proj.weight"] + P[h + "attn.c_proj.bias"]
            m = layer_norm(x, P[h + "ln_2.weight"], P[h + "ln_2.bias"], c.eps)
            x = x + gelu_new(m @ P[h + "mlp.c_fc.weight"] + P[h + "mlp.c_fc.bias"]) @ P[h + "mlp.c_proj.weight"] + P[h + "mlp.c_proj.bias"]
        x = layer_norm(x, P[p + "ln_f.weight"], P[p + "ln_f.bias"], c.eps)
        head = P[p + "wte.weight"] if c.tied else P["lm_head.weight"]
        return x @ head.T

    def lin(x, name):
        y = x @ P[name + ".weight"].T
        return y + P[name + ".bias"] if name + ".bias" in P else y

    x = P["model.embed_tokens.weight"][ids]
    for i in range(c.layers):
        p = "model.layers.%d." % i
        a = rms_norm(x, P[p + "input_layernorm.weight"], c.eps)
        q = lin(a, p + "self_attn.q_proj").view(B, Tn, c.heads, c.head_dim)
        k = lin(a, p + "self_attn.k_proj").view(B, Tn, c.kv_heads, c.head_dim)
        v = lin(a, p + "self_attn.v_proj").view(B, Tn, c.kv_heads, c.head_dim)
        if c.qk_norm:  # Qwen3: per-head RMSNorm over head_dim, before rotary
            q = rms_norm(q, P[p + "self_attn.q_norm.weight"], c.eps)
            k = rms_norm(k, P[p + "self_attn.k_norm.weight"], c.eps)
        q, k, v = (t.transpose(1, 2) for t in (q, k, v))
        q, k = rope(q, c.theta), rope(k, c.theta)
        y = causal_softmax_attention(q, k, v, c.head_dim ** -0.5).transpose(1, 2).reshape(B, Tn, c.heads * c.head_dim)
        x = x + lin(y, p + "self_attn.o_proj")
        m = rms_norm(x, P[p + "post_attention_layernorm.weight"], c.eps)
        x = x + lin(F.silu(lin(m, p + "mlp.gate_proj")) * lin(m, p + "mlp.up_proj"), p + "mlp.down_proj")
    x = rms_norm(x, P["model.norm.weight"], c.eps)
    head = P["model.embed_tokens.weight"] if c.tied else P["lm_head.weight"]
    return x @ head.T


def greedy(c, P, prompt, n):
    seq, out, margins = list(prompt), [], []
    with torch.no_grad():
        for _ in range(n):
            top2 = torch.topk(forward(c, P, torch.tensor([seq]))[0, -1], 2)
            out.append(int(top2.indices[0]))
            margins.append(float(top2.values[0] - top2.values[1]))
            seq.append(out[-1])
    return out, margins


# ---------------------------------------------------------------------------
# Cases
# ---------------------------------------------------------------------------

LLAMA = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 96, "hidden_size": 64,
         "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "intermediate_size": 96,
         "max_position_embeddings": 64, "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "hidden_act": "silu",
         "rope_scaling": None, "attention_bias": False, "mlp_bias": False, "bos_token_id": 1, "eos_token_id": 2,
         "tie_word_embeddings": True}
QWEN2 = dict(LLAMA, architectures=["Qwen2ForCausalLM"], model_type="qwen2", rope_theta=1000000.0, rms_norm_eps=1e-6,
             use_sliding_window=False, bos_token_id=3, eos_token_id=4)
for k in ("attention_bias", "mlp_bias"):
    del QWEN2[k]
QWEN3 = dict(QWEN2, architectures=["Qwen3ForCausalLM"], model_type="qwen3", head_dim=32, attention_bias=False,
             tie_word_embeddings=False)
GPT2 = {"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "vocab_size": 96, "n_embd": 64, "n_layer": 2,
        "n_head": 4, "n_positions": 64, "n_inner": None, "activation_function": "gelu_new",
        "layer_norm_epsilon": 1e-5, "bos_token_id": 5, "eos_token_id": 5, "scale_attn_weights": True}

CASES = [
    # GQA (4 query heads over 2 kv heads), tied head: SmolLM2's layout.
    dict(name="llama-gqa-tied-f32", seed=2001, config=LLAMA, dtype="F32", prompt_len=3),
    # head_dim 24 ≠ 64 / 4, one kv head, untied lm_head, bfloat16 file.
    dict(name="llama-headdim-untied-bf16", seed=2002, config=dict(LLAMA, head_dim=24, num_key_value_heads=1,
                                                                 tie_word_embeddings=False), dtype="BF16", prompt_len=4),
    # q/k/v biases (not o), GQA, tied, float16 file: Qwen2.5-0.5B's layout.
    dict(name="qwen2-bias-tied-f16", seed=2003, config=QWEN2, dtype="F16", prompt_len=3),
    # per-head q/k RMSNorm, head_dim 32 ≠ 64 / 4, untied.
    dict(name="qwen3-qknorm-f32", seed=2004, config=QWEN3, dtype="F32", prompt_len=3),
    # transformer.-prefixed names with the old attn.bias / attn.masked_bias buffers (distilgpt2's file).
    dict(name="gpt2-prefix-f32", seed=2005, config=GPT2, dtype="F32", prompt_len=3, gpt2_prefix=True),
    # no prefix (openai-community/gpt2's model.safetensors), float16.
    dict(name="gpt2-noprefix-f16", seed=2006, config=GPT2, dtype="F16", prompt_len=4, gpt2_prefix=False),
]


def draw(c, st_dtype):
    out = {}
    for name, shape in param_shapes(c).items():
        norm = any(s in name for s in ("layernorm", "norm.weight", "ln_1", "ln_2", "ln_f", "q_norm", "k_norm"))
        if norm and name.endswith(".weight"):
            t = 1.0 + 0.1 * torch.randn(shape)
        elif norm:
            t = 0.1 * torch.randn(shape)
        elif name.endswith("wpe.weight"):
            t = 0.1 * torch.randn(shape)
        else:
            t = 0.2 * torch.randn(shape)
        out[name] = nx.round_to_dtype(t.numpy(), st_dtype)
    return out


def file_tensors(c, params, case):
    """What goes into model.safetensors: the parameters under the file's names, plus GPT-2's old buffers."""
    st = case["dtype"]
    if c.type != "gpt2":
        return {n: (st, a.astype(np.float32)) for n, a in params.items()}
    strip = (lambda n: n) if case["gpt2_prefix"] else (lambda n: n[len(c.prefix):] if n.startswith(c.prefix) else n)
    out = {strip(n): (st, a.astype(np.float32)) for n, a in params.items()}
    if case["gpt2_prefix"]:
        M = c.positions
        for i in range(c.layers):
            out["%sh.%d.attn.bias" % (c.prefix, i)] = ("BOOL", np.tril(np.ones((M, M), dtype=bool)).reshape(1, 1, M, M))
            out["%sh.%d.attn.masked_bias" % (c.prefix, i)] = ("F32", np.array(-1e4, dtype=np.float32))
    return out


def self_checks(c, P):
    g = torch.Generator().manual_seed(11)
    x = torch.randn(3, c.hidden, generator=g, dtype=torch.float64)
    assert torch.allclose(gelu_new(x), F.gelu(x, approximate="tanh"), atol=1e-12)
    assert torch.allclose(layer_norm(x, 1.0, 0.0, 1e-5), F.layer_norm(x, (c.hidden,), eps=1e-5), atol=1e-12)
    # rotary as a complex rotation of pairs (i, i + d/2)
    if c.type != "gpt2":
        q = torch.randn(1, 1, 5, c.head_dim, generator=g, dtype=torch.float64)
        h = c.head_dim // 2
        z = torch.complex(q[..., :h], q[..., h:])
        ang = torch.arange(5, dtype=torch.float64)[:, None] * torch.tensor([c.theta ** (-2.0 * j / c.head_dim) for j in range(h)], dtype=torch.float64)
        z = z * torch.polar(torch.ones_like(ang), ang)
        assert torch.allclose(rope(q, c.theta), torch.cat([z.real, z.imag], -1), atol=1e-12)
    # causality
    ids = torch.randint(0, c.vocab, (1, 6), generator=g)
    ids2 = ids.clone()
    ids2[0, 4:] = (ids2[0, 4:] + 1) % c.vocab
    with torch.no_grad():
        assert torch.equal(forward(c, P, ids)[0, :4], forward(c, P, ids2)[0, :4])


def build(case):
    name = case["name"]
    out_dir = os.path.join(FIXTURES, name)
    os.makedirs(out_dir, exist_ok=True)
    torch.manual_seed(case["seed"])
    cfg_dict = dict(case["config"], torch_dtype=DTYPE_NAME[case["dtype"]])
    c = Cfg(cfg_dict)
    params = draw(c, case["dtype"])
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(cfg_dict, f, indent=2)
        f.write("\n")
    tensors = file_tensors(c, params, case)
    path = os.path.join(out_dir, "model.safetensors")
    nx.save_safetensors(path, tensors, {"format": "pt"})
    back, _ = nx.load_safetensors(path)
    for n, (st, a) in tensors.items():
        assert np.array_equal(np.asarray(back[n][1]).astype(np.float64), np.asarray(a).astype(np.float64)), n
    P0 = {n: torch.from_numpy(a.astype(np.float64)) for n, a in params.items()}
    self_checks(c, P0)

    eos = cfg_dict["eos_token_id"]
    for attempt in range(200):
        ids = torch.randint(0, c.vocab, (2, T))
        ids[0, :case["prompt_len"]] = torch.where(ids[0, :case["prompt_len"]] == eos, torch.ones_like(ids[0, :case["prompt_len"]]), ids[0, :case["prompt_len"]])
        ids[1, LENGTHS[1]:] = eos
        prompt = ids[0, :case["prompt_len"]].tolist()
        toks, margins = greedy(c, P0, prompt, MAX_NEW_TOKENS)
        if min(margins) >= MIN_GREEDY_MARGIN and eos not in toks:
            break
    else:
        raise RuntimeError("no ids with a clear greedy continuation")

    P = {n: t.clone().requires_grad_(True) for n, t in P0.items()}
    logits = forward(c, P, ids)
    lengths = torch.tensor(LENGTHS)
    loss = nx.lm_loss(logits, ids, lengths)
    loss.backward()
    logits = logits.detach()
    labels = ids.clone()
    labels[torch.arange(T)[None, :] >= lengths[:, None]] = -100
    ce = F.cross_entropy(logits[:, :-1].reshape(-1, c.vocab), labels[:, 1:].reshape(-1), ignore_index=-100)
    assert abs(ce.item() - loss.item()) < 1e-12
    with torch.no_grad():
        loss_row0 = nx.lm_loss(logits[0:1], ids[0:1], [LENGTHS[0]]).item()
    # finite differences on a few entries of every kind of parameter (the tied embedding included)
    gen = torch.Generator().manual_seed(case["seed"])
    for n in list(P0)[:: max(1, len(P0) // 6)]:
        flat = P0[n].view(-1)
        j = int(torch.randint(0, flat.numel(), (1,), generator=gen))
        if n.endswith(("embed_tokens.weight", "wte.weight")):
            j = int(ids[0, 1]) * c.hidden + j % c.hidden
        h = 1e-6
        vals = []
        for sgn in (1, -1):
            Q = dict(P0)
            t = P0[n].clone()
            t.view(-1)[j] += sgn * h
            Q[n] = t
            with torch.no_grad():
                vals.append(nx.lm_loss(forward(c, Q, ids), ids, lengths).item())
        fd = (vals[0] - vals[1]) / (2 * h)
        an = P[n].grad.view(-1)[j].item()
        assert abs(fd - an) <= 1e-6 + 1e-5 * abs(an), (n, j, fd, an)

    golden_t = {"logits": ("F32", logits.numpy().astype(np.float32))}
    for n in P:
        golden_t["grad." + n] = ("F32", P[n].grad.numpy().astype(np.float32))
    nx.save_safetensors(os.path.join(out_dir, "golden.safetensors"), golden_t)
    golden = {
        "ids": ids.tolist(),
        "lengths": LENGTHS,
        "loss": loss.item(),
        "loss_row0": loss_row0,
        "greedy": {"prompt": prompt, "max_new_tokens": MAX_NEW_TOKENS, "tokens": toks},
        "dtype": DTYPE_NAME[case["dtype"]],
        "note": "Generated by `python3 scripts/families_reference.py` (torch %s, float64 autograd). Weights: "
                "torch.manual_seed(%d), N(0, 0.2) for matrices and biases (wpe N(0, 0.1)), norm weights 1 + N(0, 0.1), "
                "norm biases N(0, 0.1), drawn in parameter order and rounded to %s. Grads are named and shaped as "
                "the parameters are in Hugging Face's model (GPT-2's Conv1D weights (in, out); the transformer. "
                "prefix always). Ids resampled %d time(s) for a greedy margin >= %g (min %.4f)."
                % (torch.__version__, case["seed"], DTYPE_NAME[case["dtype"]], attempt, MIN_GREEDY_MARGIN, min(margins)),
    }
    with open(os.path.join(out_dir, "golden.json"), "w") as f:
        json.dump(golden, f, indent=2)
        f.write("\n")
    size = sum(os.path.getsize(os.path.join(out_dir, fn)) for fn in os.listdir(out_dir))
    assert size < 1_000_000, (name, size)
    print("  %-26s loss %.6f greedy %s -> %s (margin %.3f) %.0f kB" % (name, loss.item(), prompt, toks, min(margins), size / 1000))


def main(argv):
    wanted = set(argv)
    unknown = wanted - {c["name"] for c in CASES}
    if unknown:
        raise SystemExit("unknown case(s): %s" % ", ".join(sorted(unknown)))
    for case in CASES:
        if not wanted or case["name"] in wanted:
            build(case)
    print("all self-checks passed")


if __name__ == "__main__":
    main(sys.argv[1:])
