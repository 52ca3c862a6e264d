/**
 * The hand-assembled SIMD row products (rowDots.ts, wasmBinary.ts) against float64 sums, on a
 * memory of their own (shared, as the threaded build's, and not) and through the WASM backend's
 * Bf16RowDots kernel on its own heap.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { bf16Copy, bf16Product, bf16RowDotsOn, toBf16Rows, toBf16Values } from '../model/bf16Weights';
import { relError, startTestBackend } from '../testing/fixtures';
import { rowDotsFit, rowDotsFor } from './rowDots';

/** Values that are bfloat16 values (low 16 bits cleared), of both signs and a spread of magnitudes. */
function bf16Values(n: number, seed: number): Float32Array {
  return toBf16Values(Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + seed) * Math.exp(Math.cos(i * 0.11) * 3)));
}

/** out (M, N) = a (M, K) · Wᵀ in float64. */
function reference(a: Float32Array, w: Float32Array, M: number, K: number, N: number): Float64Array {
  const out = new Float64Array(M * N);
  for (let r = 0; r < M; r++) for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) out[r * N + n] += a[r * K + k] * w[n * K + k];
  return out;
}

describe('rowDots: a few rows times Wᵀ in WASM SIMD', () => {
  it.each([
    { M: 1, K: 16, N: 1, shared: false },
    { M: 1, K: 576, N: 193, shared: false },
    { M: 3, K: 1536, N: 64, shared: true },
    { M: 16, K: 48, N: 7, shared: true },
  ])('$M × $K by $N × $K (shared memory: $shared): float32 and bfloat16 W equal the float64 sums', ({ M, K, N, shared }) => {
    const memory = new WebAssembly.Memory({ initial: 64, maximum: 65536, shared } as WebAssembly.MemoryDescriptor);
    const kernels = rowDotsFor(memory);
    const a = bf16Values(M * K, 1).map((x, i) => x + i * 1e-3); // a needs no rounding
    const w = bf16Values(N * K, 2);
    const at = { a: 64, w: 64 + M * K * 4 };
    const w16At = at.w + N * K * 4;
    const outAt = w16At + N * K * 2;
    new Float32Array(memory.buffer, at.a, M * K).set(a);
    new Float32Array(memory.buffer, at.w, N * K).set(w);
    new Uint16Array(memory.buffer, w16At, N * K).set(toBf16Rows(w));
    const expected = reference(a, w, M, K, N);
    for (const [kind, wAt] of [['f32', at.w], ['bf16', w16At]] as const) {
      const out = new Float32Array(memory.buffer, outAt, M * N).fill(NaN);
      kernels.run(kind, at.a, wAt, outAt, M, K, N);
      expect(relError(out, expected), kind).toBeLessThan(1e-6);
    }
  });

  it('takes K in multiples of 16 only, and says so', () => {
    expect([rowDotsFit(1, 16, 1), rowDotsFit(1, 24, 1), rowDotsFit(0, 16, 1), rowDotsFit(1, 16, 0)]).toEqual([true, false, false, false]);
    const kernels = rowDotsFor(new WebAssembly.Memory({ initial: 1 }));
    expect(() => kernels.run('f32', 0, 0, 0, 1, 24, 1)).toThrow('rowDots: K = 24 is not a positive multiple of 16, or M = 1 or N = 1 is 0');
  });
});

describe('bfloat16 copies on the WASM backend', () => {
  beforeAll(() => startTestBackend('wasm'));

  it('the backend has the kernel; a copy of bfloat16 values multiplies as W does; other values get no copy', async () => {
    expect(bf16RowDotsOn()).toBe(true);
    const [M, K, N] = [4, 320, 130];
    const w = tf.tensor2d(bf16Values(N * K, 3), [N, K]);
    const x = tf.tensor2d(bf16Values(M * K, 4), [M, K]);
    const copy = bf16Copy(w)!;
    expect(copy.of).toBe(w);
    expect(copy.rows.shape).toEqual([(N * K) / 2]);
    const y = bf16Product(x, copy);
    expect(y.shape).toEqual([M, N]);
    expect(relError(await y.data(), reference(await x.data() as Float32Array, await w.data() as Float32Array, M, K, N))).toBeLessThan(1e-6);
    const rounded = tf.add(w, 1e-3) as tf.Tensor2D; // no longer bfloat16 values
    expect(bf16Copy(rounded)).toBeNull();
    const narrow = tf.tensor2d(bf16Values(8 * 24, 5), [8, 24]); // K = 24: not the kernel's
    expect(bf16Copy(narrow)).toBeNull();
    tf.dispose([w, x, copy.rows, y, rounded, narrow]);
  });
});
