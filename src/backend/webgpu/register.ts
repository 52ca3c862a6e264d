/**
 * Turns the fused WebGPU kernels on or off. Registered, the model's fused ops (model/fused.ts)
 * and the trainer's on-device optimizer find them and run them; unregistered, the same code runs
 * tfjs's stock kernels (the "stock path", kept selectable so the bench compares both in one run).
 */
import * as tf from '@tensorflow/tfjs-core';
import { KERNELS } from '../../model/fused';
import { OPTIMIZER_KERNELS } from '../../train/deviceOptimizer';
import { attentionGradKernel, attentionKernel } from './attention';
import { biasGeluGradKernel, biasGeluKernel } from './biasGelu';
import { columnSumKernel } from './columnSum';
import { crossEntropyGradKernel, crossEntropyKernel } from './crossEntropy';
import { layerNormGradKernel, layerNormKernel } from './layerNorm';
import { adamwKernel, gradNormKernel } from './optimizer';

const table: [string, tf.KernelFunc][] = [
  [KERNELS.layerNorm, layerNormKernel as unknown as tf.KernelFunc],
  [KERNELS.layerNormGrad, layerNormGradKernel as unknown as tf.KernelFunc],
  [KERNELS.biasGelu, biasGeluKernel as unknown as tf.KernelFunc],
  [KERNELS.biasGeluGrad, biasGeluGradKernel as unknown as tf.KernelFunc],
  [KERNELS.attention, attentionKernel as unknown as tf.KernelFunc],
  [KERNELS.attentionGrad, attentionGradKernel as unknown as tf.KernelFunc],
  [KERNELS.columnSum, columnSumKernel as unknown as tf.KernelFunc],
  [KERNELS.crossEntropy, crossEntropyKernel as unknown as tf.KernelFunc],
  [KERNELS.crossEntropyGrad, crossEntropyGradKernel as unknown as tf.KernelFunc],
  [OPTIMIZER_KERNELS.gradNorm, gradNormKernel as unknown as tf.KernelFunc],
  [OPTIMIZER_KERNELS.adamw, adamwKernel as unknown as tf.KernelFunc],
];

/** Registers (on) or removes (off) the fused kernels for the 'webgpu' backend. */
export function setFusedKernels(on: boolean): void {
  for (const [kernelName, kernelFunc] of table) {
    const has = tf.getKernel(kernelName, 'webgpu') !== undefined;
    if (on && !has) tf.registerKernel({ kernelName, backendName: 'webgpu', kernelFunc });
    if (!on && has) tf.unregisterKernel(kernelName, 'webgpu');
  }
}
