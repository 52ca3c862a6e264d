#!/usr/bin/env python3
"""Greedy tokens of a model folder from the float64 PyTorch reference (neox_reference.py).

For the full-size shape tests (fixtures/shapes/): the TypeScript side writes a model of a Pythia
shape with seeded random weights, this prints what the reference decodes from it, and the test
checks the engine decodes the same tokens from the same file.

    python3 scripts/shape_reference.py DIR 1,2,3 8   # prompt ids, new tokens → one JSON line
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import neox_reference as ref  # noqa: E402  (re-execs under a Python with torch when needed)


def main():
    if len(sys.argv) != 4:
        sys.stderr.write(__doc__)
        return 2
    d, prompt, n = sys.argv[1], [int(x) for x in sys.argv[2].split(",")], int(sys.argv[3])
    cfg = ref.ModelConfig.load(os.path.join(d, "config.json"))
    P = ref.load_params(os.path.join(d, "model.safetensors"), cfg)
    tokens, margins = ref.greedy_generate(cfg, P, prompt, n)
    print(json.dumps({"prompt": prompt, "tokens": tokens, "margins": margins}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
