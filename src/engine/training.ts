/**
 * Training inside the engine: turns a `train` request into a Trainer over the loaded model, runs
 * it with events for the page, and keeps the last run's weights for generation and export.
 *
 * One run at a time. A paused run stays in memory (resume is instant); a stopped, finished or
 * interrupted one resumes from its last checkpoint in the CheckpointStore.
 */
import { outOfMemory } from '../backend/outOfMemory';
import { takeXnnFailure } from '../backend/xnnStatus';
import { encodeSegments } from '../data/encode';
import type { Segment } from '../data/types';
import type { Tokenizer } from '../data/tokenizer';
import type { ForwardContext } from '../model/forward';
import type { LiveRun } from './runModels';
import type { JobContext } from '../protocol/rpc';
import type { BackendInfo, EngineEvent, TrainData, TrainEstimate, TrainParams, TrainResult } from '../protocol/protocol';
import { totalSteps } from '../train/batchPlan';
import { checkpointSaveMessage, type CheckpointStore } from '../train/checkpointStore';
import { estimateMemory, flopsPerStep, resolveCheckpointing, resolveRun, trainableParamCount } from '../train/estimate';
import { runTraining } from '../train/run';
import { snapshotFromBytes, snapshotToBytes } from '../train/snapshotBytes';
import { Trainer } from '../train/trainer';
import type { TrainConfig } from '../train/types';
import { DEFAULT_GENERATE, generateText } from '../eval/generateText';

type Hooks = JobContext<EngineEvent>;

export interface TrainingModel {
  ctx: ForwardContext;
  tokenizer: Tokenizer;
}

/** The untrained text of the first example: what a sample asks when the page gives no prompt. */
function defaultPrompt(data: TrainData): string {
  const first = data.test[0] ?? data.train[0] ?? [];
  return first
    .filter((s) => !s.train)
    .map((s) => s.text)
    .join('');
}

export class TrainingHost {
  /** The last run's trainer (its tensors are the trained model); null before any run. */
  private trainer: { runId: string; trainer: Trainer } | null = null;
  private active: { runId: string; control: 'run' | 'pause' | 'stop' } | null = null;

  constructor(private readonly checkpoints: CheckpointStore) {}

  async train(model: TrainingModel, backend: BackendInfo, p: TrainParams, hooks: Hooks): Promise<TrainResult> {
    const { runId, config } = p;
    let trainer: Trainer;
    if (p.resume && this.trainer?.runId === runId) {
      trainer = this.trainer.trainer; // paused in this worker: its tensors are still here
    } else {
      const snapshot = p.resume ? await this.checkpoints.load(runId, 'last') : null;
      if (p.resume && !snapshot) throw new Error('this run has no checkpoint to resume from: start it again');
      this.discardTrainer();
      // Tokenized only for a new trainer: a run paused in memory keeps the data it was given.
      const encode = (items: Segment[][]) => items.map((segs) => encodeSegments(segs, model.tokenizer, p.data.tokenize));
      const rejected = p.data.rejected && { train: encode(p.data.rejected.train), test: encode(p.data.rejected.test) };
      const data = { train: encode(p.data.train), test: encode(p.data.test), maxLength: p.data.tokenize.maxLength, padId: model.tokenizer.eosTokenId, ...(rejected ? { rejected } : {}) };
      // Packing and checkpointing left open are decided as the Train tab's estimate decided them: on
      // the train split's lengths, and the longest example of either split (as the Data tab counts it).
      const longest = [...data.train, ...data.test, ...(rejected ? [...rejected.train, ...rejected.test] : [])].reduce((n, x) => Math.max(n, x.ids.length), 0);
      const resolved = resolveRun(model.ctx.config, config, { trainLengths: data.train.map((x) => x.ids.length), longest, tokenize: p.data.tokenize }, backend).train;
      trainer = new Trainer({ params: model.ctx.params, config: model.ctx.config }, data, resolved, snapshot ? snapshotFromBytes(snapshot) : undefined);
      this.trainer = { runId, trainer };
    }

    const prompt = config.samplePrompt || defaultPrompt(p.data);
    let checkpointError: string | null = null;
    this.active = { runId, control: 'run' };
    try {
      const reason = await runTraining(trainer, {
        signal: hooks.signal,
        control: () => this.active?.control ?? 'run',
        onStep: (metrics) => {
          // A product that failed inside XNNPACK left garbage in this step's weights: end the run
          // here, before a checkpoint could save them over the last good one.
          const xnn = takeXnnFailure();
          if (xnn) throw xnn;
          hooks.emit({ type: 'trainStep', requestId: hooks.requestId, runId, metrics });
        },
        onEval: (metrics, best) => hooks.emit({ type: 'trainEval', requestId: hooks.requestId, runId, metrics, best }),
        onSample: async (step) => {
          if (!prompt) return;
          const r = await generateText(trainer.context(), model.tokenizer, { ...DEFAULT_GENERATE, prompt, maxNewTokens: config.sampleMaxTokens }, { signal: hooks.signal });
          hooks.emit({ type: 'trainSample', requestId: hooks.requestId, runId, step, prompt, text: r.text });
        },
        onCheckpoint: async (kind) => {
          // Making the snapshot can fail too (reading the weights back, allocating its bytes): that
          // is a checkpoint that was not saved, not the end of the run.
          let size = 0;
          let error: string | null = null;
          try {
            const bytes = snapshotToBytes(await trainer.snapshot());
            size = bytes.byteLength;
            await this.checkpoints.save(runId, kind, bytes);
          } catch (e) {
            error = checkpointSaveMessage(e);
          }
          if (kind === 'last') checkpointError = error;
          hooks.emit({ type: 'trainCheckpoint', requestId: hooks.requestId, runId, step: trainer.state.step, kind, bytes: size, error });
        },
      });
      return { runId, reason, step: trainer.state.step, totalSteps: trainer.totalSteps, checkpointError };
    } catch (e) {
      // Out of memory: the advice names only what this run can still change.
      const c = trainer.config;
      throw outOfMemory(e, backend.name, 'studio', { method: c.method, checkpointing: c.activationCheckpointing === true }) ?? e;
    } finally {
      this.active = null;
    }
  }

  control(runId: string, action: 'pause' | 'stop'): boolean {
    if (this.active?.runId !== runId) return false;
    this.active.control = action;
    return true;
  }

  /** Whether a trainer holds the base model's weights (a paused run): they must not move meanwhile. */
  holdsModel(): boolean {
    return this.trainer !== null;
  }

  /** The run whose trainer is in memory, with its current tensors, or null. */
  liveRun(): LiveRun | null {
    return this.trainer ? { runId: this.trainer.runId, tensors: this.trainer.trainer.trainedTensors() } : null;
  }

  estimate(model: TrainingModel, backend: BackendInfo, asked: TrainConfig, trainExamples: number, seqLen: number): TrainEstimate {
    const c = model.ctx.config;
    const { train: config, auto } = resolveCheckpointing(c, asked, seqLen, backend);
    const tokens = config.batchSize * seqLen * config.gradAccum;
    return {
      memory: estimateMemory(c, config, seqLen, { name: backend.name, limits: backend.limits }),
      trainableParams: trainableParamCount(c, config),
      flopsPerStep: flopsPerStep(c, config, tokens, seqLen),
      totalSteps: totalSteps(config, trainExamples),
      autoCheckpointing: auto,
    };
  }

  async deleteRun(runId: string): Promise<void> {
    if (this.trainer?.runId === runId && this.active?.runId !== runId) this.discardTrainer();
    await this.checkpoints.delete(runId);
  }

  /** The base model is going away (a new model, a backend switch): the run's tensors go with it. */
  discardTrainer(): void {
    this.trainer?.trainer.dispose();
    this.trainer = null;
  }
}
