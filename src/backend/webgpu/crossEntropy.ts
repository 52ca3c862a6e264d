/**
 * The LM head's cross-entropy on a chunk of logits (n, V), one workgroup per row: the row's
 * logsumexp as an online (max, Σexp) reduction in one pass, then the loss (forward) or the
 * gradient of the logits (backward) straight from it. The stock path takes about ten dispatches
 * forward (logSumExp's max, sub, exp, sum, log; gather of the target rows, mul, sum, sub, mul) and
 * about ten backward (softmax, range, stack, scatterND, mul, sub), with three more (n, V) tensors.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { dispatch, output, type KernelArgs, type WebGPUBackendInternals } from './dispatch';

const ROW_WG = 256;

/**
 * WGSL: each lane's online (max, Σexp(x − max)) over its strided part of row `row`, combined over
 * the workgroup; every lane gets the row's logsumexp. Once per kernel, in uniform control flow
 * (see WG_SUM in dispatch.ts for why only one reduction per kernel).
 */
const ROW_LSE = `
var<workgroup> red: array<vec2<f32>, wg>;
const LOWEST = -3.4e38;
fn merge(a: vec2<f32>, b: vec2<f32>) -> vec2<f32> {
  let m = max(a.x, b.x);
  return vec2<f32>(m, a.y * exp(a.x - m) + b.y * exp(b.x - m));
}
fn rowLse(row: u32, lane: u32) -> f32 {
  var acc = vec2<f32>(LOWEST, 0.0);
  for (var j = lane; j < u32(u.V); j += wg) { acc = merge(acc, vec2<f32>(logits[row * u32(u.V) + j], 1.0)); }
  red[lane] = acc;
  workgroupBarrier();
  for (var s = wg / 2u; s > 0u; s = s >> 1u) {
    if (lane < s) { red[lane] = merge(red[lane], red[lane + s]); }
    workgroupBarrier();
  }
  let r = workgroupUniformLoad(&red[0]);
  return r.x + log(r.y);
}`;

function rows(b: WebGPUBackendInternals, key: string, bindings: Record<string, { t: tf.TensorInfo; write?: boolean }>, logits: tf.TensorInfo, main: string): void {
  const [n, V] = logits.shape;
  dispatch(b, { key, bindings, uniforms: { V: { i32: V } }, threads: n * ROW_WG, workgroup: ROW_WG, guard: false, body: `${ROW_LSE}\n${main}` });
}

/** (n,) = weights · (logsumexp(logits) − logits[target]) from logits (n, V), targets (n,) int32, weights (n,). */
export function crossEntropyKernel({ inputs, backend }: KernelArgs): tf.TensorInfo {
  const b = backend as WebGPUBackendInternals;
  const { logits, targets, weights } = inputs;
  const out = output(b, [logits.shape[0]]);
  rows(b, 'neox_cross_entropy', { out: { t: out, write: true }, logits: { t: logits }, targets: { t: targets }, weights: { t: weights } }, logits, `
fn main(gid: u32, lane: u32, row: u32) {
  let lse = rowLse(row, lane);
  if (lane == 0u) { out[row] = weights[row] * (lse - logits[row * u32(u.V) + u32(targets[row])]); }
}`);
  return out;
}

/** dlogits (n, V) = (softmax(logits) − onehot(target)) · weights · dy, dy a scalar (1,). */
export function crossEntropyGradKernel({ inputs, backend }: KernelArgs): tf.TensorInfo {
  const b = backend as WebGPUBackendInternals;
  const { logits, targets, weights, dy } = inputs;
  const out = output(b, logits.shape);
  rows(b, 'neox_cross_entropy_grad', { out: { t: out, write: true }, logits: { t: logits }, targets: { t: targets }, weights: { t: weights }, dy: { t: dy } }, logits, `
fn main(gid: u32, lane: u32, row: u32) {
  let lse = rowLse(row, lane);
  let scale = weights[row] * dy[0];
  let want = u32(targets[row]);
  for (var j = lane; j < u32(u.V); j += wg) {
    let i = row * u32(u.V) + j;
    out[i] = (exp(logits[i] - lse) - select(0.0, 1.0, j == want)) * scale;
  }
}`);
  return out;
}
