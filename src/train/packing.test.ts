/**
 * Sequence packing is exact: several examples in one row, with the block-diagonal mask and
 * positions restarting at each example, give each example the loss and the gradients it has
 * alone, on every family and every backend (WebGPU's fused GPT-NeoX attention kernel included).
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeBatch, packBatch } from '../data/batch';
import type { EncodedExample } from '../data/types';
import { relError, startTestBackend } from '../testing/fixtures';
import type { ModelType } from '../model/config';
import { batchLoss, batchTargets, lossAndGrads, type TokenBatch } from '../model/objective';
import { disposeParams, initRandomData, paramsFromData, paramSpecs, type Params } from '../model/params';
import { tinyConfig } from '../model/tinyConfig';

const FAMILIES: ModelType[] = ['gpt_neox', 'llama', 'qwen3', 'gpt2'];
const LENGTHS = [5, 3, 7, 2, 6];
const T = 16;
const PACKS = [[0, 2], [1, 3, 4]]; // 12 and 11 tokens, the rest padding

function examples(): EncodedExample[] {
  let seed = 11;
  return LENGTHS.map((n, k) => {
    const ids = Array.from({ length: n }, () => (seed = (seed * 1103515245 + 12345) % 2147483648) % 50000);
    const loss = new Uint8Array(n).fill(1);
    loss[0] = 0;
    if (k === 2) loss.fill(0, 0, 4); // a prompt that carries no loss
    return { ids, loss, fullLength: n, truncated: 0, completionStart: 1 };
  });
}

/** The packed batch with loss only on example k's tokens: example k's own mean loss. */
function onlyExample(packed: TokenBatch, k: number): TokenBatch {
  const labelMask = new Uint8Array(packed.labelMask!.length);
  let at = PACKS.findIndex((p) => p.includes(k)) * T;
  for (const e of PACKS.find((p) => p.includes(k))!) {
    if (e === k) labelMask.set(packed.labelMask!.subarray(at, at + LENGTHS[e]), at);
    at += LENGTHS[e];
  }
  return { ...packed, labelMask };
}

// Every backend; WebGPU with the fused kernels (GPT-NeoX's attention kernel reads the positions
// itself) and with tfjs's stock ones, which run the same composite as the CPU backend: the
// gradients there are left to the CPU's check.
describe.each(['cpu', 'wasm', 'webgpu', 'webgpu-stock'] as const)('on the %s backend', (backend) => {
  beforeAll(() => startTestBackend(backend));

  describe.each(FAMILIES)('%s', (family) => {
    const config = tinyConfig({ hiddenSize: 32, numLayers: 2, numHeads: 4, seed: 5, family });
    let params: Params;
    beforeAll(() => {
      params = paramsFromData(config, initRandomData(config, 5, 0.3));
    });
    afterAll(() => disposeParams(params));

    it('each example\'s loss in a packed batch equals its loss alone within 1e-5', async () => {
      const ex = examples();
      const packed = packBatch(PACKS.map((p) => p.map((e) => ex[e])), 0, T);
      const ctx = { params, config };
      for (let k = 0; k < ex.length; k++) {
        const alone = tf.tidy(() => batchLoss(ctx, makeBatch([ex[k]], 0, { padding: 'longest', maxLength: T })));
        const inPack = tf.tidy(() => batchLoss(ctx, onlyExample(packed, k)));
        const [a, p] = [(await alone.data())[0], (await inPack.data())[0]];
        tf.dispose([alone, inPack]);
        expect(Math.abs(p - a), `example ${k}: ${p} packed, ${a} alone`).toBeLessThan(1e-5 * Math.max(1, Math.abs(a)));
      }
    });

    it.skipIf(backend === 'webgpu-stock')('the gradients of a packed batch are the sum over its examples', async () => {
      const ex = examples();
      const names = paramSpecs(config).map((s) => s.name);
      const ctx = { params, config };
      const packed = packBatch(PACKS.map((p) => p.map((e) => ex[e])), 0, T);
      const total = batchTargets(packed).rows.length;
      // The packed loss is the mean over all target tokens: each example's mean, weighted by its share.
      const want: Record<string, Float32Array> = {};
      for (let k = 0; k < ex.length; k++) {
        const alone = makeBatch([ex[k]], 0, { padding: 'longest', maxLength: T });
        const share = batchTargets(alone).rows.length / total;
        const { loss, grads } = lossAndGrads(ctx, names, alone);
        for (const n of names) {
          const g = (await grads[n].data()) as Float32Array;
          want[n] ??= new Float32Array(g.length);
          for (let i = 0; i < g.length; i++) want[n][i] += share * g[i];
        }
        tf.dispose([loss, ...Object.values(grads)]);
      }
      // Activation checkpointing passes the positions through its own path: checked once, on the CPU.
      for (const checkpoint of backend === 'cpu' ? [false, true] : [false]) {
        const { loss, grads } = lossAndGrads(ctx, names, packed, { checkpoint });
        for (const n of names) expect(relError((await grads[n].data()) as Float32Array, want[n]), `${n}${checkpoint ? ' (checkpointed)' : ''}`).toBeLessThan(1e-4);
        tf.dispose([loss, ...Object.values(grads)]);
      }
    });
  });
});
