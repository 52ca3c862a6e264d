import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { tinyConfig } from '../model/tinyConfig';
import { disposeParams, initRandomData, paramsFromData } from '../model/params';
import { relError, startTestBackend } from '../testing/fixtures';
import { laminiTrainData } from '../testing/trainData';
import { DEFAULT_TRAIN } from './presets';
import { runTraining } from './run';
import { snapshotFromBytes, snapshotToBytes } from './snapshotBytes';
import { NonFiniteLossError, Trainer } from './trainer';
import type { TrainConfig } from './types';

// A small Pythia-shaped model (the full 50,304-token vocabulary, so the real tokenizer's ids fit).
const config = tinyConfig({ hiddenSize: 32, numLayers: 2, numHeads: 4, seed: 3 });
const makeBase = () => ({ params: paramsFromData(config, initRandomData(config, 3)), config });

const cfg = (patch: Partial<TrainConfig> = {}): TrainConfig => ({
  ...DEFAULT_TRAIN,
  optimizer: { ...DEFAULT_TRAIN.optimizer, lr: 3e-3, weightDecay: 0 },
  schedule: { kind: 'constant', warmupSteps: 0 },
  batchSize: 8,
  maxSteps: 4,
  evalEvery: 0,
  sampleEvery: 0,
  checkpointEvery: 0,
  ...patch,
});

describe('trainer', () => {
  beforeAll(() => startTestBackend('wasm'));

  it('a full fine-tune lowers the eval loss on the course data by 30% or more', async () => {
    const base = makeBase();
    const data = laminiTrainData({ limit: 400, maxLength: 64 });
    const c = cfg({ maxSteps: 40, evalEvery: 40, schedule: { kind: 'cosine', warmupSteps: 4 } });
    const trainer = new Trainer(base, data, { ...c, optimizer: { ...c.optimizer, lr: 1e-2 } });
    expect(await runTraining(trainer)).toBe('finished');
    const [first, last] = [trainer.state.history.evals[0], trainer.state.history.evals.at(-1)!];
    expect(first.step).toBe(0);
    expect(last.step).toBe(40);
    expect(last.loss).toBeLessThan(first.loss * 0.7);
    expect(last.perplexity).toBeCloseTo(Math.exp(last.loss), 3);
    trainer.dispose();
    disposeParams(base.params);
  });

  it('a LoRA run lowers it too, and leaves the base weights untouched', async () => {
    const base = makeBase();
    const before = await base.params['gpt_neox.layers.0.attention.query_key_value.weight'].data();
    const data = laminiTrainData({ limit: 200, maxLength: 64 });
    const c = cfg({
      method: 'lora',
      lora: { rank: 8, alpha: 16, dropout: 0, targets: ['attention.query_key_value', 'attention.dense', 'mlp.dense_h_to_4h', 'mlp.dense_4h_to_h'] },
      optimizer: { ...DEFAULT_TRAIN.optimizer, lr: 1e-2, weightDecay: 0 },
      maxSteps: 25,
      evalEvery: 25,
    });
    const trainer = new Trainer(base, data, c);
    await runTraining(trainer);
    const [first, last] = [trainer.state.history.evals[0], trainer.state.history.evals.at(-1)!];
    expect(last.loss).toBeLessThan(first.loss);
    expect(Object.keys(trainer.trainedTensors()).every((n) => n.includes('.lora_'))).toBe(true);
    expect(await base.params['gpt_neox.layers.0.attention.query_key_value.weight'].data()).toEqual(before);
    trainer.dispose();
    disposeParams(base.params);
  });

  it('LoRA+: the first step moves each B ratio times as far (B starts at zero, so A has no gradient yet)', async () => {
    const base = makeBase();
    const data = laminiTrainData({ limit: 32, maxLength: 32 });
    const lora = { rank: 4, alpha: 8, dropout: 0, targets: ['attention.query_key_value'] };
    const step = async (plusRatio: number) => {
      const trainer = new Trainer(base, data, cfg({ method: 'lora', lora: { ...lora, plusRatio }, maxSteps: 1 }));
      await trainer.trainStep();
      const out = Object.fromEntries(await Promise.all(Object.entries(trainer.trainedTensors()).map(async ([n, t]) => [n, (await t.data()) as Float32Array] as const)));
      trainer.dispose();
      return out;
    };
    const [plain, plus] = [await step(1), await step(16)];
    for (const n of Object.keys(plain)) {
      if (n.includes('lora_A')) expect(plus[n], n).toEqual(plain[n]);
      else expect(relError(plus[n], plain[n].map((x) => 16 * x)), n).toBeLessThan(1e-5);
    }
    expect(Object.keys(plain).some((n) => n.includes('lora_B') && plain[n].some((x) => x !== 0))).toBe(true);
    disposeParams(base.params);
  });

  it('a run resumed from a checkpoint continues exactly as one never interrupted', async () => {
    const base = makeBase();
    const data = laminiTrainData({ limit: 64, maxLength: 48 });
    // gradAccum 2 and batch 8 over 58 train rows: steps cross an epoch boundary mid-accumulation.
    const c = cfg({ maxSteps: 6, gradAccum: 2, method: 'lora', lora: { ...DEFAULT_TRAIN.lora, dropout: 0.1 } });
    const straight = new Trainer(base, data, c);
    for (let i = 0; i < 6; i++) await straight.trainStep();

    const first = new Trainer(base, data, c);
    for (let i = 0; i < 3; i++) await first.trainStep();
    const bytes = snapshotToBytes(await first.snapshot());
    first.dispose();
    const resumed = new Trainer(base, data, c, snapshotFromBytes(bytes));
    for (let i = 0; i < 3; i++) await resumed.trainStep();

    expect(resumed.state.history.steps.map((m) => m.loss)).toEqual(straight.state.history.steps.map((m) => m.loss));
    for (const [n, t] of Object.entries(straight.trainedTensors())) expect(await resumed.trainedTensors()[n].data(), n).toEqual(await t.data());
    straight.dispose();
    resumed.dispose();
    disposeParams(base.params);
  });

  it('a NaN loss stops the step with a clear message and changes nothing', async () => {
    const base = makeBase();
    // Poison the frozen base: every forward now gives NaN, whatever the adapters do.
    const poisoned = { params: { ...base.params, 'gpt_neox.final_layer_norm.weight': tf.fill([config.hiddenSize], NaN) }, config };
    const data = laminiTrainData({ limit: 32, maxLength: 32 });
    const trainer = new Trainer(poisoned, data, cfg({ method: 'lora' }));
    const before = await trainer.snapshot();
    await expect(trainer.trainStep()).rejects.toThrow(NonFiniteLossError);
    await expect(trainer.trainStep()).rejects.toThrow(/NaN or infinite at step 1: lower the learning rate/);
    const after = await trainer.snapshot();
    expect(after.state).toEqual(before.state);
    expect(after.trainable).toEqual(before.trainable);
    expect(after.optimizer.step).toBe(0);
    trainer.dispose();
    poisoned.params['gpt_neox.final_layer_norm.weight'].dispose();
    disposeParams(base.params);
  });

  it('steps leak no tensors', async () => {
    const base = makeBase();
    const data = laminiTrainData({ limit: 48, maxLength: 32 });
    const trainer = new Trainer(base, data, cfg({ gradAccum: 2, optimizer: { ...cfg().optimizer, maxGradNorm: 0.5 } }));
    await trainer.trainStep();
    await trainer.evaluate();
    const n = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) await trainer.trainStep();
    await trainer.evaluate();
    expect(tf.memory().numTensors).toBe(n);
    trainer.dispose();
    disposeParams(base.params);
  });
});
