/**
 * Starting points for a run. "Course default" is the course's own trainer setup for Pythia-70m
 * on the Lamini docs (learning rate 1e-5, batch 1 with 4 accumulation steps, 3 steps, 1 warmup
 * step, linear decay); the others trade speed for how much the model moves.
 */
import type { TrainConfig } from './types';

/**
 * Every run setting, its default and what it means, in one place (as nanoGPT's train.py opens):
 * the Train tab's panels explain them at more length, the presets below start from these.
 */
export const DEFAULT_TRAIN: TrainConfig = {
  // What learns
  method: 'full', // 'full': every weight (AdamW keeps two more copies of each); 'lora': small adapters beside frozen weights
  freezeEmbeddings: false, // full only: keep embed_in as it is (about a third of Pythia-70m's parameters)
  lora: { rank: 8, alpha: 16, dropout: 0.05, targets: ['attention.query_key_value'] }, // PEFT's names and defaults; scale = alpha / rank
  // Optimizer: torch.optim.AdamW, decay on matrices only, gradients clipped to a global norm (0 = off)
  optimizer: { lr: 1e-4, weightDecay: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, maxGradNorm: 1 },
  schedule: { kind: 'cosine', warmupSteps: 3 }, // constant | linear | cosine, after a linear warmup from 0
  // How much data per step, and how many steps
  batchSize: 4, // examples per forward pass
  gradAccum: 1, // forward passes summed into one optimizer step: effective batch = batchSize × gradAccum
  epochs: 1, // passes over the train split, when maxSteps is 0
  maxSteps: 30, // stop after this many optimizer steps (0 = as many as the epochs take)
  seed: 42, // data order, LoRA initialisation and dropout: the same seed and settings give the same run
  // What happens along the way (every N steps; 0 = never)
  evalEvery: 10, // mean loss on the test split
  sampleEvery: 10, // a greedy answer to the sample prompt
  checkpointEvery: 10, // weights, optimizer state and data position saved in the browser (always at the end too)
  earlyStopPatience: 0, // stop when the eval loss has not improved for this many evals (0 = off)
  samplePrompt: '', // empty: the first test example's prompt
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
  const neftune = c.neftuneAlpha ?? 0;
  if (!(neftune >= 0 && neftune <= 100)) errors.neftuneAlpha = 'From 0 (off) to 100; its paper uses 5 to 15.';
  if (c.objective === 'dpo' && c.dpo) {
    if (!(c.dpo.beta > 0 && c.dpo.beta <= 10)) errors.dpoBeta = 'More than 0 (up to 10); 0.1 is usual.';
    if (!(c.dpo.labelSmoothing >= 0 && c.dpo.labelSmoothing < 0.5)) errors.dpoLabelSmoothing = 'From 0 (off) up to (not including) 0.5.';
  }
  if (c.method === 'lora') {
    if (!whole(c.lora.rank, 1) || c.lora.rank > 256) errors.loraRank = 'A whole number from 1 to 256.';
    if (!(c.lora.alpha > 0)) errors.loraAlpha = 'Alpha is more than 0 (the adapter is scaled by alpha / rank).';
    if (!(c.lora.dropout >= 0 && c.lora.dropout < 1)) errors.loraDropout = 'Dropout from 0 up to (not including) 1.';
    const plus = c.lora.plusRatio ?? 1;
    if (!(plus >= 1 && plus <= 1024)) errors.loraPlusRatio = 'From 1 (off) to 1024; the LoRA+ paper uses 16.';
    if (c.lora.targets.length === 0) errors.loraTargets = 'Pick at least one layer to adapt.';
  }
  return errors;
}
