import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Params } from '../model/params';
import { startTestBackend } from '../testing/fixtures';
import { accumulate, clipByGlobalNorm, globalNorm } from './gradients';

/** a = [3, 4], b = [[12]]: global norm √(9 + 16 + 144) = 13. */
const grads13 = (): Params => ({ a: tf.tensor1d([3, 4]), b: tf.tensor2d([[12]]) });

const values = (p: Params): Record<string, number[]> => Object.fromEntries(Object.entries(p).map(([n, t]) => [n, Array.from(t.dataSync())]));

describe.each(['cpu', 'wasm'] as const)('gradients on the %s backend', (backend) => {
  beforeAll(() => startTestBackend(backend));

  describe('globalNorm', () => {
    it('is the L2 norm over all elements of all tensors', async () => {
      const g = grads13();
      expect(await globalNorm(g)).toBe(13);
      tf.dispose(Object.values(g));
    });

    it('is NaN when any gradient is NaN, and Infinity when one is infinite or the squares overflow', async () => {
      const nan = { a: tf.tensor1d([1, NaN]), b: tf.tensor1d([2]) };
      const inf = { a: tf.tensor1d([1, 2]), b: tf.tensor1d([-Infinity]) };
      const huge = { a: tf.tensor1d([1e30]) }; // finite, but 1e60 overflows float32
      expect(await globalNorm(nan)).toBeNaN();
      expect(await globalNorm(inf)).toBe(Infinity);
      expect(await globalNorm(huge)).toBe(Infinity);
      tf.dispose([...Object.values(nan), ...Object.values(inf), ...Object.values(huge)]);
    });

    it('refuses an empty set of gradients', async () => {
      await expect(globalNorm({})).rejects.toThrow(/no gradients/);
    });
  });

  describe('clipByGlobalNorm (clip_grad_norm_)', () => {
    it('scales every gradient by maxNorm / (norm + 1e-6) when the norm is above maxNorm', async () => {
      const g = grads13();
      const r = await clipByGlobalNorm(g, 1);
      expect(r.norm).toBe(13);
      expect(r.clipped).toBe(true);
      const s = 1 / (13 + 1e-6);
      const v = values(r.grads);
      v.a.forEach((x, i) => expect(x).toBeCloseTo([3, 4][i] * s, 7));
      expect(v.b[0]).toBeCloseTo(12 * s, 7);
      expect(await globalNorm(r.grads)).toBeCloseTo(1, 6);
      expect(values(g)).toEqual({ a: [3, 4], b: [12] }); // the inputs are untouched
      tf.dispose([...Object.values(g), ...Object.values(r.grads)]);
    });

    it('at norm = maxNorm it still scales, by 13/(13 + 1e-6), as torch does', async () => {
      const g = grads13();
      const r = await clipByGlobalNorm(g, 13);
      expect(r.clipped).toBe(true);
      tf.dispose([...Object.values(g), ...Object.values(r.grads)]);
    });

    it('leaves gradients below maxNorm as they are, and maxNorm 0 turns clipping off, in new tensors either way', async () => {
      for (const maxNorm of [13.5, 0]) {
        const g = grads13();
        const r = await clipByGlobalNorm(g, maxNorm);
        expect(r).toMatchObject({ norm: 13, clipped: false });
        expect(r.grads.a).not.toBe(g.a);
        tf.dispose(Object.values(g)); // the caller always disposes what it passed
        expect(values(r.grads)).toEqual({ a: [3, 4], b: [12] });
        tf.dispose(Object.values(r.grads));
      }
    });

    it('reports a non-finite norm and does not scale, so the caller can skip the step', async () => {
      const g = { a: tf.tensor1d([1, Infinity]), b: tf.tensor1d([NaN]) };
      const r = await clipByGlobalNorm(g, 1);
      expect(Number.isFinite(r.norm)).toBe(false);
      expect(r.clipped).toBe(false);
      expect(values(r.grads).a).toEqual([1, Infinity]);
      tf.dispose([...Object.values(g), ...Object.values(r.grads)]);
    });

    it('rejects a negative or NaN maxNorm', async () => {
      const g = grads13();
      await expect(clipByGlobalNorm(g, -1)).rejects.toThrow(/maxNorm/);
      await expect(clipByGlobalNorm(g, NaN)).rejects.toThrow(/maxNorm/);
      tf.dispose(Object.values(g));
    });
  });

  describe('accumulate', () => {
    it('sums scaled micro-batch gradients and consumes both the running sum and the micro-batch', () => {
      const micro = [
        { w: tf.tensor2d([[1, 2]]), b: tf.tensor1d([4]) },
        { w: tf.tensor2d([[3, -2]]), b: tf.tensor1d([8]) },
        { w: tf.tensor2d([[5, 0]]), b: tf.tensor1d([0]) },
      ];
      let sum: Params | null = null;
      const consumed: tf.Tensor[] = [];
      for (const g of micro) {
        if (sum) consumed.push(...Object.values(sum));
        consumed.push(...Object.values(g));
        sum = accumulate(sum, g, 0.25);
      }
      expect(consumed.every((t) => t.isDisposed)).toBe(true);
      expect(sum!.w.shape).toEqual([1, 2]);
      expect(values(sum!)).toEqual({ w: [2.25, 0], b: [3] }); // ¼·(1+3+5), ¼·(2−2+0), ¼·(4+8+0)
      tf.dispose(Object.values(sum!));
    });

    it('with scale 1 and no running sum, hands back the micro-batch tensors themselves (no second set of gradients)', () => {
      const g = { w: tf.tensor1d([1.5, -2]) };
      const before = tf.memory().numBytes;
      const sum = accumulate(null, g, 1);
      expect(sum.w).toBe(g.w);
      expect(tf.memory().numBytes).toBe(before);
      expect(values(sum)).toEqual({ w: [1.5, -2] });
      tf.dispose(Object.values(sum));
    });

    it('carries NaN into the sum, where globalNorm finds it', async () => {
      let sum = accumulate(null, { w: tf.tensor1d([1, 2]) }, 0.5);
      sum = accumulate(sum, { w: tf.tensor1d([NaN, 2]) }, 0.5);
      expect(await globalNorm(sum)).toBeNaN();
      tf.dispose(Object.values(sum));
    });

    it('refuses micro-batches over different parameters or shapes', () => {
      const sum = accumulate(null, { w: tf.tensor1d([1, 2]) }, 1);
      const other = { v: tf.tensor1d([1, 2]) };
      const reshaped = { w: tf.tensor2d([[1, 2]]) };
      expect(() => accumulate(sum, other, 1)).toThrow(/different parameters/);
      expect(() => accumulate(sum, reshaped, 1)).toThrow(/shape/);
      tf.dispose([...Object.values(sum), ...Object.values(other), ...Object.values(reshaped)]);
    });
  });

  it('leaks no tensors: norm, clip and accumulate over several rounds', async () => {
    const before = tf.memory().numTensors;
    for (let round = 0; round < 3; round++) {
      let sum: Params | null = null;
      for (let micro = 0; micro < 2; micro++) sum = accumulate(sum, grads13(), 0.5);
      const r = await clipByGlobalNorm(sum!, 1);
      tf.dispose([...Object.values(sum!), ...Object.values(r.grads)]);
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});
