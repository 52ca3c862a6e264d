import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { startTestBackend } from '../testing/fixtures';
import { setKeepPackedOperands, XNN_MIN_MACS } from './wasmKernels';

/** x[begin : begin + size] of a row-major array, by brute force. */
function reference(values: Float32Array, shape: number[], begin: number[], size: number[]): number[] {
  const strides = shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1));
  const out: number[] = [];
  const idx = new Array(shape.length).fill(0);
  const total = size.reduce((a, b) => a * b, 1);
  for (let n = 0; n < total; n++) {
    out.push(values[idx.reduce((o, i, d) => o + (begin[d] + i) * strides[d], 0)]);
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d] < size[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

describe('the WASM kernel replacements', () => {
  beforeAll(() => startTestBackend('wasm'));

  it.each([
    { shape: [7], begin: [2], size: [4] },
    { shape: [5, 6], begin: [1, 0], size: [3, 6] },
    { shape: [5, 6], begin: [1, 2], size: [3, 3] },
    { shape: [4, 3, 5], begin: [1, 1, 0], size: [2, 2, 5] },
    { shape: [4, 3, 5], begin: [0, 0, 1], size: [4, 3, 2] },
    { shape: [2, 3, 4, 6], begin: [1, 0, 2, 3], size: [1, 3, 2, 3] },
    { shape: [2, 3, 4, 6], begin: [0, 0, 0, 0], size: [2, 3, 4, 6] },
    { shape: [2, 2, 3, 2, 4], begin: [1, 0, 1, 0, 1], size: [1, 2, 2, 2, 2] },
    { shape: [3, 4], begin: [1, 1], size: [0, 2] },
  ])('slice $shape at $begin, size $size: the same values as a brute-force copy', ({ shape, begin, size }) => {
    const values = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => i * 0.5 - 3);
    const x = tf.tensor(values, shape);
    const y = tf.slice(x, begin, size);
    expect(y.shape).toEqual(size);
    expect(Array.from(y.dataSync())).toEqual(reference(values, shape, begin, size));
    tf.dispose([x, y]);
  });

  it("never copies the whole input out of the heap (tfjs's own Slice calls readSync)", () => {
    const x = tf.zeros([64, 32]);
    const backend = tf.backend() as unknown as { readSync: (...a: unknown[]) => unknown };
    const readSync = backend.readSync;
    let calls = 0;
    backend.readSync = (...a: unknown[]) => {
      calls++;
      return readSync.apply(backend, a);
    };
    try {
      tf.dispose([tf.slice(x, [3, 0], [10, 32]), ...tf.split(x, 4, 1), ...tf.unstack(x, 1)]);
    } finally {
      backend.readSync = readSync;
    }
    expect(calls).toBe(0);
    x.dispose();
  });

  it('unstacks along any axis', () => {
    const values = Float32Array.from({ length: 3 * 4 * 2 }, (_, i) => i);
    const x = tf.tensor3d(values, [3, 4, 2]);
    for (const axis of [0, 1, 2, -1]) {
      const parts = tf.unstack(x, axis);
      const ax = (axis + 3) % 3;
      expect(parts.length).toBe(x.shape[ax]);
      parts.forEach((p, i) => {
        const begin = [0, 0, 0];
        begin[ax] = i;
        const size = [3, 4, 2];
        size[ax] = 1;
        expect(p.shape).toEqual([3, 4, 2].filter((_, d) => d !== ax));
        expect(Array.from(p.dataSync())).toEqual(reference(values, [3, 4, 2], begin, size));
      });
      tf.dispose(parts);
    }
    x.dispose();
  });

  it('slices int32 and bool tensors, and -1 sizes', () => {
    const x = tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3], 'int32');
    expect(Array.from(tf.slice(x, [0, 1], [-1, 2]).dataSync())).toEqual([2, 3, 5, 6]);
    const m = tf.tensor1d([true, false, true, true], 'bool');
    expect(Array.from(tf.slice(m, 1, 2).dataSync())).toEqual([0, 1]);
  });

  it('splits along any axis, as tf.split defines it, with gradients', () => {
    const values = Float32Array.from({ length: 2 * 6 * 4 }, (_, i) => i);
    const x = tf.tensor3d(values, [2, 6, 4]);
    const parts = tf.split(x, [1, 3, 2], 1);
    expect(parts.map((p) => p.shape)).toEqual([[2, 1, 4], [2, 3, 4], [2, 2, 4]]);
    expect(Array.from(parts[1].dataSync())).toEqual(reference(values, [2, 6, 4], [0, 1, 0], [2, 3, 4]));
    const last = tf.split(x, 2, 2);
    expect(Array.from(last[1].dataSync())).toEqual(reference(values, [2, 6, 4], [0, 0, 2], [2, 6, 2]));
    // Slice's gradient (a pad) runs through the same kernels.
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.split(t, 3, 1)[1], 2)))(x);
    expect(Array.from(g.dataSync())).toEqual(Array.from(values, (_, i) => (Math.floor(i / 4) % 6 >= 2 && Math.floor(i / 4) % 6 < 4 ? 2 : 0)));
    tf.dispose([x, ...parts, ...last, g]);
  });

  /** (batch, M, N) of a @ b by brute force, from (batch, M, K) and (batch, K, N) arrays (batch 1 broadcasts). */
  function product(a: Float32Array, b: Float32Array, batchA: number, batchB: number, M: number, K: number, N: number): number[] {
    const out: number[] = [];
    for (let i = 0; i < Math.max(batchA, batchB); i++) {
      const ao = (batchA === 1 ? 0 : i) * M * K;
      const bo = (batchB === 1 ? 0 : i) * K * N;
      for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) {
        let sum = 0;
        for (let k = 0; k < K; k++) sum += a[ao + m * K + k] * b[bo + k * N + n];
        out.push(sum);
      }
    }
    return out;
  }

  const close = (actual: ArrayLike<number>, expected: number[]) => {
    let err = 0;
    for (let i = 0; i < expected.length; i++) err = Math.max(err, Math.abs(actual[i] - expected[i]));
    return err;
  };

  it.each([
    { a: [4, 32, 64], b: [4, 64, 48], tA: false, tB: false },
    { a: [4, 64, 32], b: [4, 64, 48], tA: true, tB: false },
    { a: [4, 32, 64], b: [4, 48, 64], tA: false, tB: true },
    { a: [4, 64, 32], b: [4, 48, 64], tA: true, tB: true },
    { a: [2, 3, 32, 64], b: [2, 3, 64, 40], tA: false, tB: false },
    { a: [1, 32, 64], b: [3, 64, 48], tA: false, tB: false },
    { a: [3, 32, 64], b: [64, 48], tA: false, tB: false },
    { a: [3, 32, 64], b: [48, 64], tA: false, tB: true },
    { a: [96, 64], b: [48, 64], tA: false, tB: true },
    { a: [64, 96], b: [64, 48], tA: true, tB: false },
    { a: [2, 4, 8], b: [2, 4, 8], tA: false, tB: true }, // below XNN_MIN_MACS: tfjs's own loop
    // Up to 4 rows times a shared Bᵀ: dot products over B's rows in place (decoding from W).
    { a: [1, 768], b: [2304, 768], tA: false, tB: true },
    { a: [1, 1, 770], b: [300, 770], tA: false, tB: true },
    { a: [2, 2, 256], b: [512, 256], tA: false, tB: true },
    { a: [5, 256], b: [512, 256], tA: false, tB: true }, // 5 rows: the transposed copy and XNNPACK again
    { a: [3, 8], b: [5, 8], tA: false, tB: true }, // small: W transposed, then the plain product
    { a: [1, 3, 8], b: [5, 8], tA: false, tB: true },
  ])('matMul $a × $b (transposeA $tA, transposeB $tB) equals the brute-force product', ({ a, b, tA, tB }) => {
    const av = Float32Array.from({ length: a.reduce((x, y) => x * y, 1) }, (_, i) => Math.sin(i));
    const bv = Float32Array.from({ length: b.reduce((x, y) => x * y, 1) }, (_, i) => Math.cos(i * 0.7));
    const at = tf.tensor(av, a);
    const bt = tf.tensor(bv, b);
    const y = tf.matMul(at, bt, tA, tB);
    // Brute force on untransposed copies made with tf.transpose (a kernel these fixes leave alone).
    const ra = a.length;
    const rb = b.length;
    const a2 = tA ? tf.transpose(at, [...a.slice(0, -2).map((_, i) => i), ra - 1, ra - 2]) : at;
    const b2 = tB ? tf.transpose(bt, [...b.slice(0, -2).map((_, i) => i), rb - 1, rb - 2]) : bt;
    const [M, K] = a2.shape.slice(-2);
    const N = b2.shape[b2.shape.length - 1];
    const batchA = tf.util.sizeFromShape(a2.shape.slice(0, -2));
    const batchB = tf.util.sizeFromShape(b2.shape.slice(0, -2));
    const expected = product(a2.dataSync() as Float32Array, b2.dataSync() as Float32Array, batchA, batchB, M, K, N);
    expect(y.shape).toEqual([...tf.backend_util.assertAndGetBroadcastShape(a.slice(0, -2), b.slice(0, -2)), M, N]);
    expect(close(y.dataSync(), expected)).toBeLessThan(1e-4);
    expect(M * K * N >= XNN_MIN_MACS || a[0] === 2 || b[0] === 5).toBe(true);
    tf.dispose([at, bt, y, a2, b2]);
  });

  it('gives attention-shaped products the same gradients as the CPU backend', async () => {
    const q = tf.randomNormal([2, 4, 64, 32], 0, 1, 'float32', 1);
    const k = tf.randomNormal([2, 4, 64, 32], 0, 1, 'float32', 2);
    const w = tf.randomNormal([2, 4, 64, 64], 0, 1, 'float32', 3);
    const f = (x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.matMul(tf.softmax(tf.matMul(x, y, false, true)), y), tf.slice(w, [0, 0, 0, 0], [-1, -1, -1, 32])));
    const onWasm = tf.grads(f)([q, k]).map((g) => Array.from(g.dataSync()));
    const data = [q, k, w].map((t) => ({ v: t.dataSync().slice(), s: t.shape }));
    await tf.setBackend('cpu');
    const [q2, k2, w2] = data.map((d) => tf.tensor(d.v, d.s));
    const f2 = (x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.matMul(tf.softmax(tf.matMul(x, y, false, true)), y), tf.slice(w2, [0, 0, 0, 0], [-1, -1, -1, 32])));
    const onCpu = tf.grads(f2)([q2, k2]).map((g) => Array.from(g.dataSync()));
    await tf.setBackend('wasm');
    for (let i = 0; i < 2; i++) expect(close(onWasm[i], onCpu[i])).toBeLessThan(1e-3);
  });
});

describe('products that leave no packed copies behind (training)', () => {
  beforeAll(() => startTestBackend('wasm'));

  it('give the same values, and do not keep a packed copy of each weight they read', async () => {
    // 48 weights of 512×512 (1 MiB each), each the right operand of one product with 64 rows:
    // XNNPACK packs each, and keeps the packing while the weight lives, unless told not to.
    const weights = Array.from({ length: 48 }, (_, i) => tf.randomNormal([512, 512], 0, 1, 'float32', i));
    const x = tf.randomNormal([64, 512], 0, 1, 'float32', 99);
    const heap = () => (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.buffer.byteLength;
    const run = async () => {
      const sums: number[] = [];
      for (const w of weights) {
        const y = tf.matMul(x, w);
        sums.push((await y.data())[7]);
        y.dispose();
      }
      return sums;
    };
    setKeepPackedOperands(false);
    const before = heap();
    const fresh = await run();
    const grownFresh = heap() - before;
    setKeepPackedOperands(true);
    const kept = await run();
    const grownKept = heap() - before;
    expect(fresh).toEqual(kept);
    // Without: at most a few transient copies. With: 48 MiB of packings stay (the heap grows for them).
    expect(grownFresh).toBeLessThan(8 * 2 ** 20);
    expect(grownKept).toBeGreaterThan(40 * 2 ** 20);
    tf.dispose([...weights, x]);
  });
});
