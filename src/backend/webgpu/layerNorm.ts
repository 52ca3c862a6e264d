/**
 * LayerNorm over the last dimension of x (N, C), forward in one dispatch and backward in two
 * (the stock path runs about 10 and 25 small ones). One thread per row; the backward's parameter
 * sums run one thread per column over every row.
 *
 * Why not a workgroup per row with its sums reduced in workgroup memory (the faster layout on a
 * GPU): on llvmpipe (Dawn's OpenGL ES backend, where the tests run) a second workgroup reduction
 * whose input depended on the first's result came out wrong, dx by orders of magnitude, while
 * one thread per row was exact. Rows are B·T ≥ 1,024 at the studio's batch shapes, enough threads
 * to keep a GPU busy; a reduction layout can come back once a real GPU run can test it.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { dispatch, output, type KernelArgs, type WebGPUBackendInternals } from './dispatch';


/**
 * WGSL: the row's mean and 1/√(var + eps), in one pass over the row shifted by its first
 * element (so the sums of squares do not cancel: the shifted algorithm for the variance).
 */
const ROW_STATS = `
fn rowStats(row: u32) -> vec2<f32> {
  let C = u32(u.C);
  let k = x[row * C];
  var acc = vec2<f32>(0.0, 0.0);
  for (var c = 0u; c < C; c++) { let d = x[row * C + c] - k; acc = acc + vec2<f32>(d, d * d); }
  let sums = acc / f32(C); // (E[x − k], E[(x − k)²])
  let variance = max(sums.y - sums.x * sums.x, 0.0);
  return vec2<f32>(k + sums.x, 1.0 / sqrt(variance + u.eps));
}`;

export function layerNormKernel({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const b = backend as WebGPUBackendInternals;
  const { x, gamma, beta } = inputs;
  const [N, C] = x.shape;
  const y = output(b, [N, C]);
  dispatch(b, {
    key: 'neox_layernorm',
    bindings: { y: { t: y, write: true }, x: { t: x }, gamma: { t: gamma }, beta: { t: beta } },
    uniforms: { C: { i32: C }, eps: { f32: attrs!.eps as number } },
    threads: N,
    body: `${ROW_STATS}
fn main(row: u32, lane: u32, group: u32) {
  let st = rowStats(row);
  let C = u32(u.C);
  for (var c = 0u; c < C; c++) {
    y[row * C + c] = (x[row * C + c] - st.x) * st.y * gamma[c] + beta[c];
  }
}`,
  });
  return y;
}

/** [dx, dgamma, dbeta] for dy (N, C). */
export function layerNormGradKernel({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo[] {
  const b = backend as WebGPUBackendInternals;
  const { dy, x, gamma } = inputs;
  const [N, C] = x.shape;
  const dx = output(b, [N, C]);
  const stats = output(b, [N, 2]);
  // dx = rstd·(g·dy − mean(g·dy) − x̂·mean(g·dy·x̂)), x̂ = (x − mean)·rstd
  dispatch(b, {
    key: 'neox_layernorm_dx',
    bindings: { dx: { t: dx, write: true }, stats: { t: stats, write: true }, dy: { t: dy }, x: { t: x }, gamma: { t: gamma } },
    uniforms: { C: { i32: C }, eps: { f32: attrs!.eps as number } },
    threads: N,
    body: `${ROW_STATS}
fn main(row: u32, lane: u32, group: u32) {
  let st = rowStats(row);
  let C = u32(u.C);
  var acc = vec2<f32>(0.0, 0.0);
  for (var c = 0u; c < C; c++) {
    let i = row * C + c;
    let g = dy[i] * gamma[c];
    acc = acc + vec2<f32>(g, g * (x[i] - st.x) * st.y);
  }
  let m1 = acc.x / f32(C);
  let m2 = acc.y / f32(C);
  for (var c = 0u; c < C; c++) {
    let i = row * C + c;
    let xh = (x[i] - st.x) * st.y;
    dx[i] = st.y * (dy[i] * gamma[c] - m1 - xh * m2);
  }
  stats[2u * row] = st.x;
  stats[2u * row + 1u] = st.y;
}`,
  });
  const dgamma = output(b, [C]);
  const dbeta = output(b, [C]);
  dispatch(b, {
    key: 'neox_layernorm_dparams',
    bindings: { dgamma: { t: dgamma, write: true }, dbeta: { t: dbeta, write: true }, dy: { t: dy }, x: { t: x }, stats: { t: stats } },
    uniforms: { N: { i32: N }, C: { i32: C } },
    threads: C,
    body: `
fn main(c: u32, lane: u32, group: u32) {
  let C = u32(u.C);
  var sg = 0.0;
  var sb = 0.0;
  for (var n = 0u; n < u32(u.N); n = n + 1u) {
    let d = dy[n * C + c];
    sg = sg + d * (x[n * C + c] - stats[2u * n]) * stats[2u * n + 1u];
    sb = sb + d;
  }
  dgamma[c] = sg;
  dbeta[c] = sb;
}`,
  });
  (backend as { disposeData(id: object): void }).disposeData(stats.dataId);
  return [dx, dgamma, dbeta];
}
