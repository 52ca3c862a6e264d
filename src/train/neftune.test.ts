/**
 * NEFTune as transformers computes it: uniform noise in ±alpha/√(T·C) on the token embeddings,
 * in training steps only; the checkpointed backward (which runs the embedding again) sees the same
 * noise; evaluation and generation see none.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embedTokens, type ForwardContext } from '../model/forward';
import { lossAndGrads } from '../model/objective';
import { disposeParams, initRandomData, paramsFromData, type Params } from '../model/params';
import { tinyConfig } from '../model/tinyConfig';
import { relError, startTestBackend } from '../testing/fixtures';
import { laminiTrainData } from '../testing/trainData';
import { DEFAULT_TRAIN } from './presets';
import { Trainer } from './trainer';

const config = tinyConfig({ hiddenSize: 32, numLayers: 2, numHeads: 4, seed: 5 });
const B = 4;
const T = 32;
const IDS = Int32Array.from({ length: B * T }, (_, i) => (i * 7919) % 50000);

describe.each(['wasm'] as const)('NEFTune on the %s backend', (backend) => {
  let params: Params;
  let ids: tf.Tensor2D;
  beforeAll(async () => {
    await startTestBackend(backend);
    params = paramsFromData(config, initRandomData(config, 5));
    ids = tf.tensor2d(IDS, [B, T], 'int32');
  });
  afterAll(() => {
    disposeParams(params);
    ids.dispose();
  });

  it('adds uniform noise in ±alpha/√(T·C) to the token embeddings: bounded, mean 0, std bound/√3, fixed by its seed', () => {
    const plain = embedTokens({ params, config }, ids).dataSync();
    const noisy = (seed: number) => embedTokens({ params, config, neftune: { alpha: 5, seed } }, ids).dataSync();
    const a = noisy(1);
    const bound = 5 / Math.sqrt(T * config.hiddenSize);
    const noise = Array.from(a, (x, i) => x - plain[i]);
    const mean = noise.reduce((s, x) => s + x, 0) / noise.length;
    const std = Math.sqrt(noise.reduce((s, x) => s + (x - mean) ** 2, 0) / noise.length);
    expect(Math.max(...noise.map(Math.abs))).toBeLessThanOrEqual(bound * (1 + 1e-5));
    expect(Math.max(...noise.map(Math.abs))).toBeGreaterThan(0.95 * bound);
    expect(Math.abs(mean)).toBeLessThan(0.05 * bound); // σ of the mean: 0.577·bound/√4096 ≈ 0.009·bound
    expect(Math.abs(std / (bound / Math.sqrt(3)) - 1)).toBeLessThan(0.05);
    expect(noisy(1)).toEqual(a);
    expect(noisy(2)).not.toEqual(a);
    expect(embedTokens({ params, config, neftune: { alpha: 0, seed: 1 } }, ids).dataSync()).toEqual(plain);
  });

  it('the checkpointed backward runs the embedding again with the same noise: its loss and gradients equal the plain ones', () => {
    const ctx: ForwardContext = { params, config, neftune: { alpha: 10, seed: 3 } };
    const batch = { ids: IDS, B, T, lengths: [T, T, T, T] };
    const names = Object.keys(params);
    const plain = lossAndGrads(ctx, names, batch);
    const checkpointed = lossAndGrads(ctx, names, batch, { checkpoint: true });
    const without = lossAndGrads({ params, config }, names, batch);
    expect(Math.abs(checkpointed.loss.dataSync()[0] - plain.loss.dataSync()[0])).toBeLessThan(1e-5);
    expect(Math.abs(without.loss.dataSync()[0] - plain.loss.dataSync()[0])).toBeGreaterThan(1e-6); // the noise does reach the loss
    for (const n of names) expect(relError(checkpointed.grads[n].dataSync(), plain.grads[n].dataSync()), n).toBeLessThan(1e-3);
    tf.dispose([plain.loss, checkpointed.loss, without.loss, ...Object.values(plain.grads), ...Object.values(checkpointed.grads), ...Object.values(without.grads)]);
  });

  it('a run adds it to its training steps only: evaluation, samples and exports see the model without noise', async () => {
    const data = laminiTrainData({ limit: 24, maxLength: 32 });
    const trainer = new Trainer({ params, config }, data, { ...DEFAULT_TRAIN, neftuneAlpha: 5, maxSteps: 1, evalEvery: 0, sampleEvery: 0, checkpointEvery: 0, batchSize: 4 });
    expect(trainer.context().neftune).toBeUndefined();
    expect(trainer.context(7).neftune).toEqual({ alpha: 5, seed: 7 });
    await trainer.trainStep();
    expect(Number.isFinite(trainer.state.history.steps[0].loss)).toBe(true);
    trainer.dispose();
  });
});
