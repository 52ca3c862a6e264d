/**
 * GPT-NeoX causal self-attention, forward and backward in one dispatch each per layer.
 *
 * The input is the fused projection qkv (B·T, 3C), each head's [q | k | v] side by side, as the
 * model computes it; the forward's output is the merged heads (B·T, C), ready for the dense
 * projection. So the split, the transposes to and from (B, nH, T, hs), the rotary slices and
 * concats, the score scaling, the mask and the softmax of the stock path (about 35 dispatches
 * forward and 80 backward per layer) all happen inside the kernel.
 *
 * Flash-style, with one thread per query row: an online softmax over the keys j ≤ i, the row's
 * output accumulated in registers. No (T × T) scores are ever stored: the forward keeps each
 * row's logsumexp (B, nH, T), and the backward recomputes p_ij = exp(q_i·k_j/√hs − lse_i).
 * The backward runs 2·B·nH·T threads: the first half own a query row and accumulate dq over
 * its keys, the second half own a key row and accumulate dk and dv over its queries (with
 * D_i = dy_i·y_i recomputed), so every element of dqkv is written once, and rotary's transpose
 * is applied before it is written.
 *
 * Packed rows (several examples per row, the `packed` variant) bring each token's position in its
 * example, `pos` (B·T): rotary reads the tables at that position, query i's keys start at
 * i − pos[i], and key j's queries stop where the next example starts (pos = 0). Unpacked, the
 * position is the row index t, and the same code compiles to the plain causal loops.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { dispatch, output, type KernelArgs, type WebGPUBackendInternals } from './dispatch';


interface Shape {
  B: number;
  T: number;
  heads: number;
  headSize: number;
  rotaryDims: number;
  packed: boolean;
}

/** WGSL shared by both passes: constants and rotary-applied reads of q and k. */
function common(s: Shape): string {
  const C = s.heads * s.headSize;
  return `
const HS = ${s.headSize}u;
const RD = ${s.rotaryDims}u;
const HALF = ${s.rotaryDims / 2}u;
const NH = ${s.heads}u;
const C3 = ${3 * C}u;
const C = ${C}u;
const SCALE = ${1 / Math.sqrt(s.headSize)};
fn raw(row: u32, h: u32, part: u32, d: u32) -> f32 { return qkv[row * C3 + h * 3u * HS + part * HS + d]; }
/** The position of the token at row (index t in its batch row): its place in its own example when packed. */
fn P(row: u32, t: u32) -> u32 { return ${s.packed ? 'u32(pos[row])' : 't'}; }
/** q (part 0) or k (part 1) of head h at row (position t), dimension d, after rotary: x·cos + rotate_half(x)·sin. */
fn rot(row: u32, t: u32, h: u32, part: u32, d: u32) -> f32 {
  let x = raw(row, h, part, d);
  if (d >= RD) { return x; }
  var other: f32;
  if (d < HALF) { other = -raw(row, h, part, d + HALF); } else { other = raw(row, h, part, d - HALF); }
  return x * cosT[t * RD + d] + other * sinT[t * RD + d];
}
/** Rotary's transpose: the gradient before rotation from g, the gradient after it, at position t. */
fn unrot(g: ptr<function, array<f32, ${s.headSize}>>, t: u32, d: u32) -> f32 {
  if (d >= RD) { return (*g)[d]; }
  if (d < HALF) { return (*g)[d] * cosT[t * RD + d] + (*g)[d + HALF] * sinT[t * RD + d + HALF]; }
  return (*g)[d] * cosT[t * RD + d] - (*g)[d - HALF] * sinT[t * RD + d - HALF];
}`;
}

const shapeOf = (attrs: Record<string, unknown>): Shape => ({
  B: attrs.B as number,
  T: attrs.T as number,
  heads: attrs.heads as number,
  headSize: attrs.headSize as number,
  rotaryDims: attrs.rotaryDims as number,
  packed: attrs.packed === 1,
});
const keyOf = (s: Shape) => `${s.heads}_${s.headSize}_${s.rotaryDims}${s.packed ? '_packed' : ''}`;
/** The bindings of the rotary tables, and of the positions when packed. */
const tableBindings = (s: Shape, inputs: KernelArgs['inputs']) => ({ cosT: { t: inputs.cos }, sinT: { t: inputs.sin }, ...(s.packed ? { pos: { t: inputs.pos } } : {}) });

/** [y (B·T, C), lse (B, nH, T)]. */
export function attentionKernel({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo[] {
  const b = backend as WebGPUBackendInternals;
  const s = shapeOf(attrs!);
  const { qkv } = inputs;
  const y = output(b, [s.B * s.T, s.heads * s.headSize]);
  const lse = output(b, [s.B, s.heads, s.T]);
  dispatch(b, {
    key: `neox_attention_${keyOf(s)}`,
    bindings: { y: { t: y, write: true }, lse: { t: lse, write: true }, qkv: { t: qkv }, ...tableBindings(s, inputs) },
    uniforms: { T: { i32: s.T } },
    threads: s.B * s.heads * s.T,
    body: `${common(s)}
fn main(gid: u32, lane: u32, group: u32) {
  let T = u32(u.T);
  let i = gid % T;
  let bh = gid / T;
  let h = bh % NH;
  let rowI = (bh / NH) * T + i;
  let row0 = rowI - i;
  var q: array<f32, ${s.headSize}>;
  var acc: array<f32, ${s.headSize}>;
  let pi = P(rowI, i);
  for (var d = 0u; d < HS; d++) { q[d] = rot(rowI, pi, h, 0u, d); acc[d] = 0.0; }
  var m = -3.0e38;
  var l = 0.0;
  for (var j = i - pi; j <= i; j++) {
    var dot = 0.0;
    for (var d = 0u; d < HS; d++) { dot += q[d] * rot(row0 + j, P(row0 + j, j), h, 1u, d); }
    let sc = dot * SCALE;
    let mNew = max(m, sc);
    let corr = exp(m - mNew);
    let p = exp(sc - mNew);
    l = l * corr + p;
    for (var d = 0u; d < HS; d++) { acc[d] = acc[d] * corr + p * raw(row0 + j, h, 2u, d); }
    m = mNew;
  }
  for (var d = 0u; d < HS; d++) { y[rowI * C + h * HS + d] = acc[d] / l; }
  lse[gid] = m + log(l);
}`,
  });
  return [y, lse];
}

/** dqkv (B·T, 3C) from dy (B·T, C), the forward's y and lse. */
export function attentionGradKernel({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const b = backend as WebGPUBackendInternals;
  const s = shapeOf(attrs!);
  const { qkv, y, lse, dy } = inputs;
  const dqkv = output(b, [s.B * s.T, 3 * s.heads * s.headSize]);
  const rows = s.B * s.heads * s.T;
  dispatch(b, {
    key: `neox_attention_grad_${keyOf(s)}`,
    bindings: { dqkv: { t: dqkv, write: true }, qkv: { t: qkv }, ...tableBindings(s, inputs), y: { t: y }, lse: { t: lse }, dy: { t: dy } },
    uniforms: { T: { i32: s.T }, rows: { i32: rows } },
    threads: 2 * rows,
    body: `${common(s)}
/** D_i = dy_i · y_i for head h. */
fn rowD(row: u32, h: u32) -> f32 {
  var D = 0.0;
  for (var d = 0u; d < HS; d++) { D += dy[row * C + h * HS + d] * y[row * C + h * HS + d]; }
  return D;
}
fn main(gid: u32, lane: u32, group: u32) {
  let T = u32(u.T);
  let isKey = gid >= u32(u.rows);
  let r = select(gid, gid - u32(u.rows), isKey);
  let t = r % T;
  let bh = r / T;
  let h = bh % NH;
  let rowT = (bh / NH) * T + t;
  let row0 = rowT - t;
  let bhT = bh * T;
  let pt = P(rowT, t);
  if (!isKey) {
    // Query row i = t: dq_i = Σ_j p_ij (dy_i·v_j − D_i) · k_j / √hs.
    var q: array<f32, ${s.headSize}>;
    var dq: array<f32, ${s.headSize}>;
    var g: array<f32, ${s.headSize}>;
    for (var d = 0u; d < HS; d++) { q[d] = rot(rowT, pt, h, 0u, d); dq[d] = 0.0; g[d] = dy[rowT * C + h * HS + d]; }
    let D = rowD(rowT, h);
    let L = lse[bhT + t];
    for (var j = t - pt; j <= t; j++) {
      var k: array<f32, ${s.headSize}>;
      var dot = 0.0;
      var dp = 0.0;
      let pj = P(row0 + j, j);
      for (var d = 0u; d < HS; d++) {
        k[d] = rot(row0 + j, pj, h, 1u, d);
        dot += q[d] * k[d];
        dp += g[d] * raw(row0 + j, h, 2u, d);
      }
      let ds = exp(dot * SCALE - L) * (dp - D) * SCALE;
      for (var d = 0u; d < HS; d++) { dq[d] += ds * k[d]; }
    }
    for (var d = 0u; d < HS; d++) { dqkv[rowT * C3 + h * 3u * HS + d] = unrot(&dq, pt, d); }
  } else {
    // Key row j = t: dv_j = Σ_i p_ij dy_i, dk_j = Σ_i p_ij (dy_i·v_j − D_i) · q_i / √hs.
    var k: array<f32, ${s.headSize}>;
    var v: array<f32, ${s.headSize}>;
    var dk: array<f32, ${s.headSize}>;
    var dv: array<f32, ${s.headSize}>;
    for (var d = 0u; d < HS; d++) { k[d] = rot(rowT, pt, h, 1u, d); v[d] = raw(rowT, h, 2u, d); dk[d] = 0.0; dv[d] = 0.0; }
    for (var i = t; i < T; i++) {
      let pi = P(row0 + i, i);
      if (i > t && pi == 0u) { break; } // the next example starts: its queries do not see this key
      var q: array<f32, ${s.headSize}>;
      var dot = 0.0;
      var dp = 0.0;
      for (var d = 0u; d < HS; d++) {
        q[d] = rot(row0 + i, pi, h, 0u, d);
        dot += q[d] * k[d];
        dp += dy[(row0 + i) * C + h * HS + d] * v[d];
      }
      let p = exp(dot * SCALE - lse[bhT + i]);
      let ds = p * (dp - rowD(row0 + i, h)) * SCALE;
      for (var d = 0u; d < HS; d++) {
        dv[d] += p * dy[(row0 + i) * C + h * HS + d];
        dk[d] += ds * q[d];
      }
    }
    for (var d = 0u; d < HS; d++) {
      dqkv[rowT * C3 + h * 3u * HS + HS + d] = unrot(&dk, pt, d);
      dqkv[rowT * C3 + h * 3u * HS + 2u * HS + d] = dv[d];
    }
  }
}`,
  });
  return dqkv;
}
