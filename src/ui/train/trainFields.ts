/**
 * The Train tab's numeric settings as data: where each lives in TrainConfig, how it is labelled
 * and explained, and which checkTrainConfig message belongs to it. Text is checked against the
 * whole config (a value is valid or not in context, e.g. LoRA fields only count for LoRA).
 */
import { checkTrainConfig, DEFAULT_DPO, type TrainConfig } from '../../state/trainOptions';

export type NumberKey =
  | 'lr'
  | 'weightDecay'
  | 'maxGradNorm'
  | 'warmupSteps'
  | 'batchSize'
  | 'gradAccum'
  | 'epochs'
  | 'maxSteps'
  | 'seed'
  | 'evalEvery'
  | 'sampleEvery'
  | 'checkpointEvery'
  | 'earlyStopPatience'
  | 'sampleMaxTokens'
  | 'loraRank'
  | 'loraAlpha'
  | 'loraDropout'
  | 'loraPlusRatio'
  | 'neftuneAlpha'
  | 'dpoBeta'
  | 'dpoLabelSmoothing';

export interface NumberFieldSpec {
  key: NumberKey;
  label: string;
  hint: string;
  testId: string;
  /** Whole numbers get the numeric keyboard; the rest the decimal one (which takes 1e-4 too). */
  whole: boolean;
  get: (c: TrainConfig) => number;
  /** The patch that sets this field, for setDraft (which merges one level deep). */
  set: (c: TrainConfig, v: number) => Partial<TrainConfig>;
}

const top = <K extends 'batchSize' | 'gradAccum' | 'epochs' | 'maxSteps' | 'seed' | 'evalEvery' | 'sampleEvery' | 'checkpointEvery' | 'earlyStopPatience' | 'sampleMaxTokens'>(
  key: K,
  label: string,
  hint: string,
  testId: string,
): NumberFieldSpec => ({ key, label, hint, testId, whole: true, get: (c) => c[key], set: (_c, v) => ({ [key]: v }) });

/** A DPO setting (TrainConfig.dpo, DEFAULT_DPO until one is set). */
const dpoField = (key: 'dpoBeta' | 'dpoLabelSmoothing', part: 'beta' | 'labelSmoothing', label: string, hint: string, testId: string): NumberFieldSpec => ({
  key,
  label,
  hint,
  testId,
  whole: false,
  get: (c) => (c.dpo ?? DEFAULT_DPO)[part],
  set: (c, v) => ({ dpo: { ...(c.dpo ?? DEFAULT_DPO), [part]: v } }),
});

export const NUMBER_FIELDS: Record<NumberKey, NumberFieldSpec> = {
  lr: {
    key: 'lr',
    label: 'Learning rate',
    hint: 'How far each step moves the weights. 1e-5 to 1e-4 for a full fine-tune; LoRA takes about 10× more.',
    testId: 'train-lr',
    whole: false,
    get: (c) => c.optimizer.lr,
    set: (c, v) => ({ optimizer: { ...c.optimizer, lr: v } }),
  },
  weightDecay: {
    key: 'weightDecay',
    label: 'Weight decay',
    hint: 'Pulls weights gently toward 0 each step (AdamW). 0 = off; 0.01 is usual.',
    testId: 'train-weight-decay',
    whole: false,
    get: (c) => c.optimizer.weightDecay,
    set: (c, v) => ({ optimizer: { ...c.optimizer, weightDecay: v } }),
  },
  dpoBeta: dpoField('dpoBeta', 'beta', 'DPO β', 'How far the model may move from the base to prefer the chosen answers: smaller lets it move further. 0.1 is usual.', 'train-dpo-beta'),
  dpoLabelSmoothing: dpoField('dpoLabelSmoothing', 'labelSmoothing', 'Label smoothing', 'The share of pairs you think are labelled the wrong way round (conservative DPO). 0 = plain DPO.', 'train-dpo-label-smoothing'),
  neftuneAlpha: {
    key: 'neftuneAlpha',
    label: 'NEFTune noise α',
    hint: 'Random noise on the token embeddings while training (±α/√(length × hidden)), which often makes answers better; 5 is its paper’s choice. 0 = off.',
    testId: 'train-neftune-alpha',
    whole: false,
    get: (c) => c.neftuneAlpha ?? 0,
    set: (_c, v) => ({ neftuneAlpha: v }),
  },
  maxGradNorm: {
    key: 'maxGradNorm',
    label: 'Max grad norm',
    hint: 'Scales a step down when the gradient is larger than this, so one bad batch cannot blow up the model. 0 = off.',
    testId: 'train-max-grad-norm',
    whole: false,
    get: (c) => c.optimizer.maxGradNorm,
    set: (c, v) => ({ optimizer: { ...c.optimizer, maxGradNorm: v } }),
  },
  warmupSteps: {
    key: 'warmupSteps',
    label: 'Warmup steps',
    hint: 'The learning rate climbs from 0 over these first steps, then follows the schedule.',
    testId: 'train-warmup',
    whole: true,
    get: (c) => c.schedule.warmupSteps,
    set: (c, v) => ({ schedule: { ...c.schedule, warmupSteps: v } }),
  },
  batchSize: top('batchSize', 'Batch size', 'Examples per forward pass. More is steadier but needs more memory.', 'train-batch-size'),
  gradAccum: top('gradAccum', 'Gradient accumulation', 'Forward passes summed into one step: batch × this examples per step, at one batch’s memory.', 'train-grad-accum'),
  epochs: top('epochs', 'Epochs', 'Passes over the training split (used when max steps is 0).', 'train-epochs'),
  maxSteps: top('maxSteps', 'Max steps', 'Stop after this many optimizer steps. 0 = as many as the epochs take.', 'train-max-steps'),
  seed: top('seed', 'Seed', 'Same seed, settings and data give the same shuffles and the same run.', 'train-seed'),
  evalEvery: top('evalEvery', 'Eval every', 'Steps between measurements of the loss on the test split. 0 = never.', 'train-eval-every'),
  sampleEvery: top('sampleEvery', 'Sample every', 'Steps between sample answers to the prompt below. 0 = never.', 'train-sample-every'),
  checkpointEvery: top('checkpointEvery', 'Checkpoint every', 'Steps between saves to this browser, so a closed tab can resume. 0 = only at the end.', 'train-checkpoint-every'),
  earlyStopPatience: top('earlyStopPatience', 'Early-stop patience', 'Stop when the eval loss has not improved for this many evals in a row. 0 = off.', 'train-patience'),
  sampleMaxTokens: top('sampleMaxTokens', 'Sample max tokens', 'The most tokens each sample answer may have.', 'train-sample-max-tokens'),
  loraRank: {
    key: 'loraRank',
    label: 'Rank (r)',
    hint: 'Size of each adapter. 4–16 is usual: higher learns more and saves more bytes.',
    testId: 'train-lora-rank',
    whole: true,
    get: (c) => c.lora.rank,
    set: (c, v) => ({ lora: { ...c.lora, rank: v } }),
  },
  loraAlpha: {
    key: 'loraAlpha',
    label: 'Alpha',
    hint: 'The adapter’s output is scaled by alpha / rank (alpha / √rank with rsLoRA); 2 × rank is a common choice.',
    testId: 'train-lora-alpha',
    whole: false,
    get: (c) => c.lora.alpha,
    set: (c, v) => ({ lora: { ...c.lora, alpha: v } }),
  },
  loraDropout: {
    key: 'loraDropout',
    label: 'Dropout',
    hint: 'Share of the adapter’s input zeroed while training, against overfitting. 0 = off.',
    testId: 'train-lora-dropout',
    whole: false,
    get: (c) => c.lora.dropout,
    set: (c, v) => ({ lora: { ...c.lora, dropout: v } }),
  },
  loraPlusRatio: {
    key: 'loraPlusRatio',
    label: 'LoRA+ ratio',
    hint: 'B learns this many times faster than A (LoRA+: faster, steadier adapters; its paper uses 16). 1 = off.',
    testId: 'train-lora-plus-ratio',
    whole: false,
    get: (c) => c.lora.plusRatio ?? 1,
    set: (c, v) => ({ lora: { ...c.lora, plusRatio: v } }),
  },
};

/** Typed text as a number: "1e-4" → 0.0001; blank or junk → NaN (so the config check rejects it). */
export function parseNumber(text: string): number {
  const t = text.trim();
  if (t === '' || !/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(t)) return Number.NaN;
  return Number(t);
}

/** The draft with this field's typed text applied (NaN when the text is not a number). */
export function withText(config: TrainConfig, spec: NumberFieldSpec, text: string): TrainConfig {
  return { ...config, ...spec.set(config, parseNumber(text)) };
}

/** What is wrong with the text in this field, in checkTrainConfig's words; null when it is fine. */
export function fieldError(config: TrainConfig, spec: NumberFieldSpec, text: string): string | null {
  return checkTrainConfig(withText(config, spec, text))[spec.key] ?? null;
}
