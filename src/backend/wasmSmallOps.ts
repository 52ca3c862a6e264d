/**
 * Add, Sub, Multiply and Softmax on small float32 tensors in JavaScript, for the WASM backend.
 *
 * Why: the threaded build hands every XNNPACK op to its thread pool, and waking the pool costs
 * more than a few hundred additions. A decoding step runs about four such ops per layer on one
 * row (the residual adds, the attention's scale and softmax): measured in Chromium on
 * SmolLM2-135M's shape, decoding ran at 29.3 tokens/s with two threads against 38.5 with one.
 * Below SMALL_OP_MAX values these loops run in the calling thread instead; bigger tensors (every
 * training op) keep XNNPACK and its threads. Sums and products round once to float32, as
 * XNNPACK's do, so the binary ops give the same bits; softmax uses Math.exp (XNNPACK its own
 * polynomial), within a float32 rounding or two.
 */
import * as tf from '@tensorflow/tfjs-core';
import { floatOutput, wrapWasmKernel } from './wasmHeap';

/** Tensors of at most this many values take the JavaScript loops. */
export const SMALL_OP_MAX = 1 << 14;

const OPS = {
  Add: (x: number, y: number) => x + y,
  Sub: (x: number, y: number) => x - y,
  Multiply: (x: number, y: number) => x * y,
} as const;

/** The binary op in JavaScript where both are float32, small, and of one shape or one of them a single value; else tfjs's own. */
function binary(op: (x: number, y: number) => number, original: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const [na, nb] = [tf.util.sizeFromShape(a.shape), tf.util.sizeFromShape(b.shape)];
    const sameShape = tf.util.arraysEqual(a.shape, b.shape);
    const outShape = sameShape ? a.shape : nb === 1 && a.shape.length >= b.shape.length ? a.shape : na === 1 && b.shape.length >= a.shape.length ? b.shape : null;
    if (!outShape || a.dtype !== 'float32' || b.dtype !== 'float32' || Math.max(na, nb) > SMALL_OP_MAX) return original(args);
    const {
      out,
      ins: [x, y],
      o,
    } = floatOutput(args.backend, outShape, [a, b]);
    if (na === nb) for (let i = 0; i < o.length; i++) o[i] = op(x[i], y[i]);
    else if (nb === 1) for (let i = 0, v = y[0]; i < o.length; i++) o[i] = op(x[i], v);
    else for (let i = 0, v = x[0]; i < o.length; i++) o[i] = op(v, y[i]);
    return out;
  };
}

/** Softmax over the last axis (the only one tfjs's Softmax takes) in JavaScript for small float32 tensors. */
function softmax(original: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { logits } = args.inputs as { logits: tf.TensorInfo };
    const n = tf.util.sizeFromShape(logits.shape);
    const C = logits.shape[logits.shape.length - 1];
    if (logits.dtype !== 'float32' || n > SMALL_OP_MAX || n === 0) return original(args);
    const {
      out,
      ins: [x],
      o,
    } = floatOutput(args.backend, logits.shape, [logits]);
    for (let r = 0; r < n; r += C) {
      let max = -Infinity;
      for (let i = r; i < r + C; i++) max = Math.max(max, x[i]);
      let sum = 0;
      for (let i = r; i < r + C; i++) sum += o[i] = Math.exp(x[i] - max);
      for (let i = r; i < r + C; i++) o[i] /= sum;
    }
    return out;
  };
}

let registered = false;

/** Wraps 'wasm''s Add, Sub, Multiply and Softmax, once. */
export function registerSmallOps(): void {
  if (registered) return;
  registered = true;
  for (const [name, op] of Object.entries(OPS)) wrapWasmKernel(name, (original) => binary(op, original));
  wrapWasmKernel('Softmax', softmax);
}
