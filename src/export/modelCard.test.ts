import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import type { TokenizeSettings } from '../data/types';
import { DEFAULT_TRAIN, TRAIN_PRESETS } from '../train/presets';
import { modelCard, type ModelCardInput } from './modelCard';

const TOKENS: TokenizeSettings = { maxLength: 256, truncation: 'right', padding: 'longest', appendEos: true, lossOn: 'completion' };
const lora = TRAIN_PRESETS.find((p) => p.id === 'lora')!.config;

const card = (over: Partial<ModelCardInput> = {}): ModelCardInput => ({
  runName: 'Lamini docs, LoRA r8',
  baseModel: 'EleutherAI/pythia-70m',
  datasetName: 'lamini_docs.jsonl',
  trainExamples: 1260,
  testExamples: 140,
  template: { id: 'qa', custom: '' },
  tokenize: TOKENS,
  config: lora,
  metrics: { finalTrainLoss: 1.23456, evalLoss: 2.5, perplexity: Math.exp(2.5), batch: { exactMatch: 0.125, tokenF1: 0.5, rougeL: 0.4567, examples: 40 } },
  kind: 'adapter',
  ...over,
});

/** The YAML between the opening and closing "---" lines. */
function frontMatter(md: string): Record<string, unknown> {
  const m = /^---\n([\s\S]*?)\n---\n/.exec(md);
  expect(m, 'front matter at the very top').not.toBeNull();
  return parseYaml(m![1]) as Record<string, unknown>;
}

describe('modelCard', () => {
  it('front matter: peft for an adapter, with the base model and the studio tag, no license unless given', () => {
    const fm = frontMatter(modelCard(card()));
    expect(fm).toMatchObject({ library_name: 'peft', base_model: 'EleutherAI/pythia-70m', pipeline_tag: 'text-generation' });
    expect(fm.tags).toEqual(expect.arrayContaining(['neox-studio', 'lora']));
    expect('license' in fm).toBe(false);
  });

  it('front matter: transformers for a full model, and the license when given', () => {
    const fm = frontMatter(modelCard(card({ kind: 'full', config: DEFAULT_TRAIN, license: 'apache-2.0', baseModel: 'me/odd: "name" #1' })));
    expect(fm).toMatchObject({ library_name: 'transformers', base_model: 'me/odd: "name" #1', license: 'apache-2.0' });
    expect(fm.tags).toEqual(expect.arrayContaining(['neox-studio', 'full-fine-tune']));
  });

  it('lists the run’s hyperparameters in a table', () => {
    const md = modelCard(card());
    for (const row of [
      '| Method | LoRA |',
      '| LoRA rank (r) | 8 |',
      '| LoRA alpha | 16 |',
      '| LoRA dropout | 0.05 |',
      '| LoRA target modules | query_key_value, dense |',
      '| Learning rate | 0.0002 |',
      '| LR schedule | cosine (transformers name) |',
      '| Warmup steps | 3 |',
      '| Weight decay | 0.01 |',
      '| Adam betas | 0.9, 0.999 |',
      '| Adam epsilon | 1e-8 |',
      '| Max gradient norm | 1 |',
      '| Batch size | 4 |',
      '| Gradient accumulation steps | 1 |',
      '| Epochs | 1 |',
      '| Seed | 42 |',
      '| Max length (tokens) | 256 |',
    ]) {
      expect(md).toContain(row);
    }
    const full = modelCard(card({ kind: 'full', config: { ...DEFAULT_TRAIN, schedule: { kind: 'constant', warmupSteps: 0 }, optimizer: { ...DEFAULT_TRAIN.optimizer, maxGradNorm: 0 } } }));
    expect(full).toContain('| Max steps | 30 |');
    expect(full).toContain('| LR schedule | constant_with_warmup (transformers name) |');
    expect(full).toContain('| Max gradient norm | no clipping |');
    expect(full).not.toContain('LoRA rank');
  });

  it('shows the measured results, rounded', () => {
    const md = modelCard(card());
    expect(md).toContain('| Final train loss | 1.2346 |');
    expect(md).toContain('| Eval loss (test split) | 2.5000 |');
    expect(md).toContain('| Perplexity (test split) | 12.18 |');
    expect(md).toContain('| Exact match (40 test examples, greedy) | 12.5% |');
    expect(md).toContain('| ROUGE-L (40 test examples, greedy) | 45.7% |');
  });

  it('says "not measured", never undefined or NaN, when metrics are missing', () => {
    for (const metrics of [{}, { finalTrainLoss: NaN, evalLoss: null, perplexity: Infinity, batch: {} }, { batch: null }]) {
      const md = modelCard(card({ metrics }));
      expect(md).not.toMatch(/undefined|NaN|Infinity|null/);
      expect(md).toContain('| Eval loss (test split) | not measured |');
    }
  });

  it('gives the literal prompt format and a loading snippet for each kind', () => {
    const adapter = modelCard(card());
    expect(adapter).toContain('```\n### Question:\n{question}\n\n### Answer:\n```');
    expect(adapter).toContain('`<|endoftext|>`');
    expect(adapter).toContain('PeftModel.from_pretrained(base, ".")');
    expect(adapter).toContain('AutoModelForCausalLM.from_pretrained("EleutherAI/pythia-70m")');
    expect(adapter).toContain('TEMPLATE = "### Question:\\n{question}\\n\\n### Answer:"');
    expect(adapter).toContain('prompt = TEMPLATE.format(question="Your text here")');

    const full = modelCard(card({ kind: 'full', template: { id: 'alpaca', custom: '' } }));
    expect(full).not.toContain('PeftModel');
    expect(full).toContain('AutoModelForCausalLM.from_pretrained(".")');
    expect(full).toContain('With an input:');
    expect(full).toContain('### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:');
    expect(full).toContain('prompt = TEMPLATE.format(instruction="Your text here")');
  });

  it('fences a custom template that itself contains backticks so it cannot break out', () => {
    const md = modelCard(card({ template: { id: 'custom', custom: 'Code:\n```\n{code}\n```\nFix:' } }));
    expect(md).toContain('````\nCode:\n```\n{code}\n```\nFix:\n````');
    expect(md).toContain('TEMPLATE.format(**row)');
  });
});
