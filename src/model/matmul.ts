/**
 * Matrix products, written for the WASM backend's kernels.
 *
 * Why: stock tfjs-wasm 4.22 ran transposed products in a naive loop (1024×512 by 512×2048: plain
 * ~27 GFLOP/s, transposeB ~2.3, transposeA ~0.5). backend/wasmKernels.ts now owns that fix for
 * every product (it transposes inside the kernel and hands XNNPACK plain matrices), and the two
 * forms cost the same there: re-measured in Node, WASM on 1 thread, 1024 rows by Pythia-70m's
 * 512/1536/2048 widths, explicit 20–33 GFLOP/s against transposed flags 21–28, within that run's
 * noise. A kept Wᵀ (decodeLayout.ts) is made once and reused by every decoding step, which the
 * flags could not do. Without one, the forward passes transposeB: then one to four rows (decoding
 * from W, as a trainer's samples do) take the kernel's dot products over W in place, where a
 * transposed copy of every W per token made a 16-token sample of the Pythia-160m shape take 19 s.
 */
import * as tf from '@tensorflow/tfjs-core';

/**
 * y = x Wᵀ for W in the PyTorch (out, in) layout, as a differentiable op:
 * forward x·(Wᵀ), backward dx = dy·W and dW = dyᵀ·x, all untransposed products.
 * `wT`, if given, is a precomputed Wᵀ (inference with frozen weights).
 */
export function matMulWT(x: tf.Tensor2D, w: tf.Tensor2D, wT?: tf.Tensor2D): tf.Tensor2D {
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xIn, wIn, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
    save([xIn, wIn]);
    return {
      value: wT ? tf.matMul(xIn, wT) : tf.matMul(xIn, wIn, false, true), // (N, in) @ (in, out) → (N, out)
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, ws] = saved as [tf.Tensor2D, tf.Tensor2D];
        return [tf.matMul(dy as tf.Tensor2D, ws), tf.matMul(tf.transpose(dy), xs)]; // (N, in), (out, in)
      },
    };
  });
  return f(x, w) as tf.Tensor2D;
}

/**
 * y = x Wᵀ for a frozen W: the same forward as matMulWT, but W is closed over instead of being
 * a customGrad input, so the backward computes dx = dy·W only and never the dW = dyᵀ·x product
 * (tfjs runs a custom gradFunc whole and drops the outputs nobody asked for).
 * W must outlive the backward pass: a parameter, not a tensor made inside the differentiated function.
 */
export function matMulWTFrozen(x: tf.Tensor2D, w: tf.Tensor2D, wT?: tf.Tensor2D): tf.Tensor2D {
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xIn] = args as [tf.Tensor2D];
    return {
      value: wT ? tf.matMul(xIn, wT) : tf.matMul(xIn, w, false, true), // (N, in) @ (in, out) → (N, out)
      gradFunc: (dy: tf.Tensor) => tf.matMul(dy as tf.Tensor2D, w), // (N, out) @ (out, in) → (N, in)
    };
  });
  return f(x) as tf.Tensor2D;
}

/**
 * y = x Wᵀ for a frozen W held only as Wᵀ (in, out): see decodeLayout.ts. Forward x·(Wᵀ); backward
 * dx = dy·W, read from Wᵀ with transposeB (the WASM kernel transposes it for that product only).
 */
export function matMulFrozenT(x: tf.Tensor2D, wT: tf.Tensor2D): tf.Tensor2D {
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xIn] = args as [tf.Tensor2D];
    return {
      value: tf.matMul(xIn, wT), // (N, in) @ (in, out) → (N, out)
      gradFunc: (dy: tf.Tensor) => tf.matMul(dy as tf.Tensor2D, wT, false, true), // (N, out) @ (in, out)ᵀ → (N, in)
    };
  });
  return f(x) as tf.Tensor2D;
}
