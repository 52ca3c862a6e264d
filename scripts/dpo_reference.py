#!/usr/bin/env python3
"""Golden DPO batch: the loss, rewards and gradients of Direct Preference Optimization on a tiny
GPT-NeoX, in float64, as TRL's DPOTrainer computes them with loss_type="sigmoid".

Run from the repository root:

    python3 scripts/dpo_reference.py      # (re)writes fixtures/train/dpo-golden.{json,safetensors}

The reference model is fixtures/parallel-rot025-f32 (scripts/neox_reference.py's float64 model).
The policy is the same model with every weight moved by seeded noise (as after some training), so
policy and reference differ and every gradient is non-zero. For each pair (prompt + chosen,
prompt + rejected), each sequence's log-probability is the sum of log p(token) over its response
tokens only (TRL's concatenated_forward with loss_mask on the completion):

    logits_i   = (pi_chosen - pi_rejected) - (ref_chosen - ref_rejected)
    loss_i     = -(1 - eps) * logsigmoid(beta * logits_i) - eps * logsigmoid(-beta * logits_i)
    loss       = mean_i loss_i
    rewards    = beta * (pi - ref), chosen and rejected; accuracy = mean(chosen > rejected)

Gradients are d loss / d policy weight, every weight. At the reference (policy = reference) the
loss is ln 2 whatever the data: also written, as a check of the formula.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import neox_reference as nx  # first: re-execs under /usr/bin/python3 when torch is missing  # noqa: E402

import json  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODEL_DIR = os.path.join(REPO, "fixtures", "parallel-rot025-f32")
OUT_DIR = os.path.join(REPO, "fixtures", "train")

BETA = 0.1
LABEL_SMOOTHING = 0.1
NOISE = 0.05
SEED = 7
# Pairs: (prompt ids, chosen ids, rejected ids), lengths chosen so the rows pad differently.
PAIRS = [
    ([3, 17, 42, 5], [60, 61, 7, 0], [11, 0]),
    ([9, 9, 30], [50, 51, 52, 53, 0], [70, 71, 72, 0]),
    ([88, 2], [4, 0], [5, 6, 7, 8, 9, 0]),
]


def batch(pairs):
    """Rows [chosen_0 … chosen_n-1, rejected_0 … rejected_n-1], right-padded with 0; response masks."""
    seqs = [p + c for p, c, _ in pairs] + [p + r for p, _, r in pairs]
    prompts = [len(p) for p, _, _ in pairs] * 2
    T = max(len(s) for s in seqs)
    ids = torch.zeros(len(seqs), T, dtype=torch.long)
    mask = torch.zeros(len(seqs), T, dtype=torch.float64)  # mask[b, t]: token t is a response token
    for b, s in enumerate(seqs):
        ids[b, : len(s)] = torch.tensor(s)
        mask[b, prompts[b] : len(s)] = 1.0
    return ids, mask, [len(s) for s in seqs]


def seq_logps(cfg, P, ids, mask):
    """Sum over each row's response tokens of log p(token | tokens before it): [rows]."""
    logits = nx.forward(cfg, P, ids)
    logp = torch.log_softmax(logits[:, :-1, :], dim=-1).gather(-1, ids[:, 1:].unsqueeze(-1)).squeeze(-1)
    return (logp * mask[:, 1:]).sum(-1)


def dpo(policy, ref, beta, eps):
    n = policy.shape[0] // 2
    logits = (policy[:n] - policy[n:]) - (ref[:n] - ref[n:])
    losses = -(1 - eps) * torch.nn.functional.logsigmoid(beta * logits) - eps * torch.nn.functional.logsigmoid(-beta * logits)
    chosen = beta * (policy[:n] - ref[:n])
    rejected = beta * (policy[n:] - ref[n:])
    return losses.mean(), chosen, rejected


def main():
    cfg = nx.ModelConfig.load(os.path.join(MODEL_DIR, "config.json"))
    names = nx.param_names(cfg)
    ref_params = nx.load_params(os.path.join(MODEL_DIR, "model.safetensors"), cfg)
    rng = np.random.default_rng(SEED)
    # The policy's weights are stored as float32 (what the TypeScript side loads), then used in float64.
    moved = {n: (ref_params[n].numpy() + NOISE * rng.standard_normal(ref_params[n].shape)).astype(np.float32) for n in names}
    policy_params = {n: torch.tensor(moved[n], dtype=torch.float64, requires_grad=True) for n in names}
    ids, mask, lengths = batch(PAIRS)

    with torch.no_grad():
        ref = seq_logps(cfg, ref_params, ids, mask)
        at_ref, _, _ = dpo(ref, ref, BETA, LABEL_SMOOTHING)
    policy = seq_logps(cfg, policy_params, ids, mask)
    loss, chosen, rejected = dpo(policy, ref, BETA, LABEL_SMOOTHING)
    loss.backward()

    os.makedirs(OUT_DIR, exist_ok=True)
    golden = {
        "description": "DPO (sigmoid) on fixtures/parallel-rot025-f32 as the reference and these policy weights; see scripts/dpo_reference.py",
        "beta": BETA,
        "label_smoothing": LABEL_SMOOTHING,
        "pairs": [{"prompt": p, "chosen": c, "rejected": r} for p, c, r in PAIRS],
        "ids": ids.tolist(),
        "lengths": lengths,
        "response_mask": mask.to(torch.int64).tolist(),
        "policy_logps": policy.tolist(),
        "reference_logps": ref.tolist(),
        "loss": loss.item(),
        "loss_at_reference": at_ref.item(),
        "chosen_rewards": chosen.tolist(),
        "rejected_rewards": rejected.tolist(),
    }
    with open(os.path.join(OUT_DIR, "dpo-golden.json"), "w") as f:
        json.dump(golden, f, indent=1)
        f.write("\n")
    tensors = {}
    for n in names:
        tensors["policy." + n] = ("F32", moved[n])
        tensors["grad." + n] = ("F32", policy_params[n].grad.numpy().astype(np.float32))
    nx.save_safetensors(os.path.join(OUT_DIR, "dpo-golden.safetensors"), tensors)
    print("loss %.9f, at the reference %.12f (ln 2 = %.12f)" % (loss.item(), at_ref.item(), float(np.log(2))))


if __name__ == "__main__":
    main()
