/**
 * The optimizer step on WASM as two kernels over the heap, with the contract of the WebGPU ones
 * (backend/webgpu/optimizer.ts, train/deviceOptimizer.ts): the global gradient norm into a small
 * control tensor, then AdamW over each parameter in one pass that reads the clip factor and the
 * finite flag from it and updates both moments in place.
 *
 * Why: the stock path (AdamW.step, clipByGlobalNorm) builds the step out of ~14 element-wise ops
 * per parameter, each a new tensor the parameter's size, and clips by making a scaled copy of
 * every gradient. Measured with the estimate's accounting, Pythia-160m's full fine-tune peaked in
 * that update (the trained weights twice over, the scaled gradients, and up to 7 temporaries the
 * size of the 154 MB embedding): 5.0 GB, over the 4 GiB heap. Here the update adds one
 * parameter's size: the moments change in place, and each new parameter replaces its old one.
 */
import * as tf from '@tensorflow/tfjs-core';
import { OPTIMIZER_KERNELS } from '../train/deviceOptimizer';
import type { WasmBackendLike } from './wasmHeap';

interface KernelArgs {
  inputs: Record<string, tf.TensorInfo>;
  backend: unknown;
  attrs?: Record<string, unknown>;
}

/** A float32 view of a tensor's bytes in the heap; taken after any allocation (a growing heap moves). */
const view = (b: WasmBackendLike, t: tf.TensorInfo): Float32Array => {
  if (t.dtype !== 'float32') throw new Error(`the optimizer kernels take float32 tensors, got ${t.dtype}`);
  return b.typedArrayFromHeap(t) as Float32Array;
};

/**
 * ctl = [clip factor, finite flag, norm, loss] from inputs loss, g0…g(n−1) and an optional prev
 * (an earlier ctl whose 0 flag carries over), as clip_grad_norm_: factor maxNorm / (norm + 1e-6)
 * where that is below 1 and maxNorm > 0, else 1. The squares are summed in float64.
 */
function gradNorm({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const b = backend as WasmBackendLike;
  const maxNorm = attrs!.maxNorm as number;
  let sumSq = 0;
  for (const key of Object.keys(inputs)) {
    if (key === 'loss' || key === 'prev') continue;
    const g = view(b, inputs[key]);
    for (let i = 0; i < g.length; i++) sumSq += g[i] * g[i];
  }
  const norm = Math.fround(Math.sqrt(sumSq));
  const loss = view(b, inputs.loss)[0];
  const ok = Number.isFinite(norm) && Number.isFinite(loss) && (!inputs.prev || view(b, inputs.prev)[1] > 0.5);
  const f = maxNorm / (norm + 1e-6);
  const out = b.makeOutput([4], 'float32');
  view(b, out).set([maxNorm > 0 && ok && f < 1 ? f : 1, ok ? 1 : 0, norm, loss]);
  return out;
}

/**
 * One AdamW step of one parameter, torch.optim.AdamW's formula as in train/adamw.ts, on the
 * gradient times ctl's clip factor: m and v (flat, the optimizer's own) change in place; the new
 * parameter is a new tensor. Not in place: tfjs-wasm caches XNNPACK's packed copy of a product's
 * right operand by tensor id, so a weight changed under its id could be multiplied as it was
 * (a paused run's weights decode with that cache on). AdamW.stepOnDevice frees each old parameter
 * once its new one exists, so this costs one parameter's size, not a second set of weights.
 * Where ctl's finite flag is 0, nothing changes (the new parameter is a copy of the old).
 */
function adamw({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const b = backend as WasmBackendLike;
  const { p, g, m, v, ctl } = inputs;
  const a = attrs as Record<string, number>;
  const out = b.makeOutput(p.shape, p.dtype);
  const [pv, gv, mv, vv, ov, c] = [p, g, m, v, out, ctl].map((t) => view(b, t));
  if (c[1] < 0.5) {
    ov.set(pv);
    return out;
  }
  const { decay, beta1, beta2, eps, stepSize, bc2Sqrt } = a;
  const clip = c[0];
  for (let i = 0; i < pv.length; i++) {
    const grad = gv[i] * clip;
    const mi = beta1 * mv[i] + (1 - beta1) * grad;
    const vi = beta2 * vv[i] + (1 - beta2) * grad * grad;
    mv[i] = mi;
    vv[i] = vi;
    ov[i] = pv[i] * decay - (mi / (Math.sqrt(vi) / bc2Sqrt + eps)) * stepSize;
  }
  return out;
}

let registered = false;

/** Registers both kernels on the 'wasm' backend, once: the trainer then steps through them (optimizerOnDevice). */
export function registerWasmOptimizer(): void {
  if (registered) return;
  registered = true;
  tf.registerKernel({ kernelName: OPTIMIZER_KERNELS.gradNorm, backendName: 'wasm', kernelFunc: gradNorm as unknown as tf.KernelFunc });
  tf.registerKernel({ kernelName: OPTIMIZER_KERNELS.adamw, backendName: 'wasm', kernelFunc: adamw as unknown as tf.KernelFunc });
}
