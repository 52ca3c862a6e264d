#!/usr/bin/env python3
"""Checks the studio's exports with the Hugging Face libraries themselves.

    python3 scripts/peft_check.py BASE_DIR LORA_OUT_DIR [FULL_OUT_DIR]

BASE_DIR is the model the studio trained; LORA_OUT_DIR is what `npm run cli -- train --method
lora` wrote (the merged model, with the PEFT adapter in adapter/). Loads the base with
transformers, applies the adapter with peft.PeftModel, and compares its logits with the merged
model's and with merge_and_unload(); FULL_OUT_DIR (a full fine-tune's folder) must load too.
Needs torch, transformers, peft and safetensors (not in Debian). Not yet run: no machine with
those packages was available when it was written; the CLI's own test checks the merge by hand.
"""
import json
import sys

import torch
from peft import PeftModel
from transformers import AutoTokenizer, GPTNeoXForCausalLM


def load(path):
    try:
        return GPTNeoXForCausalLM.from_pretrained(path, dtype=torch.float32).eval()
    except TypeError:  # transformers < 4.56 names it torch_dtype
        return GPTNeoXForCausalLM.from_pretrained(path, torch_dtype=torch.float32).eval()


def main():
    base_dir, lora_dir = sys.argv[1], sys.argv[2]
    full_dir = sys.argv[3] if len(sys.argv) > 3 else None
    ids = torch.tensor([[12092, 13, 309, 717, 253, 1533, 15, 0, 50, 77]])
    out = {}
    with torch.no_grad():
        base = load(base_dir)
        base_logits = base(ids).logits
        peft_model = PeftModel.from_pretrained(load(base_dir), f"{lora_dir}/adapter").eval()
        adapter_logits = peft_model(ids).logits
        merged_logits = load(lora_dir)(ids).logits
        unloaded_logits = peft_model.merge_and_unload()(ids).logits
        scale = merged_logits.abs().max().item()
        out["adapter_changes_output"] = (adapter_logits - base_logits).abs().max().item()
        out["merged_vs_peft_adapter_rel"] = (merged_logits - adapter_logits).abs().max().item() / scale
        out["merged_vs_peft_merge_and_unload_rel"] = (merged_logits - unloaded_logits).abs().max().item() / scale
        cfg = json.load(open(f"{lora_dir}/adapter/adapter_config.json"))
        out["adapter_config"] = {k: cfg[k] for k in ("r", "lora_alpha", "target_modules")}
        if full_dir:
            full = load(full_dir)
            out["full_loads"] = True
            out["full_differs_from_base"] = (full(ids).logits - base_logits).abs().max().item()
        tok = AutoTokenizer.from_pretrained(lora_dir)
        out["tokenizer_hello"] = tok("Hello, I am")["input_ids"]
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
