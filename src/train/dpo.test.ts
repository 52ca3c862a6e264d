/**
 * DPO runs in the trainer: the first step's loss is ln 2 (the policy starts as the reference), the
 * margin between chosen and rejected rewards grows, evaluations report the pairs' metrics, and
 * data that are not pairs are refused with a message that says what to do.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { disposeParams, initRandomData, paramsFromData } from '../model/params';
import { tinyConfig } from '../model/tinyConfig';
import { startTestBackend } from '../testing/fixtures';
import { laminiPreferenceData, laminiTrainData } from '../testing/trainData';
import { DEFAULT_TRAIN } from './presets';
import { runTraining } from './run';
import { Trainer } from './trainer';
import type { TrainConfig } from './types';

const config = tinyConfig({ hiddenSize: 32, numLayers: 2, numHeads: 4, seed: 3 });
const makeBase = () => ({ params: paramsFromData(config, initRandomData(config, 3)), config });

const dpo = (patch: Partial<TrainConfig> = {}): TrainConfig => ({
  ...DEFAULT_TRAIN,
  objective: 'dpo',
  dpo: { beta: 0.1, labelSmoothing: 0 },
  method: 'lora',
  lora: { rank: 8, alpha: 16, dropout: 0, targets: ['attention.query_key_value', 'attention.dense', 'mlp.dense_h_to_4h', 'mlp.dense_4h_to_h'] },
  optimizer: { ...DEFAULT_TRAIN.optimizer, lr: 1e-2, weightDecay: 0 },
  schedule: { kind: 'constant', warmupSteps: 0 },
  batchSize: 4,
  maxSteps: 20,
  evalEvery: 20,
  sampleEvery: 0,
  checkpointEvery: 0,
  ...patch,
});

describe('DPO in the trainer', () => {
  beforeAll(() => startTestBackend('wasm'));

  // Ten pairs seen twice an epoch for seven epochs: the margin on them grows as the policy learns them.
  it.each(['lora', 'full'] as const)('%s: starts at ln 2 and moves the margin toward the chosen answers', async (method) => {
    const base = makeBase();
    const data = laminiPreferenceData({ limit: 12, maxLength: 48 });
    const trainer = new Trainer(base, data, dpo(method === 'full' ? { method, optimizer: { ...dpo().optimizer, lr: 2e-3 } } : {}));
    expect(await runTraining(trainer)).toBe('finished');
    const steps = trainer.state.history.steps;
    expect(Math.abs(steps[0].loss - Math.LN2)).toBeLessThan(1e-5);
    expect(steps[0].preference!.margin).toBeCloseTo(0, 6);
    const late = steps.slice(-5);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(late.map((s) => s.preference!.margin))).toBeGreaterThan(0.05);
    expect(mean(late.map((s) => s.loss))).toBeLessThan(Math.LN2 - 0.02);
    expect(mean(late.map((s) => s.preference!.accuracy))).toBeGreaterThan(0.7);
    const [first, last] = [trainer.state.history.evals[0], trainer.state.history.evals.at(-1)!];
    expect(first.loss).toBeCloseTo(Math.LN2, 5);
    expect(last.step).toBe(20);
    expect(last.preference!.pairs).toBe(data.test.length);
    trainer.dispose();
    disposeParams(base.params);
  });

  it('refuses data that are not pairs, and packing, saying what to do', () => {
    const base = makeBase();
    expect(() => new Trainer(base, laminiTrainData({ limit: 20 }), dpo())).toThrow(/DPO trains on preference pairs: load a dataset with prompt \/ chosen \/ rejected/);
    expect(() => new Trainer(base, laminiPreferenceData({ limit: 20 }), dpo({ packing: true }))).toThrow(/packing does not apply to DPO/);
    disposeParams(base.params);
  });
});
