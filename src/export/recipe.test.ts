import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { parseConfig } from '../model/config';
import { GPT2, SMOLLM2_135M } from '../testing/hubConfigs';
import { makeBatch } from '../data/batch';
import { encodeSegments } from '../data/encode';
import { segmentsText } from '../data/templates';
import type { Encoder, Segment, TemplateSpec, TokenizeSettings } from '../data/types';
import { DEFAULT_TRAIN, TRAIN_PRESETS } from '../train/presets';
import type { TrainConfig } from '../train/types';
import { yamlNumber } from './format';
import { trainingRecipe, type OutFile, type Recipe, type RecipeInput } from './recipe';

// ---------------------------------------------------------------- python on this machine

/** Debian's python3 has PyTorch here; any python3 can at least compile the script. */
const PYTHON = ['/usr/bin/python3', 'python3'].find((p) => spawnSync(p, ['--version']).status === 0) ?? null;
const pyHas = (module: string) => PYTHON !== null && spawnSync(PYTHON, ['-c', `import ${module}`]).status === 0;
const HAS_TORCH = pyHas('torch');
const HAS_PYYAML = pyHas('yaml');

function python(code: string): unknown {
  const r = spawnSync(PYTHON!, ['-c', code], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`python failed (${r.status}):\n${r.stderr}`);
  return JSON.parse(r.stdout);
}

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function writeFiles(files: OutFile[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'recipe-'));
  dirs.push(dir);
  for (const f of files) {
    mkdirSync(dirname(join(dir, f.name)), { recursive: true });
    writeFileSync(join(dir, f.name), f.bytes);
  }
  return dir;
}

// ---------------------------------------------------------------- fixtures

const qa = (q: string, a: string): Segment[] => [
  { text: `### Question:\n${q}\n\n### Answer:`, train: false },
  { text: a, train: true },
];
const TRAIN: Segment[][] = [
  qa('Was ist „Lamini“? 🦙', ' Ein Werkzeug.\nZweite Zeile "zitiert" {brace} \\ back'),
  qa('Tab\there', ' 日本語'),
  [
    { text: 'U: hi\n', train: false },
    { text: 'A: hello\n', train: true },
    { text: 'U: a much longer second question that will not fit a short window\n', train: false },
    { text: 'A: ciao', train: true },
  ],
  [{ text: 'only trained text', train: true }],
  qa('x'.repeat(40), ' short'),
];
const TEST: Segment[][] = [qa('held out?', ' yes')];
const QA: TemplateSpec = { id: 'qa', custom: '' };
const TOKENS: TokenizeSettings = { maxLength: 256, truncation: 'right', padding: 'longest', appendEos: true, lossOn: 'completion' };

const lora = TRAIN_PRESETS.find((p) => p.id === 'lora')!.config;
const course = TRAIN_PRESETS.find((p) => p.id === 'course')!.config;
const CASES: { name: string; config: TrainConfig }[] = [
  { name: 'full, cosine, max steps', config: DEFAULT_TRAIN },
  { name: 'LoRA, epochs', config: lora },
  { name: 'full, linear, accumulation (course)', config: course },
  {
    name: 'full, constant, frozen embeddings, checkpointing, early stop, no clipping',
    config: {
      ...DEFAULT_TRAIN,
      freezeEmbeddings: true,
      activationCheckpointing: true,
      earlyStopPatience: 2,
      schedule: { kind: 'constant', warmupSteps: 0 },
      optimizer: { lr: 3e-7, weightDecay: 0, beta1: 0.85, beta2: 0.95, eps: 1e-6, maxGradNorm: 0 },
      maxSteps: 0,
      epochs: 3,
      evalEvery: 4,
      checkpointEvery: 6,
    },
  },
  {
    name: 'LoRA on every linear, constant with warmup, no eval or checkpoints',
    config: {
      ...lora,
      lora: { rank: 16, alpha: 8, dropout: 0, targets: ['attention.query_key_value', 'attention.dense', 'mlp.dense_h_to_4h', 'mlp.dense_4h_to_h'] },
      schedule: { kind: 'constant', warmupSteps: 5 },
      maxSteps: 7,
      evalEvery: 0,
      checkpointEvery: 0,
    },
  },
];

const input = (config: TrainConfig, tokenize = TOKENS, train = TRAIN, test = TEST): RecipeInput => ({
  runName: 'Run 2 "LoRA" ☕',
  baseModel: 'EleutherAI/pythia-70m',
  config,
  tokenize,
  template: QA,
  train,
  test,
});

const text = (files: OutFile[], name: string) => new TextDecoder().decode(files.find((f) => f.name === name)!.bytes);
const recipeOfFiles = (files: OutFile[]) => JSON.parse(text(files, 'recipe.json')) as Recipe;

// What each studio setting is called elsewhere, written out here independently of the code.
const HF_SCHEDULE = { constant: 'constant_with_warmup', linear: 'linear', cosine: 'cosine' } as const;
const PEFT_NAME: Record<string, string> = { 'attention.query_key_value': 'query_key_value', 'attention.dense': 'dense', 'mlp.dense_h_to_4h': 'dense_h_to_4h', 'mlp.dense_4h_to_h': 'dense_4h_to_h' };

/** The TrainingArguments keywords train_hf.py passes must be the run's settings. */
function expectHfArgs(kw: Record<string, unknown>, c: TrainConfig) {
  expect(kw).toMatchObject({
    optim: 'adamw_torch',
    learning_rate: c.optimizer.lr,
    lr_scheduler_type: HF_SCHEDULE[c.schedule.kind],
    warmup_steps: c.schedule.warmupSteps,
    weight_decay: c.optimizer.weightDecay,
    max_grad_norm: c.optimizer.maxGradNorm,
    adam_beta1: c.optimizer.beta1,
    adam_beta2: c.optimizer.beta2,
    adam_epsilon: c.optimizer.eps,
    per_device_train_batch_size: c.batchSize,
    gradient_accumulation_steps: c.gradAccum,
    seed: c.seed,
    gradient_checkpointing: c.activationCheckpointing === true,
  });
  if (c.maxSteps > 0) expect(kw.max_steps).toBe(c.maxSteps);
  else expect([kw.max_steps, kw.num_train_epochs]).toEqual([-1, c.epochs]);
  expect([kw.eval_strategy, kw.eval_steps]).toEqual(c.evalEvery > 0 ? ['steps', c.evalEvery] : ['no', undefined]);
}

function expectAxolotl(ax: Record<string, unknown>, c: TrainConfig) {
  expect(ax).toMatchObject({
    base_model: 'EleutherAI/pythia-70m',
    optimizer: 'adamw_torch',
    learning_rate: c.optimizer.lr,
    lr_scheduler: HF_SCHEDULE[c.schedule.kind],
    warmup_steps: c.schedule.warmupSteps,
    weight_decay: c.optimizer.weightDecay,
    max_grad_norm: c.optimizer.maxGradNorm,
    adam_beta1: c.optimizer.beta1,
    adam_beta2: c.optimizer.beta2,
    adam_epsilon: c.optimizer.eps,
    micro_batch_size: c.batchSize,
    gradient_accumulation_steps: c.gradAccum,
    num_epochs: c.epochs,
    seed: c.seed,
    sequence_len: TOKENS.maxLength,
    train_on_inputs: false,
    sample_packing: false,
    datasets: [{ path: 'data/train.jsonl', type: 'input_output' }],
    test_datasets: [{ path: 'data/test.jsonl', type: 'input_output', split: 'train' }],
  });
  expect(ax.max_steps).toBe(c.maxSteps > 0 ? c.maxSteps : undefined);
  if (c.method === 'lora') {
    expect(ax).toMatchObject({ adapter: 'lora', lora_r: c.lora.rank, lora_alpha: c.lora.alpha, lora_dropout: c.lora.dropout, lora_target_modules: c.lora.targets.map((t) => PEFT_NAME[t]) });
  } else {
    expect(ax.adapter).toBeUndefined();
    expect(ax.unfrozen_parameters !== undefined).toBe(c.freezeEmbeddings);
  }
  if (c.evalEvery > 0) expect(ax.eval_steps).toBe(c.evalEvery);
  else expect(ax.eval_strategy).toBe('no');
  if (c.earlyStopPatience > 0) {
    expect(ax).toMatchObject({ early_stopping_patience: c.earlyStopPatience, load_best_model_at_end: true });
    expect((ax.save_steps as number) % c.evalEvery).toBe(0);
  } else if (c.checkpointEvery > 0) expect(ax.save_steps).toBe(c.checkpointEvery);
  else expect(ax.save_strategy).toBe('no');
}

// ---------------------------------------------------------------- tests

describe('trainingRecipe: files', () => {
  it('writes the data, the recipe, both scripts’ configs and a README', () => {
    expect(trainingRecipe(input(DEFAULT_TRAIN)).map((f) => f.name)).toEqual([
      'data/train.jsonl',
      'data/test.jsonl',
      'recipe.json',
      'train_hf.py',
      'accelerate_config.yaml',
      'axolotl.yaml',
      'README.md',
    ]);
  });

  it('README names every file and the exact commands, and says the data stayed on the machine', () => {
    const md = text(trainingRecipe(input(lora)), 'README.md');
    for (const f of ['data/train.jsonl', 'recipe.json', 'train_hf.py', 'accelerate_config.yaml', 'axolotl.yaml']) expect(md).toContain(f);
    expect(md).toContain('pip install torch transformers peft accelerate');
    expect(md).toContain('python train_hf.py');
    expect(md).toContain('accelerate launch --config_file accelerate_config.yaml train_hf.py');
    expect(md).toContain('axolotl train axolotl.yaml');
    expect(md).toContain('never left this machine');
    expect(md).toContain('### Question:\n{question}\n\n### Answer:'); // the literal prompt format
    expect(md).not.toMatch(/undefined|NaN/);
  });

  it.each([
    ['llama', { ...SMOLLM2_135M }, ['^model.layers.', '^model.norm.']],
    ['llama, untied', { ...SMOLLM2_135M, tie_word_embeddings: false }, ['^model.layers.', '^model.norm.', '^lm_head.']],
    ['gpt2', { ...GPT2 }, ['^transformer.h.', '^transformer.ln_f.', '^transformer.wpe.']],
  ] as const)('axolotl.yaml with frozen embeddings names what trains by the %s parameter names', (_, json, patterns) => {
    const files = trainingRecipe({ ...input({ ...DEFAULT_TRAIN, method: 'full', freezeEmbeddings: true }), modelConfig: parseConfig(json) });
    const ax = parseYaml(new TextDecoder().decode(files.find((f) => f.name === 'axolotl.yaml')!.bytes)) as Record<string, unknown>;
    expect(ax.unfrozen_parameters).toEqual(patterns);
  });

  it('accelerate_config.yaml is a multi-GPU bf16 config with 8 processes', () => {
    const acc = parseYaml(text(trainingRecipe(input(DEFAULT_TRAIN)), 'accelerate_config.yaml')) as Record<string, unknown>;
    expect(acc).toMatchObject({ distributed_type: 'MULTI_GPU', num_processes: 8, mixed_precision: 'bf16', num_machines: 1 });
  });

  it('refuses a config the studio could not run, and an empty train split, saying what to fix', () => {
    expect(() => trainingRecipe(input({ ...DEFAULT_TRAIN, batchSize: 0 }))).toThrow(/batchSize.*Train tab/);
    expect(() => trainingRecipe(input(DEFAULT_TRAIN, TOKENS, []))).toThrow(/train split is empty/);
    // A DPO run would come out as supervised fine-tuning: refused, saying where DPO runs.
    expect(() => trainingRecipe(input({ ...DEFAULT_TRAIN, objective: 'dpo' }))).toThrow(/a DPO run has none yet: train it in the studio, or give the pairs .* to TRL's DPOTrainer/);
  });
});

describe('trainingRecipe: hyperparameters are the run’s, in every file', () => {
  for (const { name, config: c } of CASES) {
    it(`${name}: recipe.json and axolotl.yaml`, () => {
      const files = trainingRecipe(input(c));
      const r = recipeOfFiles(files);
      expectHfArgs(r.training_arguments as unknown as Record<string, unknown>, c);
      expect(r.base_model).toBe('EleutherAI/pythia-70m');
      expect(r.method).toBe(c.method);
      expect(r.freeze_embeddings).toBe(c.method === 'full' && c.freezeEmbeddings);
      expect(r.early_stopping_patience).toBe(c.evalEvery > 0 ? c.earlyStopPatience : 0);
      expect(r.tokenize).toEqual({ max_length: 256, truncation_side: 'right', padding: 'longest', append_eos: true, loss_on: 'completion', eos_token: '<|endoftext|>' });
      if (c.method === 'lora') {
        expect(r.lora).toEqual({ r: c.lora.rank, lora_alpha: c.lora.alpha, lora_dropout: c.lora.dropout, target_modules: c.lora.targets.map((t) => PEFT_NAME[t]), bias: 'none', task_type: 'CAUSAL_LM' });
      } else {
        expect(r.lora).toBeNull();
      }
      expectAxolotl(parseYaml(text(files, 'axolotl.yaml')) as Record<string, unknown>, c);
    });
  }

  it('rsLoRA goes to PEFT as use_rslora and to axolotl as peft_use_rslora (and nowhere when off)', () => {
    const lora = { ...DEFAULT_TRAIN, method: 'lora' as const };
    const on = trainingRecipe(input({ ...lora, lora: { ...lora.lora, rslora: true } }));
    expect(recipeOfFiles(on).lora).toMatchObject({ use_rslora: true });
    expect(parseYaml(text(on, 'axolotl.yaml'))).toMatchObject({ adapter: 'lora', peft_use_rslora: true });
    const off = trainingRecipe(input(lora));
    expect(recipeOfFiles(off).lora).not.toHaveProperty('use_rslora');
    expect(parseYaml(text(off, 'axolotl.yaml'))).not.toHaveProperty('peft_use_rslora');
  });

  it('LoRA+ goes to recipe.json (for PEFT\'s create_loraplus_optimizer in train_hf.py) and axolotl as loraplus_lr_ratio', () => {
    const lora = { ...DEFAULT_TRAIN, method: 'lora' as const };
    const on = trainingRecipe(input({ ...lora, lora: { ...lora.lora, plusRatio: 16 } }));
    expect(recipeOfFiles(on).loraplus_lr_ratio).toBe(16);
    expect(parseYaml(text(on, 'axolotl.yaml'))).toMatchObject({ loraplus_lr_ratio: 16 });
    expect(text(on, 'train_hf.py')).toContain('create_loraplus_optimizer(');
    const off = trainingRecipe(input({ ...lora, lora: { ...lora.lora, plusRatio: 1 } }));
    expect(recipeOfFiles(off).loraplus_lr_ratio).toBeNull();
    expect(parseYaml(text(off, 'axolotl.yaml'))).not.toHaveProperty('loraplus_lr_ratio');
  });

  it('NEFTune goes to TrainingArguments and axolotl as neftune_noise_alpha (and nowhere when off)', () => {
    const on = trainingRecipe(input({ ...DEFAULT_TRAIN, neftuneAlpha: 5 }));
    expect(recipeOfFiles(on).training_arguments.neftune_noise_alpha).toBe(5);
    expect(parseYaml(text(on, 'axolotl.yaml'))).toMatchObject({ neftune_noise_alpha: 5 });
    const off = trainingRecipe(input(DEFAULT_TRAIN));
    expect(recipeOfFiles(off).training_arguments).not.toHaveProperty('neftune_noise_alpha');
    expect(parseYaml(text(off, 'axolotl.yaml'))).not.toHaveProperty('neftune_noise_alpha');
  });

  it('counts the studio’s steps as its trainer does (an epoch’s leftover micro-batches are one more step)', () => {
    // 5 examples, batch 2 → 3 micro-batches an epoch; accumulation 2 → 2 steps an epoch.
    const r = recipeOfFiles(trainingRecipe(input({ ...DEFAULT_TRAIN, batchSize: 2, gradAccum: 2, maxSteps: 0, epochs: 3 })));
    expect(r.studio_optimizer_steps).toBe(6);
    expect(recipeOfFiles(trainingRecipe(input(DEFAULT_TRAIN))).studio_optimizer_steps).toBe(DEFAULT_TRAIN.maxSteps);
  });

  it('maps the token settings into axolotl: loss on everything, left truncation, max-length padding', () => {
    const ax = parseYaml(text(trainingRecipe(input(DEFAULT_TRAIN, { maxLength: 64, truncation: 'left', padding: 'max_length', appendEos: false, lossOn: 'all' })), 'axolotl.yaml'));
    expect(ax).toMatchObject({ sequence_len: 64, train_on_inputs: true, pad_to_sequence_len: true, excess_length_strategy: 'drop' });
    expect(parseYaml(text(trainingRecipe(input(DEFAULT_TRAIN)), 'axolotl.yaml'))).toMatchObject({ excess_length_strategy: 'truncate', pad_to_sequence_len: false });
  });

  it('leaves test_datasets out (and evaluation off) when there is no test split', () => {
    const files = trainingRecipe(input(DEFAULT_TRAIN, TOKENS, TRAIN, []));
    const ax = parseYaml(text(files, 'axolotl.yaml')) as Record<string, unknown>;
    expect(ax.test_datasets).toBeUndefined();
    expect(ax.eval_strategy).toBe('no');
    expect(recipeOfFiles(files).training_arguments.eval_strategy).toBe('no');
  });

  it('writes numbers YAML 1.1 (PyYAML) reads as numbers, exactly', () => {
    expect([1e-8, 2.5e-7, 1e-5, 0.0002, 42, 0, 1e21].map(yamlNumber)).toEqual(['1.0e-8', '2.5e-7', '0.00001', '0.0002', '42', '0', '1.0e+21']);
    for (const n of [1e-8, 2.5e-7, 3e-7, 1e21]) expect(parseYaml(yamlNumber(n))).toBe(n);
  });
});

describe('trainingRecipe: data files', () => {
  const lines = (s: string) =>
    s
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => (JSON.parse(l) as { segments: { label: boolean; text: string }[] }).segments);

  it('round-trips to the same segments and the same text as the studio renders, EOS as a final trained segment', () => {
    const files = trainingRecipe(input(DEFAULT_TRAIN));
    for (const [name, items] of [
      ['data/train.jsonl', TRAIN],
      ['data/test.jsonl', TEST],
    ] as const) {
      const back = lines(text(files, name));
      expect(back).toHaveLength(items.length);
      back.forEach((segs, i) => {
        expect(segs[segs.length - 1]).toEqual({ label: true, text: '<|endoftext|>' });
        const studio = segs.slice(0, -1).map((s) => ({ text: s.text, train: s.label }));
        expect(studio).toEqual(items[i]);
        expect(segmentsText(studio)).toBe(segmentsText(items[i]));
      });
    }
  });

  it('with loss on everything every segment is trained; without EOS none is added', () => {
    const back = lines(text(trainingRecipe(input(DEFAULT_TRAIN, { ...TOKENS, lossOn: 'all', appendEos: false })), 'data/train.jsonl'));
    back.forEach((segs, i) => {
      expect(segs.every((s) => s.label)).toBe(true);
      expect(segs.map((s) => s.text)).toEqual(TRAIN[i].map((s) => s.text));
    });
  });
});

describe.skipIf(PYTHON === null)(`train_hf.py under ${PYTHON ?? 'python3 (skipped: no python3 on this machine)'}`, () => {
  it('compiles (py_compile)', () => {
    const dir = writeFiles(trainingRecipe(input(lora)));
    const r = spawnSync(PYTHON!, ['-m', 'py_compile', join(dir, 'train_hf.py')], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('imports without transformers and passes the run’s settings to TrainingArguments', () => {
    const recipeDirs = CASES.map((k) => writeFiles(trainingRecipe(input(k.config))));
    const out = python(`
import json, sys
sys.path.insert(0, ${JSON.stringify(recipeDirs[0])})
import train_hf
assert "transformers" not in sys.modules, "train_hf imported transformers at module level"
res = []
for d in ${JSON.stringify(recipeDirs)}:
    recipe = json.load(open(d + "/recipe.json", encoding="utf-8"))
    old = train_hf.training_arguments_kwargs(recipe, False, accepted={"evaluation_strategy": None})
    res.append({"kw": train_hf.training_arguments_kwargs(recipe, True), "old": old})
print(json.dumps(res))
`) as { kw: Record<string, unknown>; old: Record<string, unknown> }[];
    out.forEach(({ kw, old }, i) => {
      expectHfArgs(kw, CASES[i].config);
      expect(kw.bf16).toBe(true);
      // transformers before 4.41 names it evaluation_strategy.
      expect([old.evaluation_strategy, old.eval_strategy]).toEqual([kw.eval_strategy, undefined]);
    });
  });

  it.skipIf(!HAS_PYYAML)('PyYAML (what axolotl parses with) reads axolotl.yaml exactly as the yaml package does', () => {
    const recipeDirs = CASES.map((k) => writeFiles(trainingRecipe(input(k.config))));
    const out = python(`
import json, yaml
print(json.dumps([[yaml.safe_load(open(d + "/" + f, encoding="utf-8")) for f in ("axolotl.yaml", "accelerate_config.yaml")] for d in ${JSON.stringify(recipeDirs)}]))
`) as unknown[][];
    out.forEach(([ax, acc], i) => {
      const files = trainingRecipe(input(CASES[i].config));
      expect(ax).toEqual(parseYaml(text(files, 'axolotl.yaml')));
      expect(acc).toEqual(parseYaml(text(files, 'accelerate_config.yaml')));
      expectAxolotl(ax as Record<string, unknown>, CASES[i].config);
    });
  });

  // One id per character on both sides: this compares the masking, truncation and padding logic,
  // not BPE (the real tokenizer's per-segment encoding is checked in src/data/tokenizerReference.test.ts).
  const fake: Encoder = { eosTokenId: 0, encode: (t) => [...t].map((c) => c.codePointAt(0)!) };
  const SETTINGS: TokenizeSettings[] = [
    TOKENS,
    { maxLength: 24, truncation: 'right', padding: 'longest', appendEos: true, lossOn: 'completion' }, // cuts answers and EOS
    { maxLength: 24, truncation: 'left', padding: 'max_length', appendEos: true, lossOn: 'completion' }, // cuts prompts
    { maxLength: 30, truncation: 'left', padding: 'longest', appendEos: false, lossOn: 'all' },
    { maxLength: 2, truncation: 'right', padding: 'max_length', appendEos: true, lossOn: 'completion' },
  ];

  it.skipIf(!HAS_TORCH)('encode_example and collate give the studio’s ids, loss mask and padding (fake tokenizer, needs torch)', () => {
    const recipeDirs = SETTINGS.map((s) => writeFiles(trainingRecipe(input(DEFAULT_TRAIN, s))));
    const out = python(`
import json, sys
sys.path.insert(0, ${JSON.stringify(recipeDirs[0])})
from train_hf import encode_example, collate, read_jsonl
res = []
for d in ${JSON.stringify(recipeDirs)}:
    s = json.load(open(d + "/recipe.json", encoding="utf-8"))["tokenize"]
    enc = [encode_example(row["segments"], lambda t: [ord(c) for c in t], 0, s) for row in read_jsonl(d + "/data/train.jsonl")]
    with_bos = [encode_example(row["segments"], lambda t: [ord(c) for c in t], 0, s, 1) for row in read_jsonl(d + "/data/train.jsonl")]
    batch = collate(enc, 0, s["padding"], s["max_length"])
    res.append({"enc": enc, "withBos": with_bos, "batch": {k: v.tolist() for k, v in batch.items()}})
print(json.dumps(res))
`) as { enc: { input_ids: number[]; labels: number[] }[]; withBos: { input_ids: number[]; labels: number[] }[]; batch: Record<'input_ids' | 'attention_mask' | 'labels', number[][]> }[];
    out.forEach(({ enc, withBos, batch }, k) => {
      const s = SETTINGS[k];
      const studio = TRAIN.map((segs) => encodeSegments(segs, fake, s));
      // A tokenizer that puts a BOS (id 1 here) before every text, as Llama 2's does.
      const studioBos = TRAIN.map((segs) => encodeSegments(segs, { ...fake, bosTokenId: 1 }, s));
      const same = (py: { input_ids: number[]; labels: number[] }[], ts: typeof studio) =>
        py.forEach((e, i) => {
          expect(e.input_ids).toEqual(ts[i].ids);
          expect(e.labels.map((l) => (l === -100 ? 0 : 1))).toEqual([...ts[i].loss]);
          e.labels.forEach((l, t) => l !== -100 && expect(l).toBe(e.input_ids[t]));
        });
      same(enc, studio);
      same(withBos, studioBos);
      expect(withBos.every((e) => e.input_ids[0] === 1)).toBe(true);
      const b = makeBatch(studio, 0, s);
      expect(batch.input_ids.flat()).toEqual([...b.ids]);
      expect(batch.labels.flat().map((l) => (l === -100 ? 0 : 1))).toEqual([...b.labelMask]);
      expect(batch.attention_mask.map((row) => row.reduce((n, v) => n + v, 0))).toEqual([...b.lengths]);
      expect(batch.attention_mask.flat()).toEqual(batch.input_ids.flatMap((row, r) => row.map((_, t) => (t < b.lengths[r] ? 1 : 0))));
    });
    // The settings above really exercise truncation: some answer tokens and an EOS were cut.
    expect(TRAIN.some((segs) => encodeSegments(segs, fake, SETTINGS[1]).truncated > 0)).toBe(true);
  });
});
