import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { AdamW } from '../train/adamw';
import { gradControl, optimizerOnDevice } from '../train/deviceOptimizer';
import { startTestBackend } from '../testing/fixtures';

/** x·w by hand in float64, from the tensors' values: no backend kernel involved. */
function matMulByHand(x: tf.Tensor2D, w: tf.Tensor2D): Float64Array {
  const [m, k] = x.shape;
  const n = w.shape[1];
  const [xv, wv] = [x.dataSync(), w.dataSync()];
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) for (let p = 0; p < k; p++) out[i * n + j] += xv[i * k + p] * wv[p * n + j];
  return out;
}

describe('the WASM optimizer kernels', () => {
  beforeAll(() => startTestBackend('wasm'));

  it('are what the trainer uses on WASM', () => {
    expect(optimizerOnDevice()).toBe(true);
  });

  it('give a stepped weight a new tensor, so no product reuses a packed copy of its old values', () => {
    // 8 × 256 · 256 × 256: big enough that tfjs-wasm hands the product to XNNPACK, which keeps a
    // packed copy of the right operand for as long as that tensor lives.
    const x = tf.randomNormal([8, 256], 0, 1, 'float32', 1) as tf.Tensor2D;
    const w = tf.randomNormal([256, 256], 0, 1, 'float32', 2) as tf.Tensor2D;
    tf.matMul(x, w).dispose(); // packs w
    const opt = new AdamW(() => true, { weightDecay: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8 });
    const g = tf.randomNormal([256, 256], 0, 1, 'float32', 3);
    const loss = tf.scalar(1);
    const ctl = gradControl({ w: g }, loss, 1);
    const next = opt.stepOnDevice({ w }, { w: g }, 0.1, ctl).w as tf.Tensor2D;
    expect(w.isDisposed).toBe(true); // the old weight went as the new one was written
    const y = tf.matMul(x, next);
    const want = matMulByHand(x, next);
    const got = y.dataSync();
    let worst = 0;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
    expect(worst).toBeLessThan(1e-3);
    tf.dispose([x, g, loss, ctl, next, y]);
    opt.dispose();
  });
});
