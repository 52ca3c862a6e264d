/**
 * The sum over the rows of x (N, F), one thread per column: a bias's gradient. tfjs's own Sum over
 * axis 0 first transposes x (a copy of the whole activation gradient) and then reduces its rows:
 * two dispatches and a memory pass more, for every bias of every layer.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { dispatch, output, type KernelArgs, type WebGPUBackendInternals } from './dispatch';

export function columnSumKernel({ inputs, backend }: KernelArgs): tf.TensorInfo {
  const b = backend as WebGPUBackendInternals;
  const { x } = inputs;
  const [N, F] = x.shape;
  const out = output(b, [F]);
  dispatch(b, {
    key: 'neox_column_sum',
    bindings: { out: { t: out, write: true }, x: { t: x } },
    uniforms: { N: { i32: N }, F: { i32: F } },
    threads: F,
    body: `
fn main(c: u32, lane: u32, group: u32) {
  let F = u32(u.F);
  var s = 0.0;
  for (var n = 0u; n < u32(u.N); n++) { s = s + x[n * F + c]; }
  out[c] = s;
}`,
  });
  return out;
}
