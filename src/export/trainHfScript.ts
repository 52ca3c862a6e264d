/**
 * train_hf.py, the recipe's Hugging Face Trainer script. It is the same for every run: all it
 * knows about a run it reads from recipe.json, so the hyperparameters live in one place.
 *
 * Kept importable without transformers, peft or accelerate (they are imported inside main()), so
 * recipe.test.ts can run its tokenization and collation against the studio's with PyTorch alone.
 * String.raw: the Python's backslashes stay as written; it must not contain a backtick or "${".
 */
export const TRAIN_HF_PY = String.raw`"""Fine-tune a model (GPT-NeoX, Llama, Qwen2, Qwen3 or GPT-2) with Hugging Face transformers, as a NeoX Studio run was trained.

One GPU:       python train_hf.py
Several GPUs:  accelerate launch --config_file accelerate_config.yaml train_hf.py

Every hyperparameter comes from recipe.json, the examples from data/train.jsonl and data/test.jsonl
(axolotl's input_output format: each example is a list of text segments, label false = no loss).
encode_example, collate and training_arguments_kwargs need nothing but the standard library (and
PyTorch for collate), so they can be tested or reused without transformers installed.
"""
import inspect
import json
from functools import partial
from pathlib import Path

HERE = Path(__file__).resolve().parent
IGNORE_INDEX = -100  # the label transformers' cross-entropy skips


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def encode_example(segments, tokenize, eos_id, settings, bos_id=None):
    """One example's segments -> input_ids and labels, exactly as the studio encodes it.

    Each segment is tokenized on its own and the ids concatenated, so the prompt/answer boundary
    falls exactly between two tokens (and the prompt gets the tokens it has at inference). When
    the studio appended end-of-text, the data files end the example with the EOS text as a trained
    segment (axolotl reads the same files and needs it there); it becomes eos_id here without
    going through the tokenizer. Truncation keeps the first max_length tokens ("right") or the
    last ("left"). A tokenizer that puts a BOS before every text (bos_id; Llama 2's <s>) gets it
    first, kept whatever the truncation, unless the text already starts with it. Labels are
    IGNORE_INDEX on untrained segments and at position 0, which no token predicts (transformers
    shifts the labels, so it would be skipped anyway).
    """
    ids, trained = [], []
    last = len(segments) - 1
    for i, seg in enumerate(segments):
        text = seg["text"]
        if i == last and settings["append_eos"] and text == settings["eos_token"]:
            piece = [eos_id]
        else:
            piece = list(tokenize(text)) if text else []
        ids += piece
        trained += [bool(seg["label"])] * len(piece)
    with_bos = bos_id is not None and (not ids or ids[0] != bos_id)
    keep = min(len(ids), settings["max_length"] - (1 if with_bos else 0))
    start = len(ids) - keep if settings["truncation_side"] == "left" else 0
    ids = ids[start:start + keep]
    trained = trained[start:start + keep]
    if with_bos:
        ids, trained = [bos_id] + ids, [False] + trained
    labels = [t if on else IGNORE_INDEX for t, on in zip(ids, trained)]
    if labels:
        labels[0] = IGNORE_INDEX
    return {"input_ids": ids, "labels": labels}


def collate(batch, pad_id, padding, max_length):
    """Right-pad encoded examples into tensors: to the batch's longest row, or to max_length.

    The pad id is end-of-text (Pythia has no pad token), so the padding's labels and attention
    come from each row's length, never from its ids: the EOS that ends an answer keeps its loss.
    """
    import torch

    longest = max(len(b["input_ids"]) for b in batch)
    width = max(1, max_length if padding == "max_length" else longest)

    def pad(row, value):
        return row + [value] * (width - len(row))

    return {
        "input_ids": torch.tensor([pad(b["input_ids"], pad_id) for b in batch], dtype=torch.long),
        "attention_mask": torch.tensor([pad([1] * len(b["input_ids"]), 0) for b in batch], dtype=torch.long),
        "labels": torch.tensor([pad(b["labels"], IGNORE_INDEX) for b in batch], dtype=torch.long),
    }


def training_arguments_kwargs(recipe, bf16, accepted=None):
    """recipe.json's training_arguments as TrainingArguments keywords, plus bf16.

    accepted: the keyword names this transformers version takes (None = assume the current ones);
    versions before 4.41 call eval_strategy evaluation_strategy.
    """
    kwargs = dict(recipe["training_arguments"])
    kwargs["bf16"] = bool(bf16)
    if accepted is not None and "eval_strategy" not in accepted and "evaluation_strategy" in accepted:
        kwargs["evaluation_strategy"] = kwargs.pop("eval_strategy")
    return kwargs


def stop_when_eval_stalls(callback_base, patience):
    """The studio's early stopping: stop once "patience" evaluations in a row brought no new best
    eval loss. (transformers' EarlyStoppingCallback also needs load_best_model_at_end, which ties
    checkpoints to evaluations; the studio keeps the last weights and saves the best separately.)"""

    class StopWhenEvalStalls(callback_base):
        def __init__(self):
            self.best = None
            self.since_best = 0

        def on_evaluate(self, args, state, control, metrics=None, **kwargs):
            loss = (metrics or {}).get("eval_loss")
            if loss is None:
                return
            if self.best is None or loss < self.best:
                self.best, self.since_best = loss, 0
            else:
                self.since_best += 1
            if self.since_best >= patience:
                control.should_training_stop = True

    return StopWhenEvalStalls()


def main():
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, Trainer, TrainerCallback, TrainingArguments

    recipe = json.loads((HERE / "recipe.json").read_text(encoding="utf-8"))
    settings = recipe["tokenize"]

    tokenizer = AutoTokenizer.from_pretrained(recipe["base_model"])
    eos_id = tokenizer.convert_tokens_to_ids(settings["eos_token"])
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else eos_id

    def tokenize(text):
        return tokenizer(text, add_special_tokens=False)["input_ids"]

    # The BOS the tokenizer puts before every text, if any (found as the studio finds it).
    plain, full = tokenize("a"), tokenizer("a")["input_ids"]
    bos_id = full[0] if len(full) > len(plain) and full[0] != plain[0] else None

    def load(split):
        rows = read_jsonl(HERE / recipe["data"][split])
        return [encode_example(row["segments"], tokenize, eos_id, settings, bos_id) for row in rows]

    train, test = load("train"), load("test")

    # float32 weights, as the studio trains; bf16 (below) is autocast on top of them.
    model = AutoModelForCausalLM.from_pretrained(recipe["base_model"])
    if recipe["method"] == "lora":
        from peft import LoraConfig, get_peft_model

        model = get_peft_model(model, LoraConfig(**recipe["lora"]))
        model.print_trainable_parameters()
    elif recipe["freeze_embeddings"]:
        model.get_input_embeddings().weight.requires_grad_(False)
    if recipe["training_arguments"].get("gradient_checkpointing") and (recipe["method"] == "lora" or recipe["freeze_embeddings"]):
        # With the embedding frozen, checkpointed blocks would see an input without grad and
        # pass no gradient back: make the embedding output require it.
        model.enable_input_require_grads()

    bf16 = recipe["mixed_precision"] == "bf16" and torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    accepted = inspect.signature(TrainingArguments.__init__).parameters
    args = TrainingArguments(**training_arguments_kwargs(recipe, bf16, accepted))

    patience = recipe["early_stopping_patience"]
    callbacks = [stop_when_eval_stalls(TrainerCallback, patience)] if patience > 0 and test else []
    optimizers = (None, None)  # the Trainer's own AdamW and schedule
    if recipe.get("loraplus_lr_ratio"):
        # LoRA+: lora_B at loraplus_lr_ratio times the learning rate; the Trainer still schedules it.
        from peft.optimizers import create_loraplus_optimizer

        optimizer = create_loraplus_optimizer(
            model, torch.optim.AdamW, lr=args.learning_rate, loraplus_lr_ratio=recipe["loraplus_lr_ratio"],
            weight_decay=args.weight_decay, betas=(args.adam_beta1, args.adam_beta2), eps=args.adam_epsilon,
        )
        optimizers = (optimizer, None)
    trainer = Trainer(
        model=model,
        args=args,
        train_dataset=train,
        eval_dataset=test or None,
        data_collator=partial(collate, pad_id=pad_id, padding=settings["padding"], max_length=settings["max_length"]),
        callbacks=callbacks,
        optimizers=optimizers,
    )
    trainer.train()
    if test:
        print(json.dumps(trainer.evaluate()))
    # A PEFT adapter (adapter_config.json + adapter_model.safetensors) for LoRA, the whole model otherwise.
    trainer.save_model(args.output_dir)
    if trainer.is_world_process_zero():
        tokenizer.save_pretrained(args.output_dir)


if __name__ == "__main__":
    main()
`;
