/**
 * The speed of the backend in use on a plain float32 n×n×n matMul, read back as every real step
 * is: the bench's roofline, and the start-up probe that decides between a GPU and WASM.
 */
import * as tf from '@tensorflow/tfjs-core';

/**
 * GFLOP/s: the best of at least `reps` timed calls (and of `minMs` of calls, at most 500), after
 * 2 warm-ups. The best, not the mean: on a shared machine a neighbour's burst slows several calls
 * in a row, and the best run is the one least disturbed.
 */
export async function matmulGflops(n: number, reps: number, minMs = 0): Promise<number> {
  const a = tf.randomNormal([n, n]);
  const b = tf.randomNormal([n, n]);
  let best = Infinity;
  const start = performance.now();
  try {
    for (let i = 0; i < 2 + reps || (performance.now() - start < minMs && i < 500); i++) {
      const t0 = performance.now();
      const c = tf.matMul(a, b);
      await c.data(); // includes the read-back
      c.dispose();
      if (i >= 2) best = Math.min(best, performance.now() - t0);
    }
  } finally {
    tf.dispose([a, b]);
  }
  return (2 * n ** 3) / (best / 1000) / 1e9;
}
