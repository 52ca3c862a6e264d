/**
 * Whole training steps on WebGPU (Dawn for Node): the fused kernels and the on-device optimizer
 * against tfjs's stock kernels, over 3 steps of a 6-layer model (Pythia-70m's layer count at a
 * small width); what a step costs in dispatches and reads; and a NaN that changes nothing.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { countWebGPU, type CountedBackend } from './profile';
import { setFusedKernels } from './register';
import { parseConfig } from '../../model/config';
import { disposeParams, initRandomData, paramsFromData } from '../../model/params';
import { startWebGPU } from '../../testing/webgpu';
import { DEFAULT_TRAIN } from '../../train/presets';
import { Trainer, type TrainerSnapshot } from '../../train/trainer';
import type { TrainConfig } from '../../train/types';

const config = parseConfig({ model_type: 'gpt_neox', vocab_size: 96, max_position_embeddings: 64, rotary_pct: 0.25, hidden_size: 32, num_hidden_layers: 6, num_attention_heads: 2, intermediate_size: 64 });
const T = 16;
const train = Array.from({ length: 8 }, (_, r) => {
  const n = T - (r % 3); // ragged rows: padding and masks as in real data
  return { ids: Array.from({ length: n }, (_, t) => (r * 31 + t * 7 + 3) % 96), loss: new Uint8Array(n).fill(1), fullLength: n, truncated: 0, completionStart: 1 };
});
const data = { train, test: [], maxLength: T, padId: 0 };
const lora: TrainConfig['lora'] = { rank: 4, alpha: 8, dropout: 0, targets: ['attention.query_key_value', 'attention.dense', 'mlp.dense_h_to_4h', 'mlp.dense_4h_to_h'] };
const runs: [string, TrainConfig][] = [
  ['full fine-tune', { ...DEFAULT_TRAIN, batchSize: 2, gradAccum: 2, maxSteps: 10, evalEvery: 0, optimizer: { ...DEFAULT_TRAIN.optimizer, lr: 1e-3, maxGradNorm: 0.5 } }],
  ['LoRA', { ...DEFAULT_TRAIN, method: 'lora', lora, batchSize: 2, maxSteps: 10, evalEvery: 0, optimizer: { ...DEFAULT_TRAIN.optimizer, lr: 1e-3 } }],
  ['full fine-tune, checkpointing', { ...DEFAULT_TRAIN, batchSize: 2, maxSteps: 10, evalEvery: 0, activationCheckpointing: true }],
];

async function threeSteps(fused: boolean, c: TrainConfig): Promise<{ losses: number[]; norms: number[]; weights: Float32Array[] }> {
  setFusedKernels(fused);
  const model = { params: paramsFromData(config, initRandomData(config, 0)), config };
  const trainer = new Trainer(model, data, c);
  const losses: number[] = [];
  const norms: number[] = [];
  for (let i = 0; i < 3; i++) {
    const m = await trainer.trainStep();
    losses.push(m.loss);
    norms.push(m.gradNorm);
  }
  const weights = await Promise.all(Object.values(trainer.trainedTensors()).map(async (t) => (await t.data()) as Float32Array));
  trainer.dispose();
  disposeParams(model.params);
  setFusedKernels(true);
  return { losses, norms, weights };
}

beforeAll(() => startWebGPU());

/** A NaN step changed nothing: the step counts, every trained weight and both moments are as before it. */
function expectUnchanged(after: TrainerSnapshot, before: TrainerSnapshot): void {
  expect(after.state.step).toBe(before.state.step);
  expect(after.optimizer.step).toBe(before.optimizer.step);
  for (const n of Object.keys(before.trainable)) expect(after.trainable[n].data, n).toEqual(before.trainable[n].data);
  for (const n of Object.keys(before.optimizer.m)) {
    expect(after.optimizer.m[n], n).toEqual(before.optimizer.m[n]);
    expect(after.optimizer.v[n], n).toEqual(before.optimizer.v[n]);
  }
}

describe('training steps on WebGPU: fused kernels against the stock path', () => {
  it.each(runs)('%s: 3 steps give the same losses, norms and weights within 1e-4', async (_, c) => {
    const fused = await threeSteps(true, c);
    const stock = await threeSteps(false, c);
    fused.losses.forEach((l, i) => expect(Math.abs(l - stock.losses[i]) / stock.losses[i], `loss ${i}`).toBeLessThan(1e-4));
    fused.norms.forEach((n, i) => expect(Math.abs(n - stock.norms[i]) / stock.norms[i], `norm ${i}`).toBeLessThan(1e-4));
    // Weights: within 1e-4 of the largest weight of each tensor, or 1e-4 absolute for tensors
    // below 1 (the biases start at zero). No per-element relative bound: the key bias's gradient is
    // zero in exact arithmetic (softmax ignores it), so both paths update it by lr·(rounding noise)
    // over |noise|, and AdamW's m/√v makes that a whole update either way.
    fused.weights.forEach((w, i) => {
      let worst = 0;
      let scale = 1;
      for (let j = 0; j < w.length; j++) {
        worst = Math.max(worst, Math.abs(w[j] - stock.weights[i][j]));
        scale = Math.max(scale, Math.abs(stock.weights[i][j]));
      }
      expect(worst / scale, `weights ${i}`).toBeLessThan(1e-4);
    });
  });

  it('a fused full fine-tune step dispatches at least 5× fewer kernels than the stock one, and reads back once', async () => {
    const counts: Record<string, { dispatches: number; readbacks: number; pipelines: number }> = {};
    for (const fused of [true, false]) {
      setFusedKernels(fused);
      const model = { params: paramsFromData(config, initRandomData(config, 0)), config };
      const trainer = new Trainer(model, data, { ...runs[0][1], gradAccum: 1 });
      await trainer.trainStep(); // warm-up: pipelines compile, buffers are pooled
      counts[fused ? 'fused' : 'stock'] = (await countWebGPU(tf.backend() as unknown as CountedBackend, () => trainer.trainStep())).counts;
      trainer.dispose();
      disposeParams(model.params);
    }
    setFusedKernels(true);
    expect(counts.stock.dispatches / counts.fused.dispatches).toBeGreaterThanOrEqual(5);
    expect(counts.fused.readbacks).toBe(1); // the step's metrics, once every kernel of it is queued
    expect(counts.stock.readbacks).toBe(2); // the loss, then the norm in the middle of the step
    expect(counts.fused.pipelines).toBe(0);
  });

  /** A trainer one step in, its snapshot, and a way to turn one trained weight to NaN (so the next loss is NaN) and back. */
  async function poisonable() {
    const model = { params: paramsFromData(config, initRandomData(config, 0)), config };
    const trainer = new Trainer(model, data, runs[0][1]);
    await trainer.trainStep();
    const before = await trainer.snapshot();
    const name = 'gpt_neox.final_layer_norm.weight';
    const good = trainer.trainedTensors()[name];
    return {
      model,
      trainer,
      before,
      poison: () => void (trainer.trainedTensors()[name] = tf.fill(good.shape, NaN)),
      // The step's kernels wrote every parameter through unchanged, the NaN one too: the good one goes back.
      restore: () => {
        trainer.trainedTensors()[name].dispose();
        trainer.trainedTensors()[name] = good;
      },
    };
  }

  it('a NaN loss stops the step and changes nothing: the weights, the moments and the step count stay', async () => {
    const { model, trainer, before, poison, restore } = await poisonable();
    poison();
    await expect(trainer.trainStep()).rejects.toThrow(/NaN or infinite at step 2/);
    restore();
    const after = await trainer.snapshot();
    expectUnchanged(after, before);
    trainer.dispose();
    disposeParams(model.params);
  });

  it('queued steps (metrics read a step late) give the same losses, norms and weights as settled ones', async () => {
    const run = async (queued: boolean) => {
      const model = { params: paramsFromData(config, initRandomData(config, 0)), config };
      const trainer = new Trainer(model, data, runs[0][1]);
      const seen: number[] = [];
      for (let i = 0; i < 3; i++) {
        const m = queued ? await trainer.queueStep() : await trainer.trainStep();
        if (m) seen.push(m.step);
      }
      if (queued) seen.push((await trainer.settle())!.step);
      const history = trainer.state.history.steps.map((m) => [m.loss, m.gradNorm]);
      const weights = await Promise.all(Object.values(trainer.trainedTensors()).map(async (t) => Array.from((await t.data()) as Float32Array)));
      trainer.dispose();
      disposeParams(model.params);
      return { seen, history, weights };
    };
    const late = await run(true);
    const settled = await run(false);
    expect(late.seen).toEqual([1, 2, 3]); // the first queueStep returns nothing, settle() the third
    expect(late.history).toEqual(settled.history);
    expect(late.weights).toEqual(settled.weights);
  });

  it('a NaN found a step late changes nothing either: the step after it is a no-op, and neither is counted', async () => {
    const { model, trainer, before, poison, restore } = await poisonable();
    poison();
    expect(await trainer.queueStep()).toBeNull(); // step 2, NaN, queued: nothing read yet
    restore(); // the good weight goes back for step 3
    await expect(trainer.queueStep()).rejects.toThrow(/NaN or infinite at step 2/); // step 3 queued, then step 2 read
    const after = await trainer.snapshot();
    expectUnchanged(after, before);
    expect(after.state.history.steps.length).toBe(1);
    trainer.dispose();
    disposeParams(model.params);
  });
});
