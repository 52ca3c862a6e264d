"""Float64 reference for the ARC log-likelihood scorer (src/eval/arc.ts).

Reads fixtures/eval/arc-tokens.json (context and per-choice continuation ids, produced by the
TypeScript encodePair with the real Pythia tokenizer; the Python side has no HF tokenizer), maps
every id into the fixture model's vocabulary (id % vocab_size: what is checked here is the
scoring arithmetic, not the tokenizer), and scores each choice on fixtures/parallel-rot025-f32
with the float64 GPT-NeoX of neox_reference.py, the way lm-evaluation-harness's
HFLM._loglikelihood_tokens does:

    inp = (context + continuation)[-(max_length + 1):][:-1]
    score = sum of log_softmax(logits)[t, continuation[t']] over the continuation's positions

acc / acc_norm as lm-eval's process_results (acc_norm divides by len(choice text), the choice
without the " " delimiter). Writes fixtures/eval/arc-golden.json.

    /usr/bin/python3 scripts/arc_reference.py
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import neox_reference as ref  # noqa: E402  (re-execs under a python with torch if needed)
import torch  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODEL = os.path.join(ROOT, "fixtures", "parallel-rot025-f32")
TOKENS = os.path.join(ROOT, "fixtures", "eval", "arc-tokens.json")
OUT = os.path.join(ROOT, "fixtures", "eval", "arc-golden.json")


def score(cfg, P, context, continuation):
    """Sum of float64 log-probs of `continuation` after `context` (lm-eval's truncation and shift)."""
    whole = (context + continuation)[-(cfg.max_position_embeddings + 1):]
    inp = torch.tensor([whole[:-1]], dtype=torch.long)
    with torch.no_grad():
        logp = torch.log_softmax(ref.forward(cfg, P, inp)[0], dim=-1)  # [T, V]
    n = len(continuation)
    rows = logp[-n:]  # the last n positions predict the continuation's n tokens
    return rows.gather(-1, torch.tensor(continuation).unsqueeze(-1)).sum().item()


def argmax(xs):
    """First index of the largest value, as numpy.argmax."""
    return max(range(len(xs)), key=lambda i: (xs[i], -i))


def main():
    cfg = ref.ModelConfig.load(os.path.join(MODEL, "config.json"))
    P = ref.load_params(os.path.join(MODEL, "model.safetensors"), cfg)
    V = cfg.vocab_size
    with open(TOKENS) as f:
        docs = json.load(f)["docs"]
    out = []
    for d in docs:
        context = [i % V for i in d["context"]]
        scores = [score(cfg, P, context, [i % V for i in c]) for c in d["continuations"]]
        norm = [s / len(text) for s, text in zip(scores, d["choices"])]
        out.append({"id": d["id"], "scores": scores, "pred": argmax(scores), "pred_norm": argmax(norm), "gold": d["gold"]})
    n = len(out)
    result = {
        "model": "fixtures/parallel-rot025-f32",
        "ids": "arc-tokens.json ids modulo vocab_size (%d)" % V,
        "acc": sum(r["pred"] == r["gold"] for r in out) / n,
        "acc_norm": sum(r["pred_norm"] == r["gold"] for r in out) / n,
        "n": n,
        "docs": out,
    }
    with open(OUT, "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
    print("wrote %s: %d docs, acc %.4f, acc_norm %.4f" % (OUT, n, result["acc"], result["acc_norm"]))


if __name__ == "__main__":
    main()
