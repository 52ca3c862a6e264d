/**
 * The training loop, as nanoGPT's train.py: micro-batches → gradients (accumulated) → clip →
 * AdamW with the scheduled learning rate; eval loss on the test split every N steps.
 *
 * The base model's tensors are never modified: a full fine-tune trains copies, LoRA trains
 * adapters next to the frozen weights. So the base stays available to compare against, and a
 * run can be thrown away without reloading anything.
 *
 * Resuming is exact: the data order is a function of (seed, epoch), where a step starts in it is
 * a function of the step (positionAt), and LoRA dropout masks are seeded per micro-batch.
 *
 * With the DPO objective the examples are preference pairs: a micro-batch is its pairs' chosen
 * rows then their rejected rows, and the reference model is the base (model/preference.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { EncodedExample } from '../data/types';
import type { ModelConfig } from '../model/config';
import type { ForwardContext } from '../model/forward';
import { makeBatch } from '../data/batch';
import { batchLoss, batchTargets, lossAndGrads, type HeadLoss, type TokenBatch } from '../model/objective';
import { dpoHead, dpoLoss, meanPreference, preferenceMetrics, scoreSequences, type PreferenceMetrics } from '../model/preference';
import { disposeParams, modelNames, paramSpecs, type Params } from '../model/params';
import { AdamW, decayFromSpecs, type AdamWState } from './adamw';
import { CTL, gradControl, optimizerOnDevice, readsLate } from './deviceOptimizer';
import { epochBatches, epochRows, positionAt, toBatch, totalSteps, type PlannedBatch } from './batchPlan';
import { accumulate, clipByGlobalNorm } from './gradients';
import { createLoraParams, loraContext, loraParamNames, loraPlusScale } from './lora';
import { learningRate } from './schedule';
import { DEFAULT_DPO, type DpoSettings, type EvalMetrics, type StepMetrics, type TrainConfig } from './types';

/** The train and test splits, tokenized (the protocol's TrainData is the same data before tokenizing). */
export interface EncodedSplits {
  train: EncodedExample[];
  test: EncodedExample[];
  maxLength: number;
  padId: number;
  /** Preference pairs (the DPO objective): rejected.train[i] is the other answer to train[i]'s prompt. */
  rejected?: { train: EncodedExample[]; test: EncodedExample[] };
}

type Split = 'train' | 'test';

/** Everything a run needs to continue exactly where it was. */
export interface TrainerState {
  /** Optimizer steps taken; where the next one starts in the data follows from it (positionAt). */
  step: number;
  tokensSeen: number;
  history: { steps: StepMetrics[]; evals: EvalMetrics[] };
  bestEval: EvalMetrics | null;
  evalsSinceBest: number;
  /** Milliseconds of training before this session (so elapsed and ETA carry over a resume). */
  elapsedMs: number;
}

export interface TrainerSnapshot {
  state: TrainerState;
  /** The trained tensors: every weight for a full fine-tune, the adapters for LoRA. */
  trainable: Record<string, { shape: number[]; data: Float32Array }>;
  optimizer: AdamWState;
}

/** What a step knows of itself before its loss and norm are read. */
interface StepInfo {
  /** The step's number, counting from 1. */
  step: number;
  epoch: number;
  lr: number;
  tokens: number;
  /** performance.now() when it started. */
  startedAt: number;
  preference?: PreferenceMetrics;
}

/** A step on the device whose control tensor (CTL: loss, norm, finite flag) is not read yet. */
interface QueuedStep {
  ctl: tf.Tensor1D;
  info: StepInfo;
}

export class NonFiniteLossError extends Error {
  constructor(readonly step: number, what: string) {
    super(`the ${what} became ${what === 'loss' ? 'NaN or infinite' : 'non-finite'} at step ${step + 1}: lower the learning rate or turn on gradient clipping; the last good checkpoint is kept`);
    this.name = 'NonFiniteLossError';
  }
}

/** The names a run trains. */
export function trainableNames(config: ModelConfig, c: TrainConfig): string[] {
  if (c.method === 'lora') return loraParamNames(config, c.lora);
  return paramSpecs(config)
    .map((s) => s.name)
    .filter((n) => !(c.freezeEmbeddings && n === modelNames(config).embed));
}

export class Trainer {
  readonly totalSteps: number;
  readonly names: string[];
  private trainable: Params;
  private readonly optimizer: AdamW;
  state: TrainerState;
  private plan: { epoch: number; batches: PlannedBatch[] } | null = null;
  private readonly trainLengths: Int32Array;
  /** Batch rows per epoch: the train examples, or the rows they pack into. */
  private readonly rowsPerEpoch: number;
  /** The test split in its own order (no shuffle), in the same fixed shapes as training; the same at every eval. */
  private readonly testPlan: PlannedBatch[];
  /** The step queued on the device and not read yet (see queueStep). */
  private queued: QueuedStep | null = null;
  /** When the last recorded step ended (performance.now()). */
  private finishedAt = 0;
  /** DPO's settings, or null for supervised fine-tuning. */
  private readonly dpo: DpoSettings | null;

  constructor(
    private readonly base: { params: Params; config: ModelConfig },
    private readonly data: EncodedSplits,
    readonly config: TrainConfig,
    resume?: TrainerSnapshot,
  ) {
    if (data.train.length === 0) throw new Error('the train split is empty: add examples in the Data tab, or lower the test share');
    this.dpo = config.objective === 'dpo' ? (config.dpo ?? DEFAULT_DPO) : null;
    if (this.dpo) checkPairs(data, config);
    this.names = trainableNames(base.config, config);
    // A pair's rows share a batch: its length is the longer of the two.
    const lengthsOf = (split: Split) => Int32Array.from(data[split], (e, i) => Math.max(e.ids.length, data.rejected?.[split][i].ids.length ?? 0));
    this.trainLengths = lengthsOf('train');
    const packing = config.packing === true;
    this.testPlan = data.test.length ? epochBatches(lengthsOf('test'), config.batchSize, data.maxLength, 0, -1, packing) : [];
    this.rowsPerEpoch = epochRows(this.trainLengths, data.maxLength, packing);
    this.totalSteps = totalSteps(config, this.rowsPerEpoch);
    this.optimizer = new AdamW(decayFromSpecs(base.config), config.optimizer, loraPlusScale(config));
    if (resume) {
      // slice(): the CPU backend would otherwise keep the caller's array as the tensor's storage.
      this.trainable = Object.fromEntries(Object.entries(resume.trainable).map(([n, t]) => [n, tf.tensor(t.data.slice(), t.shape)]));
      this.optimizer.load(resume.optimizer);
      this.state = structuredClone(resume.state);
    } else {
      this.trainable =
        config.method === 'lora'
          ? createLoraParams(base.config, config.lora, config.seed)
          : Object.fromEntries(this.names.map((n) => [n, tf.clone(base.params[n])])); // the base stays as it was
      this.state = { step: 0, tokensSeen: 0, history: { steps: [], evals: [] }, bestEval: null, evalsSinceBest: 0, elapsedMs: 0 };
    }
  }

  get done(): boolean {
    return this.state.step >= this.totalSteps;
  }

  /** The model with this run's weights (for evaluation, samples and export); dropout and NEFTune's noise off unless a training seed is given. */
  context(dropoutSeed: number | null = null): ForwardContext {
    const ctx: ForwardContext = { params: { ...this.base.params, ...this.trainable }, config: this.base.config };
    if (this.config.method === 'lora') ctx.lora = loraContext(this.config.lora, dropoutSeed ?? 0, dropoutSeed !== null);
    // NEFTune's noise, like dropout, only in training steps.
    if (dropoutSeed !== null && (this.config.neftuneAlpha ?? 0) > 0) ctx.neftune = { alpha: this.config.neftuneAlpha!, seed: dropoutSeed };
    return ctx;
  }

  /**
   * The base model, untouched by the run: DPO's reference (a LoRA run's adapters are not in it).
   * Nothing in it is trainable, but it is scored with the ops the policy's training forward takes
   * (an empty trainable set keeps the inference kernels off), so that at step 1, where the two
   * models are one, their log-probabilities agree bit for bit and the loss is ln 2, as in TRL.
   */
  private referenceContext(): ForwardContext {
    return { params: this.base.params, config: this.base.config, trainable: new Set() };
  }

  /** A planned batch of a split as tokens: its examples, or for DPO its pairs' chosen rows then their rejected rows. */
  private batchOf(split: Split, planned: PlannedBatch): TokenBatch {
    const examples = this.data[split];
    if (!this.dpo) return toBatch(examples, planned, this.data.padId);
    const rejected = this.data.rejected![split];
    return makeBatch([...planned.rows.map((r) => examples[r]), ...planned.rows.map((r) => rejected[r])], this.data.padId, { padding: 'max_length', maxLength: planned.T });
  }

  /**
   * DPO's head for a pair batch (the reference's log-probabilities read first), or none for SFT.
   * `metrics` reads the step's rewards and frees what the head kept; `release` frees it unread.
   */
  private async headFor(b: TokenBatch): Promise<{ head?: HeadLoss; metrics?: () => Promise<PreferenceMetrics>; release?: () => void }> {
    if (!this.dpo) return {};
    const reference = await scoreSequences(this.referenceContext(), b);
    const out: { policy?: tf.Tensor1D } = {};
    const beta = this.dpo.beta;
    return {
      head: dpoHead(reference, this.dpo, out),
      metrics: async () => {
        try {
          return preferenceMetrics(await out.policy!.data(), reference, beta);
        } finally {
          out.policy?.dispose();
        }
      },
      release: () => out.policy?.dispose(),
    };
  }

  private epochPlan(epoch: number): PlannedBatch[] {
    if (!this.plan || this.plan.epoch !== epoch) {
      this.plan = { epoch, batches: epochBatches(this.trainLengths, this.config.batchSize, this.data.maxLength, this.config.seed, epoch, this.config.packing === true) };
    }
    return this.plan.batches;
  }

  /**
   * One optimizer step, with its metrics read before it returns (queueStep, then settle). Where
   * the optimizer runs on the device, runTraining uses queueStep itself, so the GPU works on one
   * step while the CPU reads the last one's metrics and queues the next.
   */
  async trainStep(): Promise<StepMetrics> {
    await this.settle();
    const m = await this.queueStep();
    return m ?? (await this.settle())!;
  }

  /**
   * One optimizer step over gradAccum micro-batches (fewer at an epoch's end: accumulation stops
   * there, as stepsFor counts steps). Parameters change only if everything is finite.
   *
   * Where the backend has the optimizer kernels (WebGPU, WASM), the loss, the norm and the AdamW
   * step stay on the device. On WebGPU nothing is read inside the step: it is queued, and this
   * returns the metrics of the step queued before it (read while the GPU runs this one), or null
   * when there was none; settle() reads the last. A NaN found late still changes nothing: each
   * step's finite flag carries into the next step's (gradControl), so the steps after it were
   * no-ops too, and none of them is counted. Elsewhere it returns this step's metrics.
   */
  async queueStep(): Promise<StepMetrics | null> {
    const t0 = performance.now();
    const { step } = this.state;
    const { epoch, batch, microBatches } = positionAt(step, this.rowsPerEpoch, this.config.batchSize, this.config.gradAccum);
    const batches = this.epochPlan(epoch);
    let sum: Params | null = null;
    let lossSum = 0;
    let lossOnDevice: tf.Scalar | null = null;
    let tokens = 0;
    const preference: PreferenceMetrics[] = [];
    const onDevice = optimizerOnDevice();
    try {
      for (let micro = 0; micro < microBatches; micro++) {
        const planned = batches[batch + micro];
        const seed = (this.config.seed * 1_000_003 + step * 64 + micro) >>> 0;
        const microBatch = this.batchOf('train', planned);
        tokens += Array.from(microBatch.lengths).reduce((n, l) => n + l, 0);
        const { head, metrics, release } = await this.headFor(microBatch);
        let result: ReturnType<typeof lossAndGrads>;
        try {
          result = lossAndGrads(this.context(seed), this.names, microBatch, { checkpoint: this.config.activationCheckpointing === true, head });
        } catch (e) {
          release?.(); // the policy's log-probabilities, kept for the metrics
          throw e;
        }
        const { loss, grads } = result;
        if (metrics) preference.push(await metrics());
        if (onDevice) {
          const next = tf.tidy(() => tf.add(lossOnDevice ?? 0, tf.div(loss, microBatches)) as tf.Scalar);
          lossOnDevice?.dispose();
          lossOnDevice = next;
        } else {
          lossSum += (await loss.data())[0]; // GPU→CPU sync point on the stock path
        }
        loss.dispose();
        sum = accumulate(sum, grads, 1 / microBatches);
      }
      const lr = learningRate(step, this.totalSteps, this.config.optimizer.lr, this.config.schedule);
      const info: StepInfo = { step: step + 1, epoch: epoch + (batch + microBatches) / batches.length, lr, tokens, startedAt: t0, ...(preference.length ? { preference: meanPreference(preference) } : {}) };
      if (onDevice) {
        const before = this.queued;
        const ctl = gradControl(sum!, lossOnDevice!, this.config.optimizer.maxGradNorm, before?.ctl);
        const next = this.optimizer.stepOnDevice(this.trainable, sum!, lr, ctl);
        // Where the flag is 0 the kernel wrote each parameter unchanged: the copies are the old
        // values. stepOnDevice has disposed the old tensors as it went.
        this.trainable = next;
        this.state.step++;
        this.queued = { ctl, info };
        // WASM computes as it is asked: the step is done by now, and reading it late would only
        // shift each step's time onto the next (the last one's measured as nothing).
        if (!readsLate()) return await this.confirm(this.queued);
        return before ? await this.confirm(before) : null;
      }
      const loss = lossSum / microBatches;
      if (!Number.isFinite(loss)) throw new NonFiniteLossError(step, 'loss');
      const clipped = await clipByGlobalNorm(sum!, this.config.optimizer.maxGradNorm);
      disposeParams(sum!);
      sum = clipped.grads;
      if (!Number.isFinite(clipped.norm)) throw new NonFiniteLossError(step, 'gradient norm');
      const next = this.optimizer.step(this.trainable, sum, lr);
      disposeParams(this.trainable);
      this.trainable = next;
      this.state.step++;
      return this.record(info, loss, clipped.norm);
    } finally {
      if (sum) disposeParams(sum);
      lossOnDevice?.dispose();
    }
  }

  /** The metrics of the step still queued on the device (see queueStep), or null when none is. */
  async settle(): Promise<StepMetrics | null> {
    return this.queued ? await this.confirm(this.queued) : null;
  }

  /**
   * Reads a queued step's control tensor: its metrics, or, when it was not finite, the step and
   * any queued after it are uncounted (the kernels changed nothing) and NonFiniteLossError is thrown.
   */
  private async confirm(q: QueuedStep): Promise<StepMetrics> {
    const later = this.queued !== q ? this.queued : null;
    let read: Float32Array;
    try {
      read = (await q.ctl.data()) as Float32Array;
    } finally {
      q.ctl.dispose();
      if (!later) this.queued = null;
    }
    const [loss, norm] = [read[CTL.loss], read[CTL.norm]];
    if (read[CTL.finite] === 0) {
      if (later) {
        later.ctl.dispose();
        this.queued = null;
        this.optimizer.discardLastStep();
      }
      this.optimizer.discardLastStep();
      this.state.step = q.info.step - 1;
      throw new NonFiniteLossError(q.info.step - 1, Number.isFinite(loss) ? 'gradient norm' : 'loss');
    }
    return this.record(q.info, loss, norm);
  }

  /** A finished step into the history. Its time runs from its start or the last step's end, whichever is later (steps overlap when queued). */
  private record(info: StepInfo, loss: number, norm: number): StepMetrics {
    const now = performance.now();
    const ms = now - Math.max(info.startedAt, this.finishedAt);
    this.finishedAt = now;
    this.state.tokensSeen += info.tokens;
    this.state.elapsedMs += ms;
    const perStep = this.state.elapsedMs / info.step;
    const m: StepMetrics = {
      step: info.step,
      totalSteps: this.totalSteps,
      epoch: info.epoch,
      loss,
      lr: info.lr,
      gradNorm: norm,
      tokens: info.tokens,
      tokensPerSecond: info.tokens / (ms / 1000),
      elapsedMs: this.state.elapsedMs,
      etaMs: perStep * (this.totalSteps - info.step),
      ...(info.preference ? { preference: info.preference } : {}),
    };
    this.state.history.steps.push(m);
    return m;
  }

  private assertSettled(what: string): void {
    if (this.queued) throw new Error(`${what} with a step still queued: settle() it first`);
  }

  /** Mean next-token loss over every target token of the test split (no dropout); for DPO, the mean DPO loss of its pairs. */
  async evaluate(): Promise<EvalMetrics | null> {
    this.assertSettled('evaluate');
    if (this.data.test.length === 0) return null;
    const m = this.dpo ? await this.evaluatePairs(this.dpo) : await this.evaluateTokens();
    this.state.history.evals.push(m);
    if (!this.state.bestEval || m.loss < this.state.bestEval.loss) {
      this.state.bestEval = m;
      this.state.evalsSinceBest = 0;
    } else {
      this.state.evalsSinceBest++;
    }
    return m;
  }

  private async evaluateTokens(): Promise<EvalMetrics> {
    const ctx = this.context();
    let total = 0;
    let count = 0;
    for (const planned of this.testPlan) {
      const b = this.batchOf('test', planned);
      const n = batchTargets(b).rows.length;
      if (n === 0) continue;
      const loss = tf.tidy(() => batchLoss(ctx, b));
      total += (await loss.data())[0] * n;
      loss.dispose();
      count += n;
    }
    const mean = count ? total / count : NaN;
    return { step: this.state.step, loss: mean, perplexity: Math.exp(mean) };
  }

  /** The test pairs' mean DPO loss and metrics, and the perplexity of their chosen answers under the trained model. */
  private async evaluatePairs(s: DpoSettings): Promise<EvalMetrics> {
    const parts: PreferenceMetrics[] = [];
    let loss = 0;
    let chosenLogp = 0;
    let chosenTokens = 0;
    for (const planned of this.testPlan) {
      const b = this.batchOf('test', planned);
      const reference = await scoreSequences(this.referenceContext(), b);
      const policy = await scoreSequences(this.context(), b);
      const l = tf.tidy(() => dpoLoss(tf.tensor1d(policy), reference, s));
      const n = planned.rows.length;
      loss += (await l.data())[0] * n;
      l.dispose();
      parts.push(preferenceMetrics(policy, reference, s.beta));
      for (let i = 0; i < n; i++) chosenLogp += policy[i];
      chosenTokens += batchTargets({ ...b, B: n, lengths: Array.from(b.lengths).slice(0, n) }).rows.length;
    }
    const preference = meanPreference(parts);
    return { step: this.state.step, loss: loss / preference.pairs, perplexity: Math.exp(-chosenLogp / chosenTokens), preference };
  }

  async snapshot(): Promise<TrainerSnapshot> {
    this.assertSettled('snapshot');
    const trainable: TrainerSnapshot['trainable'] = {};
    for (const [n, t] of Object.entries(this.trainable)) trainable[n] = { shape: t.shape, data: ((await t.data()) as Float32Array).slice() };
    return { state: structuredClone(this.state), trainable, optimizer: await this.optimizer.state() };
  }

  /** This run's tensors (the caller must not dispose them; they live until the trainer is disposed). */
  trainedTensors(): Params {
    return this.trainable;
  }

  dispose(): void {
    this.queued?.ctl.dispose();
    this.queued = null;
    disposeParams(this.trainable);
    this.optimizer.dispose();
  }
}

/** Throws, saying what to do, unless the data are preference pairs DPO can train on. */
function checkPairs(data: EncodedSplits, config: TrainConfig): void {
  const r = data.rejected;
  if (!r) throw new Error('DPO trains on preference pairs: load a dataset with prompt / chosen / rejected answers in the Data tab, or train with SFT');
  if (r.train.length !== data.train.length || r.test.length !== data.test.length) throw new Error('every chosen answer needs its rejected answer: the pairs are out of step');
  if (config.packing) throw new Error('sequence packing does not apply to DPO (each pair is scored whole): turn packing off');
}
