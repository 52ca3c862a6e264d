/**
 * Bias add and exact GELU in one pass, forward and backward (the stock path: an add and five
 * element-wise ops forward, about ten backward). erf is the Abramowitz–Stegun 7.1.26 polynomial
 * that tfjs's own Erf kernels use (|error| < 1.5e-7), so fused and stock agree to rounding.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { dispatch, output, type KernelArgs, type WebGPUBackendInternals } from './dispatch';


const ERF = `
fn erf(v: f32) -> f32 {
  let s = sign(v);
  let a = abs(v);
  let t = 1.0 / (1.0 + 0.3275911 * a);
  let poly = ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t;
  return s * (1.0 - poly * exp(-a * a));
}`;

/** One thread per element of x (N, F): writes `out` from z = x + bias[column] by `expr`. */
function perElement(b: WebGPUBackendInternals, key: string, inputs: Record<string, tf.TensorInfo>, expr: string): tf.TensorInfo {
  const [N, F] = inputs.x.shape;
  const out = output(b, [N, F]);
  const bindings: Record<string, { t: tf.TensorInfo; write?: boolean }> = { out: { t: out, write: true } };
  for (const [name, t] of Object.entries(inputs)) bindings[name] = { t };
  dispatch(b, {
    key,
    bindings,
    uniforms: { F: { i32: F } },
    threads: N * F,
    workgroup: 256,
    body: `${ERF}
fn main(i: u32, lane: u32, group: u32) {
  let z = x[i] + bias[i % u32(u.F)];
  let cdf = 0.5 * (1.0 + erf(z * 0.70710678118654752));
  out[i] = ${expr};
}`,
  });
  return out;
}

export function biasGeluKernel({ inputs, backend }: KernelArgs): tf.TensorInfo {
  return perElement(backend as WebGPUBackendInternals, 'neox_bias_gelu', { x: inputs.x, bias: inputs.bias }, 'z * cdf');
}

/** d/dz of GELU(z) at z = x + bias, times dy: 0.5·(1 + erf(z/√2)) + z·φ(z). */
export function biasGeluGradKernel({ inputs, backend }: KernelArgs): tf.TensorInfo {
  return perElement(backend as WebGPUBackendInternals, 'neox_bias_gelu_grad', { x: inputs.x, bias: inputs.bias, dy: inputs.dy }, 'dy[i] * (cdf + z * 0.3989422804014327 * exp(-0.5 * z * z))');
}
