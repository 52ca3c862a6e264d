/**
 * Bias add and exact GELU in one pass, forward and backward (the stock path: an add and five
 * element-wise ops forward, about ten backward). erf is the Abramowitz–Stegun 7.1.26 polynomial
 * that tfjs's own Erf kernels use (|error| < 1.5e-7), so fused and stock agree to rounding.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { dispatch, output, type WebGPUBackendInternals } from './dispatch';

type Args = { inputs: Record<string, tf.TensorInfo>; backend: unknown };

const ERF = `
fn erf(v: f32) -> f32 {
  let s = sign(v);
  let a = abs(v);
  let t = 1.0 / (1.0 + 0.3275911 * a);
  let poly = ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t;
  return s * (1.0 - poly * exp(-a * a));
}`;

export function biasGeluKernel({ inputs, backend }: Args): tf.TensorInfo {
  const b = backend as WebGPUBackendInternals;
  const { x, bias } = inputs;
  const [N, F] = x.shape;
  const y = output(b, [N, F]);
  dispatch(b, {
    key: 'neox_bias_gelu',
    bindings: { y: { t: y, write: true }, x: { t: x }, bias: { t: bias } },
    uniforms: { F: { i32: F } },
    threads: N * F,
    workgroup: 256,
    body: `${ERF}
fn main(i: u32, lane: u32, group: u32) {
  let z = x[i] + bias[i % u32(u.F)];
  y[i] = 0.5 * z * (1.0 + erf(z * 0.70710678118654752));
}`,
  });
  return y;
}

/** d/dz of GELU(z) at z = x + bias, times dy: 0.5·(1 + erf(z/√2)) + z·φ(z). */
export function biasGeluGradKernel({ inputs, backend }: Args): tf.TensorInfo {
  const b = backend as WebGPUBackendInternals;
  const { dy, x, bias } = inputs;
  const [N, F] = x.shape;
  const dx = output(b, [N, F]);
  dispatch(b, {
    key: 'neox_bias_gelu_grad',
    bindings: { dx: { t: dx, write: true }, dy: { t: dy }, x: { t: x }, bias: { t: bias } },
    uniforms: { F: { i32: F } },
    threads: N * F,
    workgroup: 256,
    body: `${ERF}
fn main(i: u32, lane: u32, group: u32) {
  let z = x[i] + bias[i % u32(u.F)];
  let cdf = 0.5 * (1.0 + erf(z * 0.70710678118654752));
  dx[i] = dy[i] * (cdf + z * 0.3989422804014327 * exp(-0.5 * z * z));
}`,
  });
  return dx;
}
