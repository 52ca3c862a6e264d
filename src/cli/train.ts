/**
 * `npm run cli -- train`: the studio's trainer on a data file, from the command line. One JSON
 * line per step (and per evaluation) on stdout; the result is a model folder, and for LoRA also
 * the PEFT adapter in DIR/adapter/.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import path from 'node:path';
import { whileTraining } from '../backend/backend';
import { outOfMemory } from '../backend/outOfMemory';
import { DEFAULT_SPLIT, DEFAULT_TOKENIZE } from '../data/defaults';
import { encodeSegments } from '../data/encode';
import { detectMapping, mapRows, rejectedExample } from '../data/mapping';
import { parseDataset } from '../data/parse';
import { splitIds } from '../data/split';
import { renderSegments, TEMPLATES } from '../data/templates';
import type { Segment, TemplateSpec } from '../data/types';
import { defaultLoraTargets, resolveLinear } from '../model/params';
import type { ModelConfig } from '../model/config';
import { peftAdapterFiles, runModelFolderFiles } from '../train/exportModel';
import { estimateMemory, resolveRun } from '../train/estimate';
import { DEFAULT_TRAIN, checkTrainConfig } from '../train/presets';
import { runTraining } from '../train/run';
import { Trainer } from '../train/trainer';
import { DEFAULT_DPO, type PreferenceMetrics, type TrainConfig } from '../train/types';
import { checkOut, flag, int, num, oneOf, readModelDir, readTokenizer, sourceFiles, templateSpec, UsageError, writeFiles } from './common';

export const TRAIN_USAGE = `  npm run cli -- train --model DIR --data FILE --out DIR [--method full|lora] [--template plain|qa|alpaca|llama2|model]
                      [--steps N | --epochs E] [--batch-size B] [--grad-accum A] [--lr LR] [--weight-decay W]
                      [--schedule constant|linear|cosine] [--warmup N] [--max-grad-norm G] [--max-length L]
                      [--eval-every N] [--test-fraction F] [--train-seed S] [--freeze-embeddings] [--checkpointing | --no-checkpointing]
                      [--packing | --no-packing]   (several short examples per row; default: on for --epochs runs where it computes 1.25× fewer tokens)
                      [--objective sft|dpo] [--beta B] [--label-smoothing E]   (dpo: preference pairs, prompt / chosen / rejected)
                      [--lora-rank R] [--lora-alpha A] [--lora-dropout D] [--rslora] [--loraplus-ratio R] [--neftune-alpha A] [--lora-targets q_proj,v_proj,… (the model's linears; default PEFT's for the family)]
                      [--dtype float32|float16]   (how model.safetensors stores the weights; default float32)
                      [--force]   (write into a non-empty --out, or start a run the estimate says will not fit)`;

/** Flags that take no value: present means on. */
export const TRAIN_SWITCHES = ['freeze-embeddings', 'checkpointing', 'no-checkpointing', 'packing', 'no-packing', 'rslora', 'force'];

export const TRAIN_OPTIONS = [
  'data', 'method', 'template', 'steps', 'epochs', 'batch-size', 'grad-accum', 'lr', 'weight-decay', 'schedule', 'warmup',
  'max-grad-norm', 'max-length', 'eval-every', 'test-fraction', 'train-seed', 'freeze-embeddings', 'checkpointing', 'no-checkpointing', 'packing', 'no-packing', 'lora-rank', 'lora-alpha',
  'lora-dropout', 'lora-targets', 'rslora', 'loraplus-ratio', 'neftune-alpha', 'objective', 'beta', 'label-smoothing', 'dtype', 'force',
];

/** --lora-targets as the model's block linears (short or full module names); absent: PEFT's default for the family. */
function loraTargets(v: Record<string, string | undefined>, model: ModelConfig): string[] {
  if (v['lora-targets'] === undefined) return defaultLoraTargets(model);
  return v['lora-targets'].split(',').map((t) => {
    try {
      return resolveLinear(model, t);
    } catch (e) {
      throw new UsageError(`--lora-targets: ${(e as Error).message}`);
    }
  });
}

/** The run's config from the flags; LoRA's targets come from the model (loraTargets), once it is read. */
function configFrom(v: Record<string, string | undefined>): TrainConfig {
  const d = DEFAULT_TRAIN;
  const method = oneOf(v.method, '--method', ['full', 'lora'] as const, 'full');
  const targets = d.lora.targets;
  if (flag(v.checkpointing) && flag(v['no-checkpointing'])) throw new UsageError('--checkpointing and --no-checkpointing: give one of them, or neither (the estimate decides)');
  if (flag(v.packing) && flag(v['no-packing'])) throw new UsageError('--packing and --no-packing: give one of them, or neither (on where it computes far fewer tokens)');
  const objective = oneOf(v.objective, '--objective', ['sft', 'dpo'] as const, 'sft');
  if (objective !== 'dpo' && (v.beta !== undefined || v['label-smoothing'] !== undefined)) throw new UsageError('--beta and --label-smoothing are DPO settings: add --objective dpo');
  const c: TrainConfig = {
    ...d,
    method,
    ...(objective === 'dpo' ? { objective, dpo: { beta: num(v.beta, '--beta', DEFAULT_DPO.beta), labelSmoothing: num(v['label-smoothing'], '--label-smoothing', DEFAULT_DPO.labelSmoothing) } } : {}),
    freezeEmbeddings: flag(v['freeze-embeddings']),
    // Neither switch: left to the estimate (resolveCheckpointing), as in the studio.
    ...(flag(v.checkpointing) ? { activationCheckpointing: true } : flag(v['no-checkpointing']) ? { activationCheckpointing: false } : {}),
    ...(flag(v.packing) ? { packing: true } : flag(v['no-packing']) ? { packing: false } : {}),
    lora: { rank: int(v['lora-rank'], '--lora-rank', 8), alpha: num(v['lora-alpha'], '--lora-alpha', 16), dropout: num(v['lora-dropout'], '--lora-dropout', 0), targets, ...(flag(v.rslora) ? { rslora: true } : {}), ...(v['loraplus-ratio'] !== undefined ? { plusRatio: num(v['loraplus-ratio'], '--loraplus-ratio', 1) } : {}) },
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
    ...(v['neftune-alpha'] !== undefined ? { neftuneAlpha: num(v['neftune-alpha'], '--neftune-alpha', 0) } : {}),
    sampleEvery: 0,
    checkpointEvery: 0,
  };
  const errors = Object.entries(checkTrainConfig(c));
  if (errors.length) throw new UsageError(errors.map(([k, m]) => `${k}: ${m}`).join('; '));
  return c;
}

/** The data file through the same pipeline as the Data tab: parse, detect the mapping, template, split (preference pairs: both answers). */
async function readData(file: string | undefined, template: TemplateSpec, testFraction: number): Promise<{ train: Segment[][]; test: Segment[][]; rejected?: { train: Segment[][]; test: Segment[][] } }> {
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
  const rendered = new Map(usable.map((i) => [i, renderSegments(examples[i]!, template, mapping.kind)]));
  const { train, test } = splitIds(usable, { ...DEFAULT_SPLIT, testFraction });
  const out = { train: train.map((i) => rendered.get(i)!), test: test.map((i) => rendered.get(i)!) };
  if (mapping.kind !== 'preference') return out;
  const rejected = (ids: number[]) => ids.map((i) => renderSegments(rejectedExample(examples[i]!), template, mapping.kind));
  return { ...out, rejected: { train: rejected(train), test: rejected(test) } };
}

const print = (o: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(o)}\n`);
const round = (x: number, d = 5) => Number(x.toPrecision(d));

export async function trainCmd(v: Record<string, string | undefined>): Promise<void> {
  if (!v.out) throw new UsageError('--out DIR is required (where the trained model folder goes)');
  const asked = configFrom(v);
  const template = oneOf(v.template, '--template', TEMPLATES.map((t) => t.id).filter((t) => t !== 'custom'), 'qa');
  const maxLength = int(v['max-length'], '--max-length', DEFAULT_TOKENIZE.maxLength);
  const dtype = oneOf(v.dtype, '--dtype', ['float32', 'float16'] as const, 'float32');
  const out = checkOut(v.out, v.model, flag(v.force)); // after the flags, so a mistyped flag is named first
  const model = readModelDir(v.model);
  asked.lora.targets = loraTargets(v, model.config);
  const tokenizer = readTokenizer(v.model!, model.config.vocabSize);
  const data = await readData(v.data, templateSpec(template, v.model!), num(v['test-fraction'], '--test-fraction', DEFAULT_SPLIT.testFraction));
  // A chat template ends each turn with the model's own end token: no end-of-text is appended (as in the studio).
  const tokenize = { ...DEFAULT_TOKENIZE, maxLength, appendEos: template !== 'model' };
  const encode = (items: Segment[][]) => items.map((s) => encodeSegments(s, tokenizer, tokenize));
  if (asked.objective === 'dpo' && !data.rejected) throw new Error(`${v.data}: DPO trains on preference pairs: give a file with prompt / chosen / rejected fields, or train with --objective sft`);
  const rejected = data.rejected && { train: encode(data.rejected.train), test: encode(data.rejected.test) };
  const splits = { train: encode(data.train), test: encode(data.test), maxLength, padId: tokenizer.eosTokenId, ...(rejected ? { rejected } : {}) };
  // The estimate first, as the Train tab shows it; a run it says will not fit starts only with --force.
  const longest = [...splits.train, ...splits.test, ...(rejected ? [...rejected.train, ...rejected.test] : [])].reduce((n, e) => Math.max(n, e.ids.length), 0);
  const backend = { name: tf.getBackend() as 'wasm' | 'cpu' | 'webgpu' };
  // Packing and checkpointing as the studio's Train tab decides them.
  const { train: config, seqLen, autoCheckpointing: auto, packing } = resolveRun(model.config, asked, { trainLengths: splits.train.map((e) => e.ids.length), longest, tokenize }, backend);
  const estimate = estimateMemory(model.config, config, seqLen, backend);
  print({
    estimate_bytes: Math.round(estimate.total),
    estimate_verdict: estimate.verdict,
    estimate_reason: estimate.reason,
    activation_checkpointing: config.activationCheckpointing === true,
    ...(auto ? { checkpointing_auto: true } : {}),
    packing: config.packing === true,
    ...(config.packing ? { packed_rows: packing.packedRows, packing_gain: round(packing.gain, 3) } : {}),
  });
  if (estimate.verdict === 'wont-fit' && !flag(v.force)) {
    throw new Error(`the estimate says this run will not fit (${estimate.reason})${estimate.advice.length ? `: ${estimate.advice[0]}` : ''}; or add --force to try anyway`);
  }
  const trainer = new Trainer(model, splits, config);
  try {
    await whileTraining(() =>
      runTraining(trainer, {
        onStep: (m) => print({ step: m.step, loss: round(m.loss), lr: round(m.lr, 4), grad_norm: round(m.gradNorm, 4), epoch: round(m.epoch, 3), tokens_per_s: round(m.tokensPerSecond, 4), ...preferenceFields(m.preference) }),
        onEval: (m) => print({ step: m.step, eval_loss: round(m.loss), perplexity: round(m.perplexity), ...preferenceFields(m.preference, 'eval_') }),
      }),
    ).catch((e: unknown) => {
      // Out of memory: the advice names only the switches this run has not used.
      throw outOfMemory(e, backend.name, 'cli', { method: config.method, checkpointing: config.activationCheckpointing === true }) ?? e;
    });
    const ctx = trainer.context();
    const dir = out;
    const lora = config.method === 'lora' ? config.lora : null;
    const files = await runModelFolderFiles(model.config, ctx.params, lora, sourceFiles(v.model!), { dtype });
    if (lora) {
      for (const f of await peftAdapterFiles(trainer.trainedTensors(), lora, path.basename(path.resolve(v.model!)))) files.push({ name: `adapter/${f.name}`, bytes: f.bytes });
    }
    writeFiles(dir, files);
  } finally {
    trainer.dispose();
  }
}

/** A DPO step's or evaluation's rewards, margin and accuracy, as JSON fields. */
function preferenceFields(p: PreferenceMetrics | undefined, prefix = ''): Record<string, number> {
  if (!p) return {};
  return { [`${prefix}chosen_reward`]: round(p.chosenReward), [`${prefix}rejected_reward`]: round(p.rejectedReward), [`${prefix}margin`]: round(p.margin), [`${prefix}accuracy`]: round(p.accuracy, 3) };
}
