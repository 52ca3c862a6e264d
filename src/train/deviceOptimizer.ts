/**
 * The optimizer step as two kernels: where the backend registers them (WebGPU,
 * backend/webgpu/optimizer.ts; WASM, backend/wasmOptimizer.ts), the trainer clips and steps on
 * the device and reads one small control tensor per step (on WebGPU one step late) instead of
 * the norm in the middle of the step.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Params } from '../model/params';

export const OPTIMIZER_KERNELS = {
  gradNorm: 'NeoXGradNorm',
  adamw: 'NeoXAdamW',
} as const;

/** Whether the backend in use can clip and step on the device. */
export const optimizerOnDevice = (): boolean => tf.getKernel(OPTIMIZER_KERNELS.adamw, tf.getBackend()) !== undefined;

/** Whether a step's control tensor is best read one step late: on WebGPU, where reading waits for the queue. */
export const readsLate = (): boolean => tf.getBackend() === 'webgpu';

/** What ctl holds, by index: see gradControl. */
export const CTL = { clip: 0, finite: 1, norm: 2, loss: 3 } as const;

/**
 * [clip factor, finite flag, global norm, loss] (4,) on the device, from the gradients and the
 * step's loss: clip_grad_norm_'s factor (1 when not clipping), and 0 in the flag when the norm or
 * the loss is NaN or infinite (the AdamW step then changes nothing). With `prev`, the control
 * tensor of an earlier step not read yet, a 0 flag there carries over: a step queued after a
 * non-finite one changes nothing either, so reading the flags late loses nothing.
 */
export function gradControl(grads: Params, loss: tf.Scalar, maxNorm: number, prev?: tf.Tensor1D): tf.Tensor1D {
  if (!(maxNorm >= 0)) throw new Error(`maxNorm must be ≥ 0 (0 = no clipping), got ${maxNorm}`);
  const list = Object.values(grads);
  if (list.length === 0) throw new Error('no gradients: nothing is being trained');
  const inputs: tf.NamedTensorMap = prev ? { loss, prev } : { loss };
  list.forEach((g, i) => (inputs[`g${i}`] = g));
  return tf.engine().runKernel(OPTIMIZER_KERNELS.gradNorm, inputs, { maxNorm } as unknown as tf.NamedAttrMap) as tf.Tensor1D;
}
