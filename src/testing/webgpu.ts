/**
 * WebGPU for the unit tests: Dawn for Node as navigator.gpu (see backend/dawnNode.ts), then the
 * studio's own backend start-up, so a test runs the same kernels and fixes a page gets. Here that
 * is Mesa's llvmpipe through Dawn's OpenGL ES backend: a CPU, so keep shapes tiny.
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../backend/backend';
import { installDawnGpu } from '../backend/dawnNode';

/**
 * Starts the 'webgpu' backend, with the fused kernels unless told otherwise (throws, saying what
 * to install, when Dawn has no adapter).
 */
export async function startWebGPU(opts: { fusedKernels?: boolean } = {}): Promise<void> {
  const dawn = await installDawnGpu();
  if (typeof dawn === 'string') throw new Error(`no WebGPU for the tests: ${dawn}`);
  await initBackend('webgpu', { wasmPaths: '', fusedKernels: opts.fusedKernels ?? true });
}

/** Runs f on the named backend and returns its result as plain arrays (read back, tensors freed). */
export async function on<T extends tf.Tensor | tf.Tensor[]>(backend: 'cpu' | 'webgpu', f: () => T): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const out = tf.tidy(f);
  const list = Array.isArray(out) ? out : [out];
  const values = await Promise.all(list.map(async (t) => (await t.data()) as Float32Array));
  tf.dispose(list);
  return values;
}
