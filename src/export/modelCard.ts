/**
 * A Hugging Face model card (README.md) for an exported run: YAML front matter the Hub reads
 * (library, base model, tags), then what the model was trained on, the literal prompt format, the
 * hyperparameters, the measured results and how to load it.
 *
 * Missing metrics say "not measured" rather than printing a guess, 0, undefined or NaN.
 */
import type { ModelType } from '../model/config';
import type { TemplateSpec, TokenizeSettings } from '../data/types';
import { DEFAULT_DPO, type TrainConfig } from '../train/types';
import { peftTargetModules } from '../train/lora';
import { EOS_TOKEN, HF_SCHEDULER, fenced, promptFormat, yamlString } from './format';

export interface CardMetrics {
  finalTrainLoss?: number | null;
  evalLoss?: number | null;
  perplexity?: number | null;
  /** Batch evaluation on the test split: means in [0, 1]. */
  batch?: { exactMatch?: number | null; tokenF1?: number | null; rougeL?: number | null; examples?: number | null } | null;
}

export interface ModelCardInput {
  runName: string;
  /** Hugging Face repo id of the base model. */
  baseModel: string;
  datasetName: string;
  trainExamples: number;
  testExamples: number;
  template: TemplateSpec;
  tokenize: TokenizeSettings;
  config: TrainConfig;
  metrics: CardMetrics;
  /** 'full': a whole model folder (transformers); 'adapter': a PEFT LoRA adapter. */
  kind: 'full' | 'adapter';
  /** An SPDX id or Hub license name; omitted from the front matter when not given. */
  license?: string;
  /** The base model's family (config.json's model_type), a Hub tag; GPT-NeoX when not given. */
  modelType?: ModelType;
}

const finite = (v: number | null | undefined): v is number => typeof v === 'number' && Number.isFinite(v);
const NOT_MEASURED = 'not measured';
const fixed = (v: number | null | undefined, digits: number) => (finite(v) ? v.toFixed(digits) : NOT_MEASURED);
const percent = (v: number | null | undefined) => (finite(v) ? `${(v * 100).toFixed(1)}%` : NOT_MEASURED);
/** A table cell: pipes and line breaks would end the cell or the row. */
const cell = (s: string | number) => String(s).replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
const table = (head: [string, string], rows: [string, string | number][]) =>
  [`| ${head[0]} | ${head[1]} |`, '|---|---|', ...rows.map(([k, v]) => `| ${cell(k)} | ${cell(v)} |`)].join('\n');

function frontMatter(x: ModelCardInput): string {
  const adapter = x.kind === 'adapter';
  const tags = ['neox-studio', x.modelType ?? 'gpt_neox', adapter ? 'lora' : 'full-fine-tune', 'text-generation'];
  return [
    '---',
    `library_name: ${adapter ? 'peft' : 'transformers'}`,
    `base_model: ${yamlString(x.baseModel)}`,
    'pipeline_tag: text-generation',
    'tags:',
    ...tags.map((t) => `- ${yamlString(t)}`),
    ...(x.license ? [`license: ${yamlString(x.license)}`] : []),
    '---',
  ].join('\n');
}

function hyperparameters(x: ModelCardInput): [string, string | number][] {
  const c = x.config;
  const t = x.tokenize;
  const rows: [string, string | number][] = [['Method', c.method === 'lora' ? 'LoRA' : 'full fine-tune']];
  if (c.objective === 'dpo') {
    const d = c.dpo ?? DEFAULT_DPO;
    rows.push(['Objective', `DPO (sigmoid loss) on preference pairs against the base model, beta ${d.beta}${d.labelSmoothing > 0 ? `, label smoothing ${d.labelSmoothing}` : ''}`]);
  }
  if ((c.neftuneAlpha ?? 0) > 0) rows.push(['NEFTune noise alpha', c.neftuneAlpha!]);
  if (c.method === 'lora') {
    rows.push(
      ['LoRA rank (r)', c.lora.rank],
      ['LoRA alpha', c.lora.rslora ? `${c.lora.alpha} (rsLoRA: scaled by alpha/√r)` : c.lora.alpha],
      ['LoRA dropout', c.lora.dropout],
      ...((c.lora.plusRatio ?? 1) !== 1 ? [['LoRA+ ratio (B\'s learning rate over A\'s)', c.lora.plusRatio!] as [string, number]] : []),
      ['LoRA target modules', peftTargetModules(c.lora).join(', ')],
    );
  } else {
    rows.push(['Input embedding', c.freezeEmbeddings ? 'frozen' : 'trained']);
  }
  rows.push(
    ['Optimizer', 'AdamW (torch), weight decay on matrices only'],
    ['Learning rate', c.optimizer.lr],
    ['LR schedule', `${HF_SCHEDULER[c.schedule.kind]} (transformers name)`],
    ['Warmup steps', c.schedule.warmupSteps],
    ['Weight decay', c.optimizer.weightDecay],
    ['Adam betas', `${c.optimizer.beta1}, ${c.optimizer.beta2}`],
    ['Adam epsilon', c.optimizer.eps],
    ['Max gradient norm', c.optimizer.maxGradNorm > 0 ? c.optimizer.maxGradNorm : 'no clipping'],
    ['Batch size', c.batchSize],
    ['Gradient accumulation steps', c.gradAccum],
    c.maxSteps > 0 ? ['Max steps', c.maxSteps] : ['Epochs', c.epochs],
    ['Seed', c.seed],
    ['Max length (tokens)', t.maxLength],
    ['Truncation', t.truncation === 'left' ? 'left (keeps the end)' : 'right (keeps the start)'],
    ['Loss on', t.lossOn === 'all' ? 'every token' : 'the answers only'],
    ['End-of-text appended', t.appendEos ? 'yes' : 'no'],
    ['Precision', 'float32'],
  );
  return rows;
}

function results(m: CardMetrics): [string, string][] {
  const rows: [string, string][] = [
    ['Final train loss', fixed(m.finalTrainLoss, 4)],
    ['Eval loss (test split)', fixed(m.evalLoss, 4)],
    ['Perplexity (test split)', fixed(m.perplexity, 2)],
  ];
  const b = m.batch;
  if (b) {
    const on = finite(b.examples) ? ` (${b.examples} test examples, greedy)` : ' (greedy)';
    rows.push([`Exact match${on}`, percent(b.exactMatch)], [`Token F1${on}`, percent(b.tokenF1)], [`ROUGE-L${on}`, percent(b.rougeL)]);
  }
  return rows;
}

/** A Python string literal: JSON's escapes are all valid in Python 3, and non-ASCII stays as is. */
const py = (s: string) => JSON.stringify(s);

function usage(x: ModelCardInput): string {
  const fmt = promptFormat(x.template);
  const prompt = fmt.prompts[fmt.prompts.length - 1].text; // Alpaca: the form without an input
  const placeholder = /\{(\w+)\}/.exec(prompt)?.[1];
  const fill =
    x.template.id === 'custom'
      ? 'prompt = TEMPLATE.format(**row)  # row: a dict with the fields the template names; {{ }} are literal braces'
      : placeholder
        ? `prompt = TEMPLATE.format(${placeholder}=${py('Your text here')})`
        : 'prompt = TEMPLATE';
  const load =
    x.kind === 'adapter'
      ? [
          'from peft import PeftModel',
          'from transformers import AutoModelForCausalLM, AutoTokenizer',
          '',
          `base = AutoModelForCausalLM.from_pretrained(${py(x.baseModel)})`,
          'model = PeftModel.from_pretrained(base, ".")  # this folder, or its Hub repo id',
          `tokenizer = AutoTokenizer.from_pretrained(${py(x.baseModel)})`,
        ]
      : [
          'from transformers import AutoModelForCausalLM, AutoTokenizer',
          '',
          'model = AutoModelForCausalLM.from_pretrained(".")  # this folder, or its Hub repo id',
          'tokenizer = AutoTokenizer.from_pretrained(".")',
        ];
  return fenced(
    [
      ...load,
      '',
      `TEMPLATE = ${py(prompt)}`,
      fill,
      'inputs = tokenizer(prompt, return_tensors="pt")',
      'out = model.generate(**inputs, max_new_tokens=128, do_sample=False, eos_token_id=tokenizer.eos_token_id)',
      'print(tokenizer.decode(out[0][inputs["input_ids"].shape[1]:], skip_special_tokens=True))',
    ].join('\n'),
    'python',
  );
}

export function modelCard(x: ModelCardInput): string {
  const fmt = promptFormat(x.template);
  const adapter = x.kind === 'adapter';
  const prompts = fmt.prompts.map((p) => `${p.when ? `${p.when[0].toUpperCase()}${p.when.slice(1)}:\n\n` : ''}${fenced(p.text)}`).join('\n\n');
  const after = `${fmt.answerPrefix ? 'A space, then the answer' : 'The answer follows directly'}${x.tokenize.appendEos ? `, then the end-of-text token \`${EOS_TOKEN}\`` : ''}.`;
  return `${frontMatter(x)}

# ${x.runName}

${adapter ? 'A LoRA adapter (PEFT) for' : 'A fine-tune of'} [\`${x.baseModel}\`](https://huggingface.co/${x.baseModel}), trained in the
browser with NeoX Studio${adapter ? '. Load it on top of the base model (below)' : ''}.

## Training data

${cell(x.datasetName)}: ${x.trainExamples} training examples, ${x.testExamples} held out for testing.
The loss was on ${x.tokenize.lossOn === 'all' ? 'every token' : 'the answers only (prompts masked)'}, examples at most
${x.tokenize.maxLength} tokens.

## Prompt format (${fmt.label})

${prompts}

${after} Prompt the model the same way.

## Training hyperparameters

${table(['Setting', 'Value'], hyperparameters(x))}

## Results

${table(['Metric', 'Value'], results(x.metrics))}

## How to use

${usage(x)}
`;
}
