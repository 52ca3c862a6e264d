/**
 * The JavaScript loops for small Add, Sub, Multiply and Softmax on WASM (wasmSmallOps.ts) against
 * the CPU backend: the binary ops bit for bit (one float32 rounding each, as XNNPACK's), softmax
 * within float32 rounding; shapes they do not take (a broadcast row) and big tensors go to tfjs's
 * own kernels and still agree.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { startTestBackend } from '../testing/fixtures';
import { SMALL_OP_MAX } from './wasmSmallOps';

const values = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.77 + seed) * Math.exp(Math.cos(i * 0.3 + seed) * 4));

/** f on the named backend, read back. */
async function on(backend: 'wasm' | 'cpu', f: () => tf.Tensor): Promise<Float32Array> {
  await startTestBackend(backend);
  const t = f();
  const out = (await t.data()) as Float32Array;
  t.dispose();
  return out;
}

describe('small float32 ops in JavaScript on WASM', () => {
  const shapes: [number[], number[]][] = [
    [[1, 576], [1, 576]], // the residual add of a decoding step
    [[1, 3, 3, 11], []], // the attention's scale
    [[], [2, 5]],
    [[4, 3], [3]], // a broadcast row: tfjs's own kernel
    [[2, SMALL_OP_MAX], [2, SMALL_OP_MAX]], // too big: tfjs's own kernel
  ];
  it.each(['add', 'sub', 'mul'] as const)('%s gives the CPU backend\'s bits', async (op) => {
    for (const [sa, sb] of shapes) {
      const a = values(tf.util.sizeFromShape(sa), 1);
      const b = values(tf.util.sizeFromShape(sb), 2);
      const f = () => tf[op](tf.tensor(a, sa), tf.tensor(b, sb));
      expect(await on('wasm', f), `${sa} ${op} ${sb}`).toEqual(await on('cpu', f));
    }
  });

  it('softmax agrees with the CPU backend within float32 rounding, on small rows and big ones', async () => {
    for (const shape of [[1, 3, 3, 11], [2, 7], [4, SMALL_OP_MAX]]) {
      const x = values(tf.util.sizeFromShape(shape), 3);
      const f = () => tf.softmax(tf.tensor(x, shape));
      const [w, c] = [await on('wasm', f), await on('cpu', f)];
      expect(w.reduce((d, v, i) => Math.max(d, Math.abs(v - c[i])), 0), `${shape}`).toBeLessThan(1e-6);
    }
  });

  it('int32 tensors keep tfjs\'s own kernels', async () => {
    const f = () => tf.add(tf.tensor1d([1, 2, 3], 'int32'), tf.tensor1d([4, 5, 6], 'int32'));
    await startTestBackend('wasm');
    const t = f();
    expect(t.dtype).toBe('int32');
    expect(Array.from(await t.data())).toEqual([5, 7, 9]);
    t.dispose();
  });
});
