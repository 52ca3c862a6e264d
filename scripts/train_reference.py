#!/usr/bin/env python3
"""Golden optimizer steps: torch.optim.AdamW on a tiny GPT-NeoX, in float64.

Run from the repository root:

    python3 scripts/train_reference.py      # (re)writes fixtures/train/adamw-golden.{json,safetensors}

Loads fixtures/parallel-rot025-f32 (config.json + model.safetensors) with the
float64 model of scripts/neox_reference.py and takes STEPS optimizer steps on
that folder's golden batch (golden.json ids/lengths), as a Hugging Face Trainer
step does it:

    loss = lm_loss(forward(params, ids), ids, lengths)      # mean next-token CE
    loss.backward()
    norm = clip_grad_norm_(params, MAX_GRAD_NORM)           # norm before clipping
    optimizer.step()                                        # torch.optim.AdamW
    scheduler.step()                                        # LambdaLR, HF cosine-with-warmup

Weight decay goes to the matrices only (2-D tensors: embeddings and linear
weights; biases and layer norms get none), through two param groups. The
schedule is transformers' get_cosine_schedule_with_warmup lambda, copied below.

Needs torch + numpy (Debian python3-torch: /usr/bin/python3); if the python3 on
PATH has no torch the script re-execs itself with /usr/bin/python3. See
fixtures/train/README.md for what the files hold.
"""

import os
import sys


import neox_reference as nx  # first: re-execs under /usr/bin/python3 when torch is missing  # noqa: E402

import json  # noqa: E402
import math  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODEL_DIR = os.path.join(REPO, "fixtures", "parallel-rot025-f32")
OUT_DIR = os.path.join(REPO, "fixtures", "train")

# Every step has a non-zero learning rate (warmup 0) and the lr changes each step.
STEPS = 3
TOTAL_STEPS = 4
WARMUP_STEPS = 0
BASE_LR = 1e-2
WEIGHT_DECAY = 0.1
BETAS = (0.9, 0.95)
# Not the usual 1e-8: GPT-NeoX has parameters whose true gradient is exactly zero (the key bias
# outside the rotary dims: a bias shared by all keys adds the same amount to every score of a
# query, which softmax ignores). float32 backprop leaves ~1e-8 of noise there, and with eps 1e-8
# Adam turns that noise into steps of ~lr/10, so even torch's own float32 AdamW ends 4e-3 away
# from float64 on query_key_value.bias. eps 1e-5 keeps those entries still and leaves every
# float32 parameter within ~1e-5 of float64 (printed below), so the fixture tests the optimizer,
# not float32 round-off.
EPS = 1e-5
MAX_GRAD_NORM = 1.0


def cosine_with_warmup_lambda(step, warmup, total, num_cycles=0.5):
    """transformers.optimization._get_cosine_schedule_with_warmup_lr_lambda, verbatim."""
    if step < warmup:
        return float(step) / float(max(1, warmup))
    progress = float(step - warmup) / float(max(1, total - warmup))
    return max(0.0, 0.5 * (1.0 + math.cos(math.pi * float(num_cycles) * 2.0 * progress)))


def train(P0, cfg, ids, lengths, dtype):
    """STEPS AdamW steps from the weights P0 (name -> float64 tensor), computed in `dtype`.

    Returns (params after the steps, per-step losses, pre-clip grad norms, lrs).
    """
    names = nx.param_names(cfg)
    params = {n: torch.nn.Parameter(P0[n].clone().to(dtype)) for n in names}
    decay = [params[n] for n in names if params[n].dim() == 2]
    no_decay = [params[n] for n in names if params[n].dim() != 2]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": WEIGHT_DECAY}, {"params": no_decay, "weight_decay": 0.0}],
        lr=BASE_LR, betas=BETAS, eps=EPS,
    )
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: cosine_with_warmup_lambda(s, WARMUP_STEPS, TOTAL_STEPS))
    losses, norms, lrs = [], [], []
    for _ in range(STEPS):
        lrs.append(opt.param_groups[0]["lr"])
        opt.zero_grad()
        loss = nx.lm_loss(nx.forward(cfg, params, ids), ids, lengths)
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(list(params.values()), MAX_GRAD_NORM)
        opt.step()
        sched.step()
        losses.append(loss.item())
        norms.append(norm.item())
    return {n: p.detach() for n, p in params.items()}, losses, norms, lrs


def adamw_by_hand(P0, cfg, ids, lengths, lrs):
    """The same steps with the update written out (decoupled decay, then bias-corrected Adam),
    in float64: checks that the formula the TypeScript optimizer implements is torch's."""
    names = nx.param_names(cfg)
    P = {n: P0[n].clone() for n in names}
    m = {n: torch.zeros_like(P[n]) for n in names}
    v = {n: torch.zeros_like(P[n]) for n in names}
    b1, b2 = BETAS
    for t, lr in enumerate(lrs, start=1):
        leaves = {n: P[n].clone().requires_grad_(True) for n in names}
        nx.lm_loss(nx.forward(cfg, leaves, ids), ids, lengths).backward()
        g = {n: leaves[n].grad for n in names}
        norm = math.sqrt(sum(float((g[n] ** 2).sum()) for n in names))
        scale = min(1.0, MAX_GRAD_NORM / (norm + 1e-6))
        for n in names:
            gn = g[n] * scale
            wd = WEIGHT_DECAY if P[n].dim() == 2 else 0.0
            m[n] = b1 * m[n] + (1 - b1) * gn
            v[n] = b2 * v[n] + (1 - b2) * gn * gn
            m_hat = m[n] / (1 - b1 ** t)
            v_hat = v[n] / (1 - b2 ** t)
            P[n] = P[n] * (1 - lr * wd) - lr * m_hat / (v_hat.sqrt() + EPS)
    return P


def rel_error(a, ref):
    """max|a - ref| / max|ref|, the per-tensor measure the TypeScript tests use."""
    return float((a - ref).abs().max() / (ref.abs().max() or 1.0))


def main():
    cfg = nx.ModelConfig.load(os.path.join(MODEL_DIR, "config.json"))
    P0 = nx.load_params(os.path.join(MODEL_DIR, "model.safetensors"), cfg)
    with open(os.path.join(MODEL_DIR, "golden.json")) as f:
        golden = json.load(f)
    ids = torch.tensor(golden["ids"], dtype=torch.long)
    lengths = golden["lengths"]

    P, losses, norms, lrs = train(P0, cfg, ids, lengths, torch.float64)

    # Self-checks: the first loss is the model folder's golden loss; clipping is exercised;
    # the hand-written update agrees with torch.optim.AdamW.
    assert abs(losses[0] - golden["loss"]) <= 1e-12, (losses[0], golden["loss"])
    assert any(n > MAX_GRAD_NORM for n in norms), norms
    assert all(lr > 0 for lr in lrs), lrs
    by_hand = adamw_by_hand(P0, cfg, ids, lengths, lrs)
    hand_err = max(rel_error(by_hand[n], P[n]) for n in P)
    assert hand_err < 1e-12, hand_err

    # How well float32 can do at all: the same torch steps in float32, against float64.
    P32, losses32, norms32, _ = train(P0, cfg, ids, lengths, torch.float32)
    f32_err = {n: rel_error(P32[n].double(), P[n]) for n in P}
    worst = max(f32_err, key=f32_err.get)

    os.makedirs(OUT_DIR, exist_ok=True)
    st_path = os.path.join(OUT_DIR, "adamw-golden.safetensors")
    tensors = {n: ("F32", P[n].numpy().astype(np.float32)) for n in P}
    nx.save_safetensors(st_path, tensors)
    back, _ = nx.load_safetensors(st_path)
    for n, (_, a) in tensors.items():
        assert np.array_equal(back[n][1], a), n

    out = {
        "model": "parallel-rot025-f32",
        "batch": "ids and lengths of fixtures/parallel-rot025-f32/golden.json",
        "steps": STEPS,
        "schedule": {"kind": "cosine", "warmupSteps": WARMUP_STEPS, "totalSteps": TOTAL_STEPS},
        "optimizer": {"lr": BASE_LR, "weightDecay": WEIGHT_DECAY, "beta1": BETAS[0], "beta2": BETAS[1],
                      "eps": EPS, "maxGradNorm": MAX_GRAD_NORM},
        "decay": "2-D parameters only (embed_in, embed_out, linear weights); no biases, no layer norms",
        "lrs": lrs,
        "losses": losses,
        "grad_norms": norms,
        "torch_float32": {
            "losses": losses32,
            "grad_norms": norms32,
            "max_param_rel_error": f32_err[worst],
            "worst_param": worst,
        },
        "note": "torch %s, float64, torch.optim.AdamW + clip_grad_norm_ + LambdaLR; see fixtures/train/README.md"
                % torch.__version__,
    }
    with open(os.path.join(OUT_DIR, "adamw-golden.json"), "w") as f:
        json.dump(out, f, indent=2)
        f.write("\n")

    for s in range(STEPS):
        print("step %d  lr %.10g  loss %.12f  grad norm %.9f%s"
              % (s, lrs[s], losses[s], norms[s], "  (clipped)" if norms[s] > MAX_GRAD_NORM else ""))
    print("by-hand AdamW vs torch.optim.AdamW: %.2e max rel error" % hand_err)
    print("torch float32 vs float64 after %d steps: %.2e max rel error (%s)" % (STEPS, f32_err[worst], worst))
    print("wrote %s (%d bytes) and adamw-golden.json" % (os.path.relpath(st_path, REPO), os.path.getsize(st_path)))


if __name__ == "__main__":
    main()
