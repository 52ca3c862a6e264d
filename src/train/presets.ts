/**
 * Starting points for a run. "Course default" is the course's own trainer setup for Pythia-70m
 * on the Lamini docs (learning rate 1e-5, batch 1 with 4 accumulation steps, 3 steps, 1 warmup
 * step, linear decay); the others trade speed for how much the model moves.
 */
import type { TrainConfig } from './types';

export const DEFAULT_TRAIN: TrainConfig = {
  method: 'full',
  freezeEmbeddings: false,
  lora: { rank: 8, alpha: 16, dropout: 0.05, targets: ['attention.query_key_value'] },
  optimizer: { lr: 1e-4, weightDecay: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, maxGradNorm: 1 },
  schedule: { kind: 'cosine', warmupSteps: 3 },
  batchSize: 4,
  gradAccum: 1,
  epochs: 1,
  maxSteps: 30,
  seed: 42,
  evalEvery: 10,
  sampleEvery: 10,
  checkpointEvery: 10,
  earlyStopPatience: 0,
  samplePrompt: '',
  sampleMaxTokens: 48,
};

export interface TrainPreset {
  id: string;
  label: string;
  description: string;
  config: TrainConfig;
}

export const TRAIN_PRESETS: TrainPreset[] = [
  {
    id: 'quick',
    label: 'Quick look',
    description: '30 steps of 4 examples: a minute or two on a small model, enough to see the loss fall and the answers change.',
    config: DEFAULT_TRAIN,
  },
  {
    id: 'course',
    label: 'Course default',
    description: 'The course’s setup: learning rate 1e-5, batch 1 with 4 accumulation steps, 3 steps, 1 warmup step, linear decay.',
    config: {
      ...DEFAULT_TRAIN,
      optimizer: { ...DEFAULT_TRAIN.optimizer, lr: 1e-5, weightDecay: 0 },
      schedule: { kind: 'linear', warmupSteps: 1 },
      batchSize: 1,
      gradAccum: 4,
      maxSteps: 3,
      evalEvery: 1,
      sampleEvery: 1,
      checkpointEvery: 1,
    },
  },
  {
    id: 'lora',
    label: 'LoRA, one epoch',
    description: 'Low-rank adapters (rank 8) on the attention: a few MB to save instead of the whole model, and a faster step.',
    config: {
      ...DEFAULT_TRAIN,
      method: 'lora',
      lora: { rank: 8, alpha: 16, dropout: 0.05, targets: ['attention.query_key_value', 'attention.dense'] },
      optimizer: { ...DEFAULT_TRAIN.optimizer, lr: 2e-4 },
      maxSteps: 0,
      epochs: 1,
      evalEvery: 25,
      sampleEvery: 25,
      checkpointEvery: 25,
    },
  },
];

/** Why a config cannot run, field by field (the panel shows each next to its input). */
export function checkTrainConfig(c: TrainConfig): Partial<Record<string, string>> {
  const errors: Partial<Record<string, string>> = {};
  const whole = (v: number, min: number) => Number.isInteger(v) && v >= min;
  if (!(c.optimizer.lr > 0 && c.optimizer.lr < 1)) errors.lr = 'A learning rate between 0 and 1, e.g. 1e-4.';
  if (!(c.optimizer.weightDecay >= 0)) errors.weightDecay = 'Weight decay is 0 or more.';
  if (!(c.optimizer.maxGradNorm >= 0)) errors.maxGradNorm = 'Clip norm is 0 (off) or more.';
  if (!whole(c.batchSize, 1)) errors.batchSize = 'A whole number of examples, 1 or more.';
  if (!whole(c.gradAccum, 1)) errors.gradAccum = 'A whole number of micro-batches, 1 or more.';
  if (!whole(c.epochs, 1)) errors.epochs = 'A whole number of epochs, 1 or more.';
  if (!whole(c.maxSteps, 0)) errors.maxSteps = 'A whole number of steps (0 = as many as the epochs take).';
  if (!whole(c.schedule.warmupSteps, 0)) errors.warmupSteps = 'A whole number of steps, 0 or more.';
  if (!whole(c.seed, 0)) errors.seed = 'A whole number, 0 or more.';
  for (const k of ['evalEvery', 'sampleEvery', 'checkpointEvery', 'earlyStopPatience'] as const) if (!whole(c[k], 0)) errors[k] = 'A whole number of steps (0 = never).';
  if (!whole(c.sampleMaxTokens, 1)) errors.sampleMaxTokens = 'A whole number of tokens, 1 or more.';
  if (c.method === 'lora') {
    if (!whole(c.lora.rank, 1) || c.lora.rank > 256) errors.loraRank = 'A whole number from 1 to 256.';
    if (!(c.lora.alpha > 0)) errors.loraAlpha = 'Alpha is more than 0 (the adapter is scaled by alpha / rank).';
    if (!(c.lora.dropout >= 0 && c.lora.dropout < 1)) errors.loraDropout = 'Dropout from 0 up to (not including) 1.';
    if (c.lora.targets.length === 0) errors.loraTargets = 'Pick at least one layer to adapt.';
  }
  return errors;
}
