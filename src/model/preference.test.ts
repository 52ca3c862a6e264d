/**
 * DPO against the PyTorch reference (fixtures/train/dpo-golden.*, scripts/dpo_reference.py): the
 * sequence log-probabilities, the loss, the rewards and every gradient of a pair batch, and ln 2
 * at the reference, on the CPU and WASM backends, with and without activation checkpointing.
 */
import * as tf from '@tensorflow/tfjs-core';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES_DIR, loadFixture, relError, startTestBackend } from '../testing/fixtures';
import { loadModel, type LoadedModel } from './checkpoint';
import { lossAndGrads, type TokenBatch } from './objective';
import type { Params } from './params';
import { dpoHead, preferenceMetrics, scoreSequences } from './preference';
import { readSafetensors } from './safetensors';

interface DpoGolden {
  beta: number;
  label_smoothing: number;
  ids: number[][];
  lengths: number[];
  response_mask: number[][];
  policy_logps: number[];
  reference_logps: number[];
  loss: number;
  loss_at_reference: number;
  chosen_rewards: number[];
  rejected_rewards: number[];
}

const golden = JSON.parse(readFileSync(`${FIXTURES_DIR}train/dpo-golden.json`, 'utf8')) as DpoGolden;
const tensors = readSafetensors(new Uint8Array(readFileSync(`${FIXTURES_DIR}train/dpo-golden.safetensors`))).tensors;
const PREFIX = { policy: 'policy.', grad: 'grad.' };
const settings = { beta: golden.beta, labelSmoothing: golden.label_smoothing };

const batch: TokenBatch = {
  ids: Int32Array.from(golden.ids.flat()),
  B: golden.ids.length,
  T: golden.ids[0].length,
  lengths: golden.lengths,
  labelMask: Uint8Array.from(golden.response_mask.flat()),
};

describe.each(['cpu', 'wasm'] as const)('DPO on the %s backend', (backend) => {
  let reference: LoadedModel;
  let policy: Params;
  beforeAll(async () => {
    await startTestBackend(backend);
    const f = loadFixture('parallel-rot025-f32');
    reference = loadModel(f.configJson, [f.weights]);
    policy = Object.fromEntries(Object.keys(reference.params).map((n) => {
      const t = tensors.get(PREFIX.policy + n)!;
      return [n, tf.tensor(t.data as Float32Array, t.shape)];
    }));
  });

  it('each sequence\'s log-probability sums its response tokens, as the reference computes it', async () => {
    expect(relError(await scoreSequences(reference, batch), golden.reference_logps)).toBeLessThan(1e-5);
    expect(relError(await scoreSequences({ ...reference, params: policy }, batch), golden.policy_logps)).toBeLessThan(1e-5);
  });

  it('is ln 2 at the reference, whatever the data', async () => {
    const ref = await scoreSequences(reference, batch);
    const { loss, grads } = lossAndGrads(reference, ['embed_out.weight'], batch, { head: dpoHead(ref, settings, {}) });
    expect(Math.abs((await loss.data())[0] - Math.LN2)).toBeLessThan(1e-6);
    tf.dispose([loss, ...Object.values(grads)]);
  });

  it.each([false, true])('loss within 1e-4, rewards, and every gradient within 1e-3 of PyTorch (checkpointing %s)', async (checkpoint) => {
    const ref = await scoreSequences(reference, batch);
    const out: { policy?: tf.Tensor1D } = {};
    const names = Object.keys(policy);
    const { loss, grads } = lossAndGrads({ ...reference, params: policy }, names, batch, { head: dpoHead(ref, settings, out), checkpoint });
    expect(Math.abs((await loss.data())[0] - golden.loss)).toBeLessThan(1e-4);
    const m = preferenceMetrics(await out.policy!.data(), ref, settings.beta);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(m.chosenReward).toBeCloseTo(mean(golden.chosen_rewards), 5);
    expect(m.rejectedReward).toBeCloseTo(mean(golden.rejected_rewards), 5);
    for (const n of names) expect(relError((await grads[n].data()) as Float32Array, tensors.get(PREFIX.grad + n)!.data as Float32Array), n).toBeLessThan(1e-3);
    tf.dispose([loss, out.policy!, ...Object.values(grads)]);
  });
});
