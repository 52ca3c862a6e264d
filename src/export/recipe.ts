/**
 * "Outgrowing the browser": a run's data and settings as files that train the same model on real
 * GPUs, with Hugging Face transformers (one GPU or several through accelerate) or with axolotl.
 *
 *   data/train.jsonl, data/test.jsonl   the rendered examples, masking included (axolotl's input_output)
 *   recipe.json                         every hyperparameter, once; train_hf.py reads it
 *   train_hf.py                         transformers Trainer (+ PEFT for LoRA)
 *   accelerate_config.yaml              multi-GPU launch (8 processes, bf16), to edit
 *   axolotl.yaml                        the same run for axolotl
 *   README.md                           what each file is, and the commands
 *
 * Pure text: nothing here touches a model or the network, so it runs anywhere (page, worker, CLI).
 *
 * How the studio's trainer maps onto transformers' (checked against src/train/adamw.ts,
 * schedule.ts and batchPlan.ts):
 * - AdamW is torch.optim.AdamW in both ("adamw_torch"), with the same betas, eps and decoupled
 *   weight decay. The studio decays matrices only, never biases or LayerNorm weights; the HF
 *   Trainer does the same by default (get_decay_parameter_names leaves out nn.LayerNorm
 *   parameters and every name containing "bias"). Embeddings and LoRA A/B decay in both.
 * - The schedules are HF's own lr_lambdas (see HF_SCHEDULER), with warmup_steps as given.
 * - Clipping: max_grad_norm 0 turns it off in both.
 * - max_steps > 0 overrides the epochs in both; otherwise num_train_epochs.
 * What cannot match exactly (README.md says so too): the shuffle order (torch's sampler versus
 * the studio's seeded plan), how an epoch's trailing partial accumulation is counted, how losses
 * are averaged across accumulated micro-batches, and bf16 autocast versus the studio's float32.
 */
import type { ModelConfig } from '../model/config';
import { layerPrefix, modelNames } from '../model/params';
import type { Segment, TemplateSpec, TokenizeSettings } from '../data/types';
import type { OutFile } from '../train/exportModel';
import { totalSteps } from '../train/batchPlan';
import { checkTrainConfig } from '../train/presets';
import type { TrainConfig } from '../train/types';
import { peftTargetModules } from '../train/lora';
import { EOS_TOKEN, HF_SCHEDULER, fenced, promptFormat, yamlList, yamlScalar, yamlString } from './format';
import { TRAIN_HF_PY } from './trainHfScript';

export type { OutFile };

export interface RecipeInput {
  runName: string;
  /** Hugging Face repo id of the base model, e.g. EleutherAI/pythia-70m. */
  baseModel: string;
  config: TrainConfig;
  tokenize: TokenizeSettings;
  template: TemplateSpec;
  /** Rendered examples (renderSegments): prompt segments train false, answers train true. */
  train: Segment[][];
  test: Segment[][];
  /** The base model's config (its parameter names); a GPT-NeoX when not given. */
  modelConfig?: ModelConfig;
}

/** transformers.TrainingArguments keywords, exactly as train_hf.py passes them (bf16 aside). */
export interface HfTrainingArguments {
  output_dir: string;
  run_name: string;
  seed: number;
  optim: 'adamw_torch';
  learning_rate: number;
  adam_beta1: number;
  adam_beta2: number;
  adam_epsilon: number;
  weight_decay: number;
  max_grad_norm: number;
  /** NEFTune's alpha, only where the run used it. */
  neftune_noise_alpha?: number;
  lr_scheduler_type: string;
  warmup_steps: number;
  per_device_train_batch_size: number;
  per_device_eval_batch_size: number;
  gradient_accumulation_steps: number;
  num_train_epochs: number;
  /** -1 (transformers' "unset"): train num_train_epochs. */
  max_steps: number;
  eval_strategy: 'steps' | 'no';
  eval_steps?: number;
  save_strategy: 'steps' | 'no';
  save_steps?: number;
  logging_steps: number;
  gradient_checkpointing: boolean;
  /** Named so evaluation reports eval_loss for a PEFT model too (older versions find no labels there). */
  label_names: string[];
  remove_unused_columns: boolean;
  report_to: string;
}

/** recipe.json: the one place a run's hyperparameters are written down. */
export interface Recipe {
  run_name: string;
  base_model: string;
  method: 'full' | 'lora';
  /** Full fine-tune only: keep gpt_neox.embed_in frozen. */
  freeze_embeddings: boolean;
  /** peft.LoraConfig keywords (null for a full fine-tune). */
  /** PEFT's LoraConfig keyword arguments (use_rslora only where set). */
  lora: { r: number; lora_alpha: number; lora_dropout: number; target_modules: string[]; bias: 'none'; task_type: 'CAUSAL_LM'; use_rslora?: true } | null;
  /** LoRA+: B's learning rate over A's (PEFT's create_loraplus_optimizer, axolotl's loraplus_lr_ratio); null when off. */
  loraplus_lr_ratio: number | null;
  data: { train: string; test: string; train_examples: number; test_examples: number; template: TemplateSpec };
  tokenize: {
    max_length: number;
    truncation_side: 'left' | 'right';
    padding: 'longest' | 'max_length';
    append_eos: boolean;
    loss_on: 'completion' | 'all';
    eos_token: string;
  };
  training_arguments: HfTrainingArguments;
  /** Stop after this many evaluations without a new best eval loss (0 = off). */
  early_stopping_patience: number;
  /** "bf16" where the GPU has it (autocast over float32 weights); "no" trains in float32 as the studio does. */
  mixed_precision: 'bf16' | 'no';
  /** Optimizer steps the studio ran (or would run) on one device, to compare with. */
  studio_optimizer_steps: number;
}

export const DATA_FILES = { train: 'data/train.jsonl', test: 'data/test.jsonl' } as const;
const OUTPUT_DIR = 'output';

/** One axolotl input_output segment. */
export interface IoSegment {
  label: boolean;
  text: string;
}

/**
 * Examples as axolotl input_output lines. label is the studio's train flag (every segment with
 * lossOn "all"); the appended end-of-text becomes a final trained segment, since axolotl adds
 * no EOS of its own to this format, and the studio trains it whatever lossOn says.
 */
/** The input embedding's module, which a full fine-tune with frozen embeddings leaves alone. */
const frozenEmbedding = (c?: ModelConfig): string => (c ? modelNames(c).embed.replace(/\.weight$/, '') : 'gpt_neox.embed_in');

/** axolotl's unfrozen_parameters for "everything but the input embedding": the blocks, the final norm, an untied head, GPT-2's positions. */
function unfrozenPatterns(c?: ModelConfig): string[] {
  if (!c) return ['^gpt_neox.layers.', '^gpt_neox.final_layer_norm.', '^embed_out.'];
  const n = modelNames(c);
  const prefix = layerPrefix(c, 0).replace(/0\.$/, '');
  return [`^${prefix}`, `^${n.finalNorm}.`, ...(n.head !== n.embed ? [`^${n.head.replace(/weight$/, '')}`] : []), ...(n.positions ? [`^${n.positions.replace(/weight$/, '')}`] : [])];
}

export function ioJsonl(items: Segment[][], s: TokenizeSettings): string {
  const all = s.lossOn === 'all';
  const lines = items.map((segs) => {
    const segments: IoSegment[] = segs.map((g) => ({ label: all || g.train, text: g.text }));
    if (s.appendEos) segments.push({ label: true, text: EOS_TOKEN });
    return JSON.stringify({ segments });
  });
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

/** Why a DPO run has no recipe: the script and the axolotl config are supervised fine-tuning. */
const DPO_NO_RECIPE = 'the GPU recipe trains with the supervised objective (transformers + peft, axolotl); a DPO run has none yet: train it in the studio, or give the pairs (Export my votes, or your file) to TRL\'s DPOTrainer';

/** The run's settings as recipe.json. Throws (saying what to fix) when the config could not run. */
export function recipeOf(x: RecipeInput): Recipe {
  const c = x.config;
  const problems = Object.entries(checkTrainConfig(c));
  if (problems.length > 0) throw new Error(`the training settings cannot run (${problems.map(([k, v]) => `${k}: ${v}`).join('; ')}): fix them in the Train tab first`);
  if (x.train.length === 0) throw new Error('the train split is empty: load data (and split it) in the Data tab first');
  if (c.objective === 'dpo') throw new Error(DPO_NO_RECIPE);
  const evalOn = c.evalEvery > 0 && x.test.length > 0;
  const saveOn = c.checkpointEvery > 0;
  const args: HfTrainingArguments = {
    output_dir: OUTPUT_DIR,
    run_name: x.runName,
    seed: c.seed,
    optim: 'adamw_torch',
    learning_rate: c.optimizer.lr,
    adam_beta1: c.optimizer.beta1,
    adam_beta2: c.optimizer.beta2,
    adam_epsilon: c.optimizer.eps,
    weight_decay: c.optimizer.weightDecay,
    max_grad_norm: c.optimizer.maxGradNorm,
    ...((c.neftuneAlpha ?? 0) > 0 ? { neftune_noise_alpha: c.neftuneAlpha } : {}),
    lr_scheduler_type: HF_SCHEDULER[c.schedule.kind],
    warmup_steps: c.schedule.warmupSteps,
    per_device_train_batch_size: c.batchSize,
    per_device_eval_batch_size: c.batchSize,
    gradient_accumulation_steps: c.gradAccum,
    num_train_epochs: c.epochs,
    max_steps: c.maxSteps > 0 ? c.maxSteps : -1,
    eval_strategy: evalOn ? 'steps' : 'no',
    ...(evalOn ? { eval_steps: c.evalEvery } : {}),
    save_strategy: saveOn ? 'steps' : 'no',
    ...(saveOn ? { save_steps: c.checkpointEvery } : {}),
    logging_steps: 1, // the studio charts every step
    gradient_checkpointing: c.activationCheckpointing === true,
    label_names: ['labels'],
    remove_unused_columns: false,
    report_to: 'none',
  };
  return {
    run_name: x.runName,
    base_model: x.baseModel,
    method: c.method,
    freeze_embeddings: c.method === 'full' && c.freezeEmbeddings,
    lora:
      c.method === 'lora'
        ? { r: c.lora.rank, lora_alpha: c.lora.alpha, lora_dropout: c.lora.dropout, target_modules: peftTargetModules(c.lora), bias: 'none', task_type: 'CAUSAL_LM', ...(c.lora.rslora ? { use_rslora: true as const } : {}) }
        : null,
    loraplus_lr_ratio: c.method === 'lora' && (c.lora.plusRatio ?? 1) !== 1 ? c.lora.plusRatio! : null,
    data: {
      ...DATA_FILES,
      train_examples: x.train.length,
      test_examples: x.test.length,
      template: x.template.id === 'custom' ? x.template : { id: x.template.id, custom: '' },
    },
    tokenize: {
      max_length: x.tokenize.maxLength,
      truncation_side: x.tokenize.truncation,
      padding: x.tokenize.padding,
      append_eos: x.tokenize.appendEos,
      loss_on: x.tokenize.lossOn,
      eos_token: EOS_TOKEN,
    },
    training_arguments: args,
    early_stopping_patience: evalOn ? c.earlyStopPatience : 0,
    mixed_precision: 'bf16',
    studio_optimizer_steps: totalSteps(c, x.train.length),
  };
}

/** accelerate's multi-GPU config; num_processes is the number of GPUs (edit it to yours). */
export const ACCELERATE_CONFIG = `# accelerate launch --config_file accelerate_config.yaml train_hf.py
# One process per GPU (data parallel): set num_processes to the number of GPUs on the machine.
# Each GPU takes per_device_train_batch_size examples, so one optimizer step sees
# num_processes x per_device_train_batch_size x gradient_accumulation_steps examples.
compute_environment: LOCAL_MACHINE
distributed_type: MULTI_GPU
num_machines: 1
machine_rank: 0
num_processes: 8
gpu_ids: all
mixed_precision: bf16
downcast_bf16: 'no'
rdzv_backend: static
same_network: true
main_training_function: main
use_cpu: false
`;

/** Smallest multiple of `every` that is at least `n` (at least `every`). */
const multipleAtLeast = (n: number, every: number) => Math.max(1, Math.ceil(n / every)) * every;

/** The same run as an axolotl config, written from the recipe so the two cannot drift apart. */
export function axolotlYaml(r: Recipe, model?: ModelConfig): string {
  const a = r.training_arguments;
  const t = r.tokenize;
  const kv = (k: string, v: string | number | boolean) => `${k}: ${yamlScalar(v)}`;
  const lines: string[] = [
    `# axolotl train axolotl.yaml  (the NeoX Studio run ${JSON.stringify(r.run_name)}, as recipe.json and train_hf.py train it)`,
    kv('base_model', r.base_model),
    '# Pythia has no pad token: pad with end-of-text, as the studio does (padding carries no loss).',
    'special_tokens:',
    `  pad_token: ${yamlString(t.eos_token)}`,
    '',
    '# input_output: each segment tokenized on its own, label false = no loss; the studio’s masking exactly.',
    'datasets:',
    `  - path: ${yamlString(r.data.train)}`,
    '    ds_type: json',
    '    type: input_output',
  ];
  if (r.data.test_examples > 0) {
    lines.push(
      'test_datasets:',
      `  - path: ${yamlString(r.data.test)}`,
      '    ds_type: json',
      '    split: train # a local JSON file’s one split is called "train"',
      '    type: input_output',
    );
  }
  lines.push(
    'val_set_size: 0 # the test split above is the studio’s held-out set',
    kv('dataset_prepared_path', 'last_run_prepared'),
    kv('output_dir', `${OUTPUT_DIR}-axolotl`),
    '',
    kv('sequence_len', t.max_length),
    t.truncation_side === 'right'
      ? 'excess_length_strategy: truncate # keeps the first sequence_len tokens, as the studio’s right truncation'
      : 'excess_length_strategy: drop # the studio keeps the last tokens (left truncation); axolotl can only cut the end, which would cut answers, so longer rows are dropped',
    'sample_packing: false # one example per row, as in the studio',
    kv('pad_to_sequence_len', t.padding === 'max_length'),
    `${kv('train_on_inputs', t.loss_on === 'all')} # ${t.loss_on === 'all' ? 'loss on every token' : 'loss on the answers (and end-of-text) only'}`,
    '',
  );
  if (r.lora) {
    lines.push(
      'adapter: lora',
      kv('lora_r', r.lora.r),
      kv('lora_alpha', r.lora.lora_alpha),
      kv('lora_dropout', r.lora.lora_dropout),
      `lora_target_modules: ${yamlList(r.lora.target_modules)}`,
      'lora_target_linear: false',
      ...(r.lora.use_rslora ? [kv('peft_use_rslora', true)] : []),
      ...(r.loraplus_lr_ratio !== null ? [kv('loraplus_lr_ratio', r.loraplus_lr_ratio)] : []),
    );
  } else {
    lines.push('# no adapter: a full fine-tune');
    if (r.freeze_embeddings) {
      lines.push(
        `# everything but ${frozenEmbedding(model)} trains (patterns match from the start of the name; "." is literal)`,
        `unfrozen_parameters: ${yamlList(unfrozenPatterns(model))}`,
      );
    }
  }
  lines.push(
    '',
    kv('optimizer', a.optim),
    kv('learning_rate', a.learning_rate),
    kv('adam_beta1', a.adam_beta1),
    kv('adam_beta2', a.adam_beta2),
    kv('adam_epsilon', a.adam_epsilon),
    `${kv('weight_decay', a.weight_decay)} # matrices only: biases and LayerNorm weights never decay`,
    `${kv('max_grad_norm', a.max_grad_norm)}${a.max_grad_norm === 0 ? ' # 0: no clipping' : ''}`,
    ...(a.neftune_noise_alpha !== undefined ? [kv('neftune_noise_alpha', a.neftune_noise_alpha)] : []),
    kv('lr_scheduler', a.lr_scheduler_type),
    kv('warmup_steps', a.warmup_steps),
    kv('micro_batch_size', a.per_device_train_batch_size),
    kv('eval_batch_size', a.per_device_eval_batch_size),
    kv('gradient_accumulation_steps', a.gradient_accumulation_steps),
    kv('num_epochs', a.num_train_epochs),
  );
  if (a.max_steps > 0) lines.push(`${kv('max_steps', a.max_steps)} # takes precedence over num_epochs`);
  lines.push(kv('seed', a.seed), kv('logging_steps', a.logging_steps));
  const evalSteps = a.eval_steps;
  if (evalSteps !== undefined) lines.push(kv('eval_steps', evalSteps));
  else lines.push(kv('eval_strategy', 'no'));
  if (r.early_stopping_patience > 0 && evalSteps !== undefined) {
    // transformers' EarlyStoppingCallback, which axolotl uses, needs load_best_model_at_end, and
    // that needs checkpoints on evaluation steps: save at a multiple of eval_steps.
    lines.push(
      kv('early_stopping_patience', r.early_stopping_patience),
      'load_best_model_at_end: true # required by early stopping; the studio instead keeps the last weights (and the best checkpoint)',
      kv('metric_for_best_model', 'eval_loss'),
      'greater_is_better: false',
      `${kv('save_steps', multipleAtLeast(a.save_steps ?? evalSteps, evalSteps))} # a multiple of eval_steps, as load_best_model_at_end requires`,
    );
  } else if (a.save_steps !== undefined) {
    lines.push(kv('save_steps', a.save_steps));
  } else {
    lines.push(kv('save_strategy', 'no'));
  }
  lines.push(
    kv('gradient_checkpointing', a.gradient_checkpointing),
    r.mixed_precision === 'bf16' ? 'bf16: auto # where the GPU has it; false trains in float32, as the studio does' : 'bf16: false',
    'tf32: false',
    '',
  );
  return lines.join('\n');
}

function readme(x: RecipeInput, r: Recipe): string {
  const a = r.training_arguments;
  const fmt = promptFormat(x.template);
  const steps = a.max_steps > 0 ? `${a.max_steps} optimizer steps` : `${a.num_train_epochs} epoch${a.num_train_epochs === 1 ? '' : 's'}`;
  const prompts = fmt.prompts.map((p) => `${p.when ? `${p.when}:\n\n` : ''}${fenced(p.text)}`).join('\n\n');
  return `# ${x.runName}: training recipe

Made by NeoX Studio from the run "${x.runName}" (${r.method === 'lora' ? `LoRA r=${r.lora!.r}` : 'full fine-tune'} of
\`${r.base_model}\`, ${steps}). These files were written in your browser: the examples in \`data/\`
never left this machine, and nothing leaves it until you copy this folder somewhere yourself.

## Files

| file | what it is |
|---|---|
| \`data/train.jsonl\`, \`data/test.jsonl\` | the ${r.data.train_examples} train and ${r.data.test_examples} test examples exactly as the studio trained on them, in axolotl's \`input_output\` format: \`{"segments": [{"label": false, "text": prompt}, {"label": true, "text": answer}]}\`; label false means no loss${r.tokenize.append_eos ? `, and the final \`${EOS_TOKEN}\` segment is the end-of-text token the studio appends` : ''} |
| \`recipe.json\` | every hyperparameter, once: the base model, LoRA settings, tokenization (max length ${r.tokenize.max_length}, ${r.tokenize.truncation_side} truncation, loss on ${r.tokenize.loss_on === 'all' ? 'every token' : 'the answers only'}) and the \`TrainingArguments\` |
| \`train_hf.py\` | Hugging Face \`transformers\` Trainer${r.method === 'lora' ? ' with a PEFT LoRA adapter' : ''}; reads \`recipe.json\` and \`data/\` |
| \`accelerate_config.yaml\` | multi-GPU launch: 8 processes (set \`num_processes\` to your GPU count), bf16 |
| \`axolotl.yaml\` | the same run for [axolotl](https://github.com/axolotl-ai-cloud/axolotl) |

## Run it

Install (Python 3.9+, a CUDA build of PyTorch):

${fenced('pip install torch transformers peft accelerate safetensors', 'sh')}

One GPU (from this folder):

${fenced('CUDA_VISIBLE_DEVICES=0 python train_hf.py', 'sh')}

Several GPUs on one machine:

${fenced('accelerate launch --config_file accelerate_config.yaml train_hf.py', 'sh')}

With axolotl instead:

${fenced('pip install axolotl\naxolotl train axolotl.yaml', 'sh')}

\`train_hf.py\` writes to \`${a.output_dir}/\` ${r.method === 'lora' ? 'a PEFT adapter (`adapter_config.json`, `adapter_model.safetensors`)' : 'the model (`config.json`, `model.safetensors`)'} and the tokenizer; axolotl writes to \`${a.output_dir}-axolotl/\`.

## Prompt format (${fmt.label})

${prompts}

${fmt.answerPrefix ? 'A space, then the answer' : 'The answer follows directly'}${r.tokenize.append_eos ? `, then \`${EOS_TOKEN}\`` : ''}. Prompt the trained model the same way.

## How close to the studio this is

Same data, masking, model, optimizer (AdamW with weight decay on matrices only), learning-rate
schedule, clipping, batch size and accumulation. Not bit-identical:
- the order examples are shuffled in (PyTorch's sampler, seeded with \`seed\`, not the studio's);
- the studio counts an epoch's leftover micro-batches (fewer than \`gradient_accumulation_steps\`) as
  one more step, transformers may not, so an epoch can be one step shorter: the studio's run is
  ${r.studio_optimizer_steps} optimizer step${r.studio_optimizer_steps === 1 ? '' : 's'} on one device;
- with several GPUs each step sees \`num_processes\` times more examples and an epoch has that many
  times fewer steps: divide \`gradient_accumulation_steps\` (recipe.json and axolotl.yaml) to keep
  the studio's effective batch;
- bf16 autocast where the GPU has it (set \`"mixed_precision": "no"\` in recipe.json, \`bf16: false\` in
  axolotl.yaml, for the studio's float32);
- ${x.tokenize.truncation === 'left' ? 'axolotl cannot cut the start of a row as the studio\'s left truncation does, so it drops rows longer than `sequence_len` (`train_hf.py` truncates as the studio does)' : 'examples longer than the max length are truncated at the end, as in the studio'}.
`;
}

const utf8 = (s: string) => new TextEncoder().encode(s);

/** The recipe's files (see the file comment), named relative to the folder they go in. */
export function trainingRecipe(x: RecipeInput): OutFile[] {
  const r = recipeOf(x);
  return [
    { name: DATA_FILES.train, bytes: utf8(ioJsonl(x.train, x.tokenize)) },
    { name: DATA_FILES.test, bytes: utf8(ioJsonl(x.test, x.tokenize)) },
    { name: 'recipe.json', bytes: utf8(`${JSON.stringify(r, null, 2)}\n`) },
    { name: 'train_hf.py', bytes: utf8(TRAIN_HF_PY) },
    { name: 'accelerate_config.yaml', bytes: utf8(ACCELERATE_CONFIG) },
    { name: 'axolotl.yaml', bytes: utf8(axolotlYaml(r, x.modelConfig)) },
    { name: 'README.md', bytes: utf8(readme(x, r)) },
  ];
}
