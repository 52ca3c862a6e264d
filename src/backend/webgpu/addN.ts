/**
 * A fix for tfjs-backend-webgpu 4.22's AddN: its shader binds every input as a storage buffer,
 * and with more inputs than the device allows per shader stage (maxStorageBuffersPerShaderStage,
 * 8 by default: 7 inputs and the output) the pipeline is invalid and the result silently stale
 * (tf.addN of 8 ones gave 28 on SwiftShader). The gradient norm sums one term per parameter, so
 * every clipped WebGPU step was affected. This sums at most `limit − 1` inputs per dispatch.
 */
import * as tf from '@tensorflow/tfjs-core';

interface WebGPUBackendLike {
  device: GPUDevice;
  disposeData(dataId: tf.DataId): boolean;
}

export function chunkedAddN(original: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const backend = args.backend as unknown as WebGPUBackendLike;
    const per = Math.max(2, (backend.device?.limits?.maxStorageBuffersPerShaderStage ?? 8) - 1);
    let inputs = args.inputs as unknown as tf.TensorInfo[];
    if (inputs.length <= per) return original(args);
    const made: tf.TensorInfo[] = [];
    while (inputs.length > per) {
      const next: tf.TensorInfo[] = [];
      for (let i = 0; i < inputs.length; i += per) {
        const group = inputs.slice(i, i + per);
        if (group.length === 1) {
          next.push(group[0]);
          continue;
        }
        const sum = original({ ...args, inputs: group as unknown as tf.NamedTensorInfoMap }) as tf.TensorInfo;
        made.push(sum);
        next.push(sum);
      }
      inputs = next;
    }
    const out = original({ ...args, inputs: inputs as unknown as tf.NamedTensorInfoMap }) as tf.TensorInfo;
    for (const t of made) backend.disposeData(t.dataId);
    return out;
  };
}

let registered = false;

/** Installs the fix on the 'webgpu' backend, once. */
export function registerWebGPUKernelFixes(): void {
  if (registered) return;
  const original = tf.getKernel('AddN', 'webgpu');
  if (!original) return;
  registered = true;
  tf.unregisterKernel('AddN', 'webgpu');
  tf.registerKernel({ kernelName: 'AddN', backendName: 'webgpu', kernelFunc: chunkedAddN(original.kernelFunc) });
}
