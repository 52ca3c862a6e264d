#!/usr/bin/env python3
"""Fixture generator: tiny random GPT-NeoX checkpoints + golden outputs.

Run from the repository root:

    python3 scripts/reference.py            # (re)writes every case under fixtures/
    python3 scripts/reference.py CASE ...   # only the named cases

Needs torch + numpy (Debian: python3-torch, python3-numpy, i.e. /usr/bin/python3).
If the ``python3`` found on PATH has no torch, the script re-execs itself with
/usr/bin/python3. No transformers / safetensors packages are needed: the model
math lives in scripts/neox_reference.py and safetensors I/O is pure python.

Everything is deterministic: each case seeds torch with its own fixed seed.
See fixtures/README.md for the file formats.

The other fixture generators: scripts/train_reference.py (fixtures/train, AdamW steps) and
``npx tsx scripts/export_fixtures.ts`` (fixtures/export: the studio's model-folder and PEFT
exports, read by scripts/export_reference.py; see fixtures/export/README.md).
"""

import os
import sys


import neox_reference as nx  # first: re-execs under /usr/bin/python3 when torch is missing  # noqa: E402

import json  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(REPO, "fixtures")

TORCH_DTYPE_NAME = {"F32": "float32", "F16": "float16", "BF16": "bfloat16"}

BASE_CONFIG = {
    "architectures": ["GPTNeoXForCausalLM"],
    "model_type": "gpt_neox",
    "vocab_size": 96,
    "hidden_size": 64,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "intermediate_size": 128,
    "max_position_embeddings": 64,
    "layer_norm_eps": 1e-5,
    "bos_token_id": 0,
    "eos_token_id": 0,
    "tie_word_embeddings": False,
    "hidden_act": "gelu",
}

# name, seed, parallel, rotary_pct, st dtype, hub_style, greedy prompt length
CASES = [
    dict(name="parallel-rot025-f32", seed=1001, parallel=True, rotary_pct=0.25, dtype="F32", hub=False, prompt_len=3),
    dict(name="sequential-rot100-f32", seed=1002, parallel=False, rotary_pct=1.0, dtype="F32", hub=False, prompt_len=4),
    dict(name="parallel-rot025-f16", seed=1003, parallel=True, rotary_pct=0.25, dtype="F16", hub=False, prompt_len=3),
    dict(name="hub-style-f16", seed=1004, parallel=True, rotary_pct=0.25, dtype="F16", hub=True, prompt_len=4),
    dict(name="sequential-rot050-bf16", seed=1005, parallel=False, rotary_pct=0.5, dtype="BF16", hub=False, prompt_len=3),
]

T = 7
LENGTHS = [7, 5]
PAD_ID = 0          # = eos id; pad positions of row 1 hold this value
EOS_IN_ROW0_AT = 5  # row 0 carries an eos (0) inside its valid part, after the greedy prompt
MAX_NEW_TOKENS = 8
MIN_GREEDY_MARGIN = 0.1  # top1 - top2 logit at every greedy step (robust vs f32/f16 rounding)
SIZE_LIMIT = 1_000_000


def make_config(case):
    cfg = dict(BASE_CONFIG)
    cfg["use_parallel_residual"] = case["parallel"]
    if case["hub"]:
        # newer transformers key names only
        cfg["partial_rotary_factor"] = case["rotary_pct"]
        cfg["rope_theta"] = 10000
    else:
        cfg["rotary_pct"] = case["rotary_pct"]
        cfg["rotary_emb_base"] = 10000
    cfg["torch_dtype"] = TORCH_DTYPE_NAME[case["dtype"]]
    return cfg


def init_params(cfg, st_dtype):
    """float32 draws (in param_names order) rounded to st_dtype; returns name -> float64 numpy."""
    out = {}
    shapes = nx.param_shapes(cfg)
    for name in nx.param_names(cfg):
        shape = shapes[name]
        is_ln = "layernorm" in name or "final_layer_norm" in name
        if is_ln and name.endswith(".weight"):
            t = 1.0 + 0.1 * torch.randn(shape, dtype=torch.float32)
        elif is_ln:
            t = 0.1 * torch.randn(shape, dtype=torch.float32)
        else:
            t = 0.2 * torch.randn(shape, dtype=torch.float32)
        out[name] = nx.round_to_dtype(t.numpy(), st_dtype)
    return out


def hf_inv_freq_f32(cfg):
    """The rotary_emb.inv_freq buffer exactly as HF computes it (float32)."""
    d = cfg.rotary_ndims
    return (1.0 / (cfg.rotary_emb_base ** (torch.arange(0, d, 2).float() / d))).numpy().astype(np.float32)


def tensors_for_checkpoint(cfg, params, st_dtype, hub):
    tensors = {name: (st_dtype, arr.astype(np.float32)) for name, arr in params.items()}
    if hub:
        M = cfg.max_position_embeddings
        tril = np.tril(np.ones((M, M), dtype=bool)).reshape(1, 1, M, M)
        for i in range(cfg.num_hidden_layers):
            p = "gpt_neox.layers.%d.attention." % i
            tensors[p + "bias"] = ("BOOL", tril)
            tensors[p + "masked_bias"] = ("F32", np.array(-1e9, dtype=np.float32))
            tensors[p + "rotary_emb.inv_freq"] = ("F32", hf_inv_freq_f32(cfg))
    return tensors


def save_checkpoint_safetensors_order(path, tensors, metadata):
    """Like nx.save_safetensors but lays the data out the way the safetensors library
    does (larger dtype first, then by name) so the data order differs from the
    (sorted) header key order. Readers must use data_offsets."""
    import json as _json
    import struct
    itemsize = {"F32": 4, "F16": 2, "BF16": 2, "BOOL": 1, "I64": 8}
    order = sorted(tensors, key=lambda n: (-itemsize[tensors[n][0]], n))
    header, blobs, off = {}, [], 0
    for name in order:
        st, arr = tensors[name]
        data = nx._encode(np.asarray(arr), st)
        header[name] = {"dtype": st, "shape": list(np.asarray(arr).shape), "data_offsets": [off, off + len(data)]}
        blobs.append(data)
        off += len(data)
    header = {k: header[k] for k in sorted(header)}
    header["__metadata__"] = metadata
    hj = _json.dumps(header, separators=(",", ":")).encode()
    hj += b" " * ((-len(hj)) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hj)))
        f.write(hj)
        for b in blobs:
            f.write(b)


def check_roundtrip(path, tensors):
    back, _ = nx.load_safetensors(path)
    assert set(back) == set(tensors), (set(back) ^ set(tensors))
    for name, (st, arr) in tensors.items():
        st2, arr2 = back[name]
        assert st2 == st, (name, st, st2)
        a = np.asarray(arr)
        assert tuple(arr2.shape) == tuple(a.shape), (name, arr2.shape, a.shape)
        if st == "BOOL":
            assert np.array_equal(arr2, a.astype(bool)), name
        else:
            # values were already rounded to st, so the stored values must be identical
            assert np.array_equal(arr2.astype(np.float64), a.astype(np.float64)), name


def self_checks_math(cfg, P):
    """Cross-check building blocks of neox_reference against torch's own ops."""
    g = torch.Generator().manual_seed(7)
    x = torch.randn(2, 5, cfg.hidden_size, generator=g, dtype=torch.float64)
    w = torch.randn(cfg.hidden_size, generator=g, dtype=torch.float64)
    b = torch.randn(cfg.hidden_size, generator=g, dtype=torch.float64)
    ref = F.layer_norm(x, (cfg.hidden_size,), w, b, cfg.layer_norm_eps)
    assert torch.allclose(nx.layer_norm(x, w, b, cfg.layer_norm_eps), ref, atol=1e-12, rtol=0)
    assert torch.allclose(nx.gelu_exact(x), F.gelu(x), atol=1e-12, rtol=0)
    # rotary via complex numbers on pairs (j, j + d/2)
    d = cfg.rotary_ndims
    if d:
        Tn = 6
        q = torch.randn(1, 2, Tn, cfg.head_size, generator=g, dtype=torch.float64)
        cos, sin = nx.rotary_cos_sin(cfg, Tn)
        got = nx.apply_rotary(q, cos, sin, d)
        h = d // 2
        z = torch.complex(q[..., :h], q[..., h:d])
        ang = torch.arange(Tn, dtype=torch.float64)[:, None] * torch.tensor(
            [cfg.rotary_emb_base ** (-2.0 * j / d) for j in range(h)], dtype=torch.float64)[None, :]
        z = z * torch.polar(torch.ones_like(ang), ang)
        want = torch.cat([z.real, z.imag, q[..., d:]], dim=-1)
        assert torch.allclose(got, want, atol=1e-12, rtol=0)
    # whole-forward causality: logits at t don't depend on tokens after t
    ids = torch.randint(0, cfg.vocab_size, (1, 6), generator=g)
    ids2 = ids.clone()
    ids2[0, 4:] = (ids2[0, 4:] + 1) % cfg.vocab_size
    with torch.no_grad():
        a, bb = nx.forward(cfg, P, ids), nx.forward(cfg, P, ids2)
    assert torch.equal(a[0, :4], bb[0, :4])


def pick_ids(cfg, P, prompt_len):
    """Random ids with the layout golden.json documents; resampled (deterministically)
    until the greedy continuation of row 0's prefix has a clear argmax at every step
    and never emits the eos id (so 'stop at eos' vs 'stop at max_new_tokens' agree)."""
    for attempt in range(200):
        ids = torch.randint(0, cfg.vocab_size, (2, T))
        ids[0, EOS_IN_ROW0_AT] = PAD_ID
        ids[0, :prompt_len] = torch.where(ids[0, :prompt_len] == PAD_ID, torch.ones_like(ids[0, :prompt_len]),
                                          ids[0, :prompt_len])
        ids[1, LENGTHS[1]:] = PAD_ID
        prompt = ids[0, :prompt_len].tolist()
        toks, margins = nx.greedy_generate(cfg, P, prompt, MAX_NEW_TOKENS)
        if min(margins) >= MIN_GREEDY_MARGIN and cfg.raw["eos_token_id"] not in toks:
            return ids, prompt, toks, margins, attempt
    raise RuntimeError("could not find ids with a clear greedy continuation")


def build_case(case):
    name = case["name"]
    out_dir = os.path.join(FIXTURES, name)
    os.makedirs(out_dir, exist_ok=True)
    torch.manual_seed(case["seed"])

    cfg_dict = make_config(case)
    cfg = nx.ModelConfig(cfg_dict)
    assert cfg.rotary_ndims == int(cfg.head_size * case["rotary_pct"])

    params = init_params(cfg, case["dtype"])

    # bf16 rounding must agree with torch's (round-to-nearest-even)
    if case["dtype"] == "BF16":
        for n, a in params.items():
            tb = torch.from_numpy(a.astype(np.float32)).to(torch.bfloat16).to(torch.float64).numpy()
            assert np.array_equal(tb, a), n

    # --- write + verify config and checkpoint
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(cfg_dict, f, indent=2)
        f.write("\n")
    tensors = tensors_for_checkpoint(cfg, params, case["dtype"], case["hub"])
    model_path = os.path.join(out_dir, "model.safetensors")
    if case["hub"]:
        save_checkpoint_safetensors_order(model_path, tensors, {"format": "pt"})
        _, meta = nx.load_safetensors(model_path)
        assert meta == {"format": "pt"}, meta
    else:
        nx.save_safetensors(model_path, tensors)
    check_roundtrip(model_path, tensors)

    # Compute from what was read back (config from disk too) -> exactly the stored values.
    cfg = nx.ModelConfig.load(os.path.join(out_dir, "config.json"))
    P_plain = nx.load_params(model_path, cfg)
    for n in P_plain:
        assert np.array_equal(P_plain[n].numpy(), params[n]), n

    self_checks_math(cfg, P_plain)

    ids, prompt, greedy_toks, margins, attempts = pick_ids(cfg, P_plain, case["prompt_len"])
    lengths = torch.tensor(LENGTHS, dtype=torch.long)

    # --- loss, logits, grads (float64 autograd)
    P = {n: t.clone().requires_grad_(True) for n, t in P_plain.items()}
    logits = nx.forward(cfg, P, ids)
    loss = nx.lm_loss(logits, ids, lengths)
    loss.backward()
    grads = {n: P[n].grad.detach().clone() for n in nx.param_names(cfg)}
    logits = logits.detach()
    with torch.no_grad():
        loss_row0 = nx.lm_loss(logits[0:1], ids[0:1], [LENGTHS[0]]).item()

    # --- second-way checks
    labels = ids.clone()
    labels[torch.arange(T)[None, :] >= lengths[:, None]] = -100
    ce = F.cross_entropy(logits[:, :-1].reshape(-1, cfg.vocab_size), labels[:, 1:].reshape(-1),
                         ignore_index=-100, reduction="mean")
    assert abs(ce.item() - loss.item()) < 1e-12, (ce.item(), loss.item())
    ce0 = F.cross_entropy(logits[0, :-1], ids[0, 1:]).item()
    assert abs(ce0 - loss_row0) < 1e-12
    n_valid = int(sum(l - 1 for l in LENGTHS))
    assert int(nx.target_mask(lengths, T).sum()) == n_valid
    # padding ids must not matter: change row 1's pad ids, loss identical (and grads)
    ids_alt = ids.clone()
    ids_alt[1, LENGTHS[1]:] = (ids_alt[1, LENGTHS[1]:] + 17) % cfg.vocab_size
    with torch.no_grad():
        loss_alt = nx.lm_loss(nx.forward(cfg, P_plain, ids_alt), ids_alt, lengths).item()
    assert abs(loss_alt - loss.item()) < 1e-12, (loss_alt, loss.item())
    # greedy step 0 == argmax of the batch logits at the last prompt position of row 0
    assert int(logits[0, len(prompt) - 1].argmax()) == greedy_toks[0]
    with torch.no_grad():
        lp = nx.forward(cfg, P_plain, torch.tensor([prompt]))
    assert int(lp[0, -1].argmax()) == greedy_toks[0]
    # finite-difference spot check of a few gradient entries
    fd_names = ["gpt_neox.embed_in.weight", "gpt_neox.layers.0.attention.query_key_value.weight",
                "gpt_neox.layers.1.mlp.dense_4h_to_h.bias", "gpt_neox.final_layer_norm.weight"]
    gen = torch.Generator().manual_seed(case["seed"])
    for n in fd_names:
        flat = P_plain[n].view(-1)
        for _ in range(2):
            j = int(torch.randint(0, flat.numel(), (1,), generator=gen))
            if n == "gpt_neox.embed_in.weight":
                j = int(ids[0, 1]) * cfg.hidden_size + (j % cfg.hidden_size)  # a row that is used
            h = 1e-6
            Pp = dict(P_plain)
            tp = P_plain[n].clone()
            tp.view(-1)[j] += h
            Pp[n] = tp
            lp_ = nx.lm_loss(nx.forward(cfg, Pp, ids), ids, lengths).item()
            tm = P_plain[n].clone()
            tm.view(-1)[j] -= h
            Pp[n] = tm
            lm_ = nx.lm_loss(nx.forward(cfg, Pp, ids), ids, lengths).item()
            fd = (lp_ - lm_) / (2 * h)
            an = grads[n].view(-1)[j].item()
            assert abs(fd - an) <= 1e-6 + 1e-5 * abs(an), (n, j, fd, an)

    # --- write golden.safetensors (float32)
    golden_t = {"logits": ("F32", logits.numpy().astype(np.float32))}
    for n, gr in grads.items():
        golden_t["grad." + n] = ("F32", gr.numpy().astype(np.float32))
    golden_path = os.path.join(out_dir, "golden.safetensors")
    nx.save_safetensors(golden_path, golden_t)
    back, _ = nx.load_safetensors(golden_path)
    for k, (_, a) in golden_t.items():
        assert np.array_equal(back[k][1], a), k

    note = (
        "Generated by `python3 scripts/reference.py` (Debian python3-torch %s, float64 autograd, "
        "scripts/neox_reference.py). Weights: torch.manual_seed(%d), float32 draws N(0,0.2) for all "
        "linear/embedding weights and biases, layer norm weight 1+N(0,0.1), bias N(0,0.1), drawn in "
        "parameter order, rounded to %s; every golden value is computed in float64 from the rounded "
        "(stored) values. Loss = sum of next-token CE over valid targets (position t predicts ids[t+1], "
        "valid iff t+1 < lengths[b]) / count (%d). Row 1 positions >= %d are pad (id %d = eos) and are "
        "excluded by lengths only; row 0 has eos id %d at position %d inside its valid part. Logits in "
        "golden.safetensors use causal masking only (no padding mask), all positions. Greedy: prompt = "
        "ids[0][:%d], full recompute each step, argmax, exactly max_new_tokens tokens; ids were "
        "resampled %d time(s) so that every greedy step has top1-top2 logit margin >= %g (min %.4f) "
        "and no eos is generated."
        % (torch.__version__, case["seed"], TORCH_DTYPE_NAME[case["dtype"]], n_valid, LENGTHS[1], PAD_ID,
           PAD_ID, EOS_IN_ROW0_AT, len(prompt), attempts, MIN_GREEDY_MARGIN, min(margins))
    )
    golden = {
        "ids": ids.tolist(),
        "lengths": list(LENGTHS),
        "loss": loss.item(),
        "loss_row0": loss_row0,
        "greedy": {"prompt": prompt, "max_new_tokens": MAX_NEW_TOKENS, "tokens": greedy_toks},
        "dtype": TORCH_DTYPE_NAME[case["dtype"]],
        "note": note,
    }
    with open(os.path.join(out_dir, "golden.json"), "w") as f:
        json.dump(golden, f, indent=2)
        f.write("\n")

    total = sum(os.path.getsize(os.path.join(out_dir, fn)) for fn in os.listdir(out_dir))
    assert total < SIZE_LIMIT, (name, total)
    gmax = max(float(g.abs().max()) for g in grads.values())
    gmin = min(float(g.abs().max()) for g in grads.values())
    return dict(name=name, dtype=case["dtype"], rot=cfg.rotary_ndims, parallel=cfg.use_parallel_residual,
                loss=loss.item(), loss_row0=loss_row0, prompt=prompt, greedy=greedy_toks,
                margin=min(margins), attempts=attempts, bytes=total, gmax=gmax, gmin=gmin,
                logit_std=float(logits.std()))


def main(argv):
    torch.set_default_dtype(torch.float32)
    wanted = set(argv)
    unknown = wanted - {c["name"] for c in CASES}
    if unknown:
        raise SystemExit("unknown case(s): %s" % ", ".join(sorted(unknown)))
    rows = [build_case(c) for c in CASES if not wanted or c["name"] in wanted]
    print("wrote %d fixture case(s) under %s (torch %s)" % (len(rows), os.path.relpath(FIXTURES), torch.__version__))
    for r in rows:
        print("  %-24s %-4s rot=%-2d %-10s loss=%.6f row0=%.6f logit_std=%.2f |grad|max in [%.2e, %.2e] "
              "%6.1f kB  greedy %s -> %s (min margin %.3f, resampled %d)"
              % (r["name"], r["dtype"], r["rot"], "parallel" if r["parallel"] else "sequential", r["loss"],
                 r["loss_row0"], r["logit_std"], r["gmin"], r["gmax"], r["bytes"] / 1000, r["prompt"],
                 r["greedy"], r["margin"], r["attempts"]))
    print("all self-checks passed")


if __name__ == "__main__":
    main(sys.argv[1:])
