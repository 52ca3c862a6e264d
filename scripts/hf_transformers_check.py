#!/usr/bin/env python3
"""Checks the golden fixtures against Hugging Face transformers' own GPTNeoXForCausalLM.

scripts/neox_reference.py re-implements the model; this loads each fixtures/<case>/ folder with
the real library (float64) and compares logits, loss and greedy tokens with golden.json /
golden.safetensors. Needs torch, transformers and safetensors (not in Debian):
    python3 scripts/hf_transformers_check.py [out.json]
"""
import json
import sys
from pathlib import Path

import torch
from safetensors.torch import load_file
from transformers import GPTNeoXForCausalLM

ROOT = Path(__file__).resolve().parent.parent


def check(folder):
    golden = json.loads((folder / "golden.json").read_text())
    expected = load_file(str(folder / "golden.safetensors"))
    try:
        model = GPTNeoXForCausalLM.from_pretrained(str(folder), dtype=torch.float64).eval()
    except TypeError:  # transformers < 4.56 names it torch_dtype
        model = GPTNeoXForCausalLM.from_pretrained(str(folder), torch_dtype=torch.float64).eval()
    ids = torch.tensor(golden["ids"])
    with torch.no_grad():
        logits = model(ids).logits  # (B, T, V), causal mask only, as the golden logits
    ref = expected["logits"].double()
    rel = ((logits - ref).abs().max() / ref.abs().max()).item()
    # Mean next-token loss over positions t with t + 1 < length.
    total, count = 0.0, 0
    for b, n in enumerate(golden["lengths"]):
        lp = torch.log_softmax(logits[b, : n - 1], -1)
        total -= lp.gather(1, ids[b, 1:n, None]).sum().item()
        count += n - 1
    g = golden["greedy"]
    out = model.generate(
        torch.tensor([g["prompt"]]), max_new_tokens=g["max_new_tokens"], min_new_tokens=g["max_new_tokens"],
        do_sample=False, pad_token_id=0, eos_token_id=None,
    )[0, len(g["prompt"]):].tolist()
    return {
        "logits_max_rel_error": rel,
        "loss": total / count,
        "golden_loss": golden["loss"],
        "loss_abs_error": abs(total / count - golden["loss"]),
        "greedy_equal": out == g["tokens"],
        "greedy": out,
    }


def main():
    import transformers

    results = {"transformers": transformers.__version__, "torch": torch.__version__, "cases": {}}
    for folder in sorted(p for p in (ROOT / "fixtures").iterdir() if (p / "golden.json").exists()):
        results["cases"][folder.name] = r = check(folder)
        print(f"{folder.name}: logits rel {r['logits_max_rel_error']:.2e}, loss err {r['loss_abs_error']:.2e}, greedy equal {r['greedy_equal']}")
    text = json.dumps(results, indent=2)
    if len(sys.argv) > 1:
        Path(sys.argv[1]).write_text(text + "\n")
    else:
        print(text)


if __name__ == "__main__":
    main()
