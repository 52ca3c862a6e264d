#!/usr/bin/env python3
"""The PyTorch half of the GPU check (scripts/gpu/run.sh): the same training steps as
.gpu/bench.mjs, in PyTorch CUDA eager float32, for the side-by-side figure.

    python3 scripts/gpu/torch_bench.py [--smoke]

Random GPT-NeoX models of the Pythia 70m / 160m / 410m shapes (transformers' GPTNeoXForCausalLM,
attn_implementation="eager"), batches of 8 x 128 tokens that all carry loss, one step =
forward + backward + clip_grad_norm_(1.0) + torch.optim.AdamW (lr 1e-4, weight decay 0.01, the
studio's defaults). Full fine-tune, and LoRA r8 alpha 16 on the four block linears (peft). The
median of 5 timed steps after 2 warm-ups, with torch.cuda.synchronize() around each. One JSON line
per figure. --smoke: a tiny shape, on the CPU when there is no GPU.
"""
import json
import statistics
import sys
import time

import torch
from transformers import GPTNeoXConfig, GPTNeoXForCausalLM

SMOKE = "--smoke" in sys.argv
SHAPES = {"tiny": (64, 2, 4, 256)} if SMOKE else {
    "pythia-70m": (512, 6, 8, 2048),
    "pythia-160m": (768, 12, 12, 3072),
    "pythia-410m": (1024, 24, 16, 4096),
}
B, T = (2, 32) if SMOKE else (8, 128)
VOCAB = 512 if SMOKE else 50304
DEVICE = "cuda" if torch.cuda.is_available() else "cpu"


def emit(line):
    print(json.dumps(line), flush=True)


def sync():
    if DEVICE == "cuda":
        torch.cuda.synchronize()


def run(shape, method):
    hidden, layers, heads, inter = SHAPES[shape]
    config = GPTNeoXConfig(vocab_size=VOCAB, hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=heads,
                           intermediate_size=inter, rotary_pct=0.25, max_position_embeddings=2048, hidden_act="gelu",
                           use_parallel_residual=True, tie_word_embeddings=False)
    config._attn_implementation = "eager"
    torch.manual_seed(0)
    model = GPTNeoXForCausalLM(config).to(DEVICE, torch.float32)
    if method == "lora":
        from peft import LoraConfig, get_peft_model
        model = get_peft_model(model, LoraConfig(r=8, lora_alpha=16, lora_dropout=0.0,
                                                 target_modules=["query_key_value", "dense", "dense_h_to_4h", "dense_4h_to_h"]))
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-4, weight_decay=0.01)
    ids = torch.randint(0, VOCAB - 27, (B, T), device=DEVICE)

    def step():
        loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        return loss

    for _ in range(2):
        step()
    times = []
    for _ in range(5):
        sync()
        t0 = time.perf_counter()
        loss = step()
        sync()
        times.append(time.perf_counter() - t0)
    ms = statistics.median(times) * 1000
    emit({"figure": "pytorch_train_step", "shape": shape, "method": method, "device": DEVICE,
          "gpu": torch.cuda.get_device_name(0) if DEVICE == "cuda" else None, "batch": f"{B}x{T}",
          "value": round(B * T / (ms / 1000), 1), "unit": "tokens/s", "step_ms": round(ms, 2),
          "trainable_params": sum(p.numel() for p in params), "loss": float(loss), "torch": torch.__version__})
    del model, opt


def main():
    for shape in SHAPES:
        for method in ("full", "lora"):
            try:
                run(shape, method)
            except Exception as e:  # one failed run must not hide the others
                emit({"figure": "pytorch_train_step", "shape": shape, "method": method, "value": None, "error": str(e)[:300]})
            if DEVICE == "cuda":
                torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
