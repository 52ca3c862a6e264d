/**
 * `npm run cli -- train`: the studio's trainer on a data file, from the command line. One JSON
 * line per step (and per evaluation) on stdout; the result is a model folder, and for LoRA also
 * the PEFT adapter in DIR/adapter/.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_SPLIT, DEFAULT_TOKENIZE } from '../data/defaults';
import { encodeSegments } from '../data/encode';
import { detectMapping, mapRows } from '../data/mapping';
import { parseDataset } from '../data/parse';
import { splitIds } from '../data/split';
import { renderSegments, TEMPLATES } from '../data/templates';
import type { Segment, TemplateId } from '../data/types';
import { BLOCK_LINEARS, type BlockLinear } from '../model/params';
import { peftAdapterFiles, runModelFolderFiles, type OutFile } from '../train/exportModel';
import { DEFAULT_TRAIN, checkTrainConfig } from '../train/presets';
import { runTraining } from '../train/run';
import { Trainer } from '../train/trainer';
import type { TrainConfig } from '../train/types';
import { int, num, readModelDir, readTokenizer, UsageError } from './common';

export const TRAIN_USAGE = `  npm run cli -- train --model DIR --data FILE --out DIR [--method full|lora] [--template plain|qa|alpaca|llama2]
                      [--steps N | --epochs E] [--batch-size B] [--grad-accum A] [--lr LR] [--weight-decay W]
                      [--schedule constant|linear|cosine] [--warmup N] [--max-grad-norm G] [--max-length L]
                      [--eval-every N] [--test-fraction F] [--train-seed S] [--freeze-embeddings] [--checkpointing]
                      [--lora-rank R] [--lora-alpha A] [--lora-dropout D] [--lora-targets query_key_value,dense,…]
                      [--dtype float32|float16]   (how model.safetensors stores the weights; default float32)`;

/** Flags that take no value: present means on. */
export const TRAIN_SWITCHES = ['freeze-embeddings', 'checkpointing'];

export const TRAIN_OPTIONS = [
  'data', 'method', 'template', 'steps', 'epochs', 'batch-size', 'grad-accum', 'lr', 'weight-decay', 'schedule', 'warmup',
  'max-grad-norm', 'max-length', 'eval-every', 'test-fraction', 'train-seed', 'freeze-embeddings', 'checkpointing', 'lora-rank', 'lora-alpha',
  'lora-dropout', 'lora-targets', 'dtype',
];

function oneOf<T extends string>(value: string | undefined, flag: string, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!allowed.includes(value as T)) throw new UsageError(`${flag} must be one of ${allowed.join(', ')}, got "${value}"`);
  return value as T;
}

const flag = (value: string | undefined): boolean => value !== undefined;

function configFrom(v: Record<string, string | undefined>): TrainConfig {
  const d = DEFAULT_TRAIN;
  const method = oneOf(v.method, '--method', ['full', 'lora'] as const, 'full');
  const targets = (v['lora-targets'] ?? 'query_key_value').split(',').map((t) => {
    const full = BLOCK_LINEARS.find((b) => b === t.trim() || b.endsWith(`.${t.trim()}`));
    if (!full) throw new UsageError(`--lora-targets: "${t}" is not one of query_key_value, dense, dense_h_to_4h, dense_4h_to_h`);
    return full as BlockLinear;
  });
  const c: TrainConfig = {
    ...d,
    method,
    freezeEmbeddings: flag(v['freeze-embeddings']),
    activationCheckpointing: flag(v.checkpointing),
    lora: { rank: int(v['lora-rank'], '--lora-rank', 8), alpha: num(v['lora-alpha'], '--lora-alpha', 16), dropout: num(v['lora-dropout'], '--lora-dropout', 0), targets },
    optimizer: {
      ...d.optimizer,
      lr: num(v.lr, '--lr', method === 'lora' ? 2e-4 : d.optimizer.lr),
      weightDecay: num(v['weight-decay'], '--weight-decay', d.optimizer.weightDecay),
      maxGradNorm: num(v['max-grad-norm'], '--max-grad-norm', d.optimizer.maxGradNorm),
    },
    schedule: { kind: oneOf(v.schedule, '--schedule', ['constant', 'linear', 'cosine'] as const, d.schedule.kind), warmupSteps: int(v.warmup, '--warmup', d.schedule.warmupSteps) },
    batchSize: int(v['batch-size'], '--batch-size', d.batchSize),
    gradAccum: int(v['grad-accum'], '--grad-accum', d.gradAccum),
    epochs: int(v.epochs, '--epochs', 1),
    maxSteps: v.steps !== undefined ? int(v.steps, '--steps', 0) : v.epochs !== undefined ? 0 : d.maxSteps,
    seed: int(v['train-seed'], '--train-seed', d.seed),
    evalEvery: int(v['eval-every'], '--eval-every', d.evalEvery),
    sampleEvery: 0,
    checkpointEvery: 0,
  };
  const errors = Object.entries(checkTrainConfig(c));
  if (errors.length) throw new UsageError(errors.map(([k, m]) => `${k}: ${m}`).join('; '));
  return c;
}

/** The data file through the same pipeline as the Data tab: parse, detect the mapping, template, split. */
async function readData(file: string | undefined, template: TemplateId, testFraction: number): Promise<{ train: Segment[][]; test: Segment[][] }> {
  if (!file) throw new UsageError('--data FILE is required (JSONL, JSON, CSV or text)');
  if (!existsSync(file)) throw new Error(`data file ${file} does not exist`);
  const parsed = await parseDataset(new Blob([readFileSync(file)]), { name: path.basename(file) });
  if (parsed.issues.length) {
    const first = parsed.issues[0];
    process.stderr.write(`warning: ${parsed.issues.length} bad line(s) skipped, the first at line ${first.line}: ${first.message}\n`);
  }
  const mapping = detectMapping(parsed.rows);
  if (!mapping) throw new Error(`${file}: no known fields (question/answer, instruction/output, prompt/completion, input/output, text, messages): rename the fields`);
  const { examples, issues } = mapRows(parsed.rows, mapping);
  if (issues.length) process.stderr.write(`warning: ${issues.length} row(s) skipped, e.g. row ${issues[0].row + 1}: ${issues[0].message}\n`);
  const usable = examples.flatMap((e, i) => (e ? [i] : []));
  const rendered = new Map(usable.map((i) => [i, renderSegments(examples[i]!, { id: template, custom: '' }, mapping.kind)]));
  const { train, test } = splitIds(usable, { ...DEFAULT_SPLIT, testFraction });
  return { train: train.map((i) => rendered.get(i)!), test: test.map((i) => rendered.get(i)!) };
}

const print = (o: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(o)}\n`);
const round = (x: number, d = 5) => Number(x.toPrecision(d));

export async function trainCmd(v: Record<string, string | undefined>): Promise<void> {
  if (!v.out) throw new UsageError('--out DIR is required (where the trained model folder goes)');
  const config = configFrom(v);
  const template = oneOf(v.template, '--template', TEMPLATES.map((t) => t.id).filter((t) => t !== 'custom'), 'qa');
  const maxLength = int(v['max-length'], '--max-length', DEFAULT_TOKENIZE.maxLength);
  const dtype = oneOf(v.dtype, '--dtype', ['float32', 'float16'] as const, 'float32');
  const model = readModelDir(v.model);
  const tokenizer = readTokenizer(v.model!);
  const data = await readData(v.data, template, num(v['test-fraction'], '--test-fraction', DEFAULT_SPLIT.testFraction));
  const tokenize = { ...DEFAULT_TOKENIZE, maxLength };
  const encode = (items: Segment[][]) => items.map((s) => encodeSegments(s, tokenizer, tokenize));
  const trainer = new Trainer(model, { train: encode(data.train), test: encode(data.test), maxLength, padId: tokenizer.eosTokenId }, config);
  try {
    await runTraining(trainer, {
      onStep: (m) => print({ step: m.step, loss: round(m.loss), lr: round(m.lr, 4), grad_norm: round(m.gradNorm, 4), epoch: round(m.epoch, 3), tokens_per_s: round(m.tokensPerSecond, 4) }),
      onEval: (m) => print({ step: m.step, eval_loss: round(m.loss), perplexity: round(m.perplexity) }),
    });
    const ctx = trainer.context();
    const dir = v.out;
    const tokenizerFiles: OutFile[] = ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json']
      .filter((n) => existsSync(path.join(v.model!, n)))
      .map((name) => ({ name, bytes: readFileSync(path.join(v.model!, name)) }));
    const lora = config.method === 'lora' ? config.lora : null;
    const files = await runModelFolderFiles(model.config, ctx.params, lora, tokenizerFiles, { dtype });
    if (lora) {
      for (const f of await peftAdapterFiles(trainer.trainedTensors(), lora, path.basename(path.resolve(v.model!)))) files.push({ name: `adapter/${f.name}`, bytes: f.bytes });
    }
    mkdirSync(config.method === 'lora' ? path.join(dir, 'adapter') : dir, { recursive: true });
    for (const f of files) writeFileSync(path.join(dir, f.name), f.bytes);
  } finally {
    trainer.dispose();
  }
}
