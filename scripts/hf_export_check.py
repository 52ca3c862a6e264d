#!/usr/bin/env python3
"""The export fixtures, checked with the Hugging Face libraries themselves.

    npx tsx scripts/export_fixtures.ts --keep /tmp/exports     # the exported folders
    python3 scripts/hf_export_check.py /tmp/exports            # needs torch, transformers, peft, safetensors

Loads each exported folder with ``GPTNeoXForCausalLM.from_pretrained`` (float64), and the adapter
with ``PeftModel.from_pretrained`` on fixtures/parallel-rot025-f32, and compares their logits for
the probe ids with fixtures/export/*.json (made by scripts/export_reference.py, which re-implements
what these libraries do with PyTorch alone). Also checks merge_and_unload() against the merged
export. Prints one JSON object; exits 1 if any difference exceeds 1e-6.

Not run when written: no machine here had transformers + peft (the device machines do).
"""
import json
import os
import sys

import torch
from peft import PeftModel
from transformers import GPTNeoXForCausalLM

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load(path):
    try:
        return GPTNeoXForCausalLM.from_pretrained(path, dtype=torch.float64).eval()
    except TypeError:  # transformers < 4.56 names it torch_dtype
        return GPTNeoXForCausalLM.from_pretrained(path, torch_dtype=torch.float64).eval()


def main():
    root = sys.argv[1]
    out, worst = {}, 0.0
    with torch.no_grad():
        for case in ("full-f32", "full-f16", "lora-merged", "lora-adapter"):
            fx = json.load(open(os.path.join(REPO, "fixtures/export/%s.json" % case)))
            ids = torch.tensor(fx["ids"])
            ref = torch.tensor(fx["reference"]["logits"], dtype=torch.float64)
            if case == "lora-adapter":
                model = PeftModel.from_pretrained(load(os.path.join(REPO, "fixtures/parallel-rot025-f32")), os.path.join(root, case)).eval()
                logits = model(ids).logits
                unloaded = model.merge_and_unload()(ids).logits
                merged_ref = torch.tensor(json.load(open(os.path.join(REPO, "fixtures/export/lora-merged.json")))["reference"]["logits"], dtype=torch.float64)
                out["merge_and_unload_vs_merged_export"] = float((unloaded - merged_ref).abs().max())
            else:
                model = load(os.path.join(root, case))
                logits = model(ids).logits
                out[case + "_generation_config"] = model.generation_config.to_dict().get("eos_token_id")
            d = float((logits - ref).abs().max())
            out[case + "_vs_reference_max_abs"] = d
            worst = max(worst, d)
    out["transformers_ok"] = worst < 1e-6
    print(json.dumps(out, indent=2))
    sys.exit(0 if worst < 1e-6 else 1)


if __name__ == "__main__":
    main()
