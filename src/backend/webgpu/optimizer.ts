/**
 * The optimizer step on the GPU with nothing read back: the global gradient norm (and the loss's
 * finiteness) in a few dispatches into a small control tensor, then AdamW over each parameter in
 * one dispatch that reads the clip factor and the finite flag from that tensor, updates both
 * moments in place and writes the new parameter. The stock path reads the norm back to the CPU
 * to decide the clipping (a stall), and runs about 14 element-wise dispatches per parameter.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { dispatch, IS_FINITE, output, WG_SUM, type KernelArgs, type WebGPUBackendInternals } from './dispatch';


const SUM_WG = 256;

/**
 * ctl = [clip factor, 1 if the norm and the loss are finite else 0, norm, loss] from inputs
 * loss () and g0…g(n−1), and optionally prev, the ctl of a step not read yet: its 0 flag is kept
 * (so a step queued after a NaN changes nothing either); attrs.maxNorm (0 = no clipping), as clip_grad_norm_: factor
 * maxNorm / (norm + 1e-6) where that is below 1, else 1.
 */
export function gradNormKernel({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const b = backend as WebGPUBackendInternals;
  const grads = Object.keys(inputs)
    .filter((k) => k !== 'loss' && k !== 'prev')
    .sort((a, c) => Number(a.slice(1)) - Number(c.slice(1)))
    .map((k) => inputs[k]);
  const partials = output(b, [grads.length]);
  // One workgroup per gradient; as many gradients per dispatch as storage bindings allow.
  const per = Math.max(1, Math.min(7, (b.device.limits.maxStorageBuffersPerShaderStage ?? 8) - 1));
  for (let s = 0; s < grads.length; s += per) {
    const group = grads.slice(s, s + per);
    const bindings: Record<string, { t: tf.TensorInfo; write?: boolean }> = { partials: { t: partials, write: true } };
    const uniforms: Record<string, { i32: number }> = { first: { i32: s } };
    group.forEach((g, k) => {
      bindings[`g${k}`] = { t: g };
      uniforms[`n${k}`] = { i32: g.shape.reduce((a, d) => a * d, 1) };
    });
    const branches = group.map((_, k) => `if (k == ${k}u) { for (var i = lane; i < u32(u.n${k}); i += wg) { s = s + g${k}[i] * g${k}[i]; } }`).join(' else ');
    dispatch(b, {
      key: `neox_sumsq_${group.length}`,
      bindings,
      uniforms,
      threads: group.length * SUM_WG,
      workgroup: SUM_WG,
      guard: false,
      body: `${WG_SUM}
fn main(gid: u32, lane: u32, k: u32) {
  var s = 0.0;
  ${branches}
  let total = wgSum(vec2<f32>(s, 0.0), lane).x;
  if (lane == 0u) { partials[u32(u.first) + k] = total; }
}`,
    });
  }
  const ctl = output(b, [4]);
  const prev = inputs.prev;
  dispatch(b, {
    key: prev ? 'neox_grad_control_after' : 'neox_grad_control',
    bindings: { ctl: { t: ctl, write: true }, partials: { t: partials }, loss: { t: inputs.loss }, ...(prev ? { prev: { t: prev } } : {}) },
    uniforms: { n: { i32: grads.length }, maxNorm: { f32: attrs!.maxNorm as number } },
    threads: SUM_WG,
    workgroup: SUM_WG,
    guard: false,
    body: `${WG_SUM}
${IS_FINITE}
fn main(gid: u32, lane: u32, group: u32) {
  var s = 0.0;
  for (var i = lane; i < u32(u.n); i += wg) { s = s + partials[i]; }
  let norm = sqrt(wgSum(vec2<f32>(s, 0.0), lane).x);
  if (lane == 0u) {
    let ok = isFinite(norm) && isFinite(loss[0])${prev ? ' && prev[1] > 0.5' : ''};
    let f = u.maxNorm / (norm + 1e-6);
    ctl[0] = select(1.0, f, u.maxNorm > 0.0 && ok && f < 1.0);
    ctl[1] = select(0.0, 1.0, ok);
    ctl[2] = norm;
    ctl[3] = loss[0];
  }
}`,
  });
  (b as unknown as { disposeData(id: object): void }).disposeData(partials.dataId);
  return ctl;
}

/**
 * One AdamW step of one parameter: m and v (flat, the optimizer's own) are updated in place,
 * the new parameter is returned. Where ctl says not finite, nothing changes (the new parameter
 * is a copy of the old). The formula is torch.optim.AdamW's, as in train/adamw.ts.
 */
export function adamwKernel({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const b = backend as WebGPUBackendInternals;
  const { p, g, m, v, ctl } = inputs;
  const out = output(b, p.shape);
  const a = attrs as Record<string, number>;
  dispatch(b, {
    key: 'neox_adamw',
    bindings: { out: { t: out, write: true }, m: { t: m, write: true }, v: { t: v, write: true }, p: { t: p }, g: { t: g }, ctl: { t: ctl } },
    uniforms: { decay: { f32: a.decay }, beta1: { f32: a.beta1 }, beta2: { f32: a.beta2 }, eps: { f32: a.eps }, stepSize: { f32: a.stepSize }, bc2Sqrt: { f32: a.bc2Sqrt } },
    threads: p.shape.reduce((x, d) => x * d, 1),
    workgroup: 256,
    body: `
fn main(i: u32, lane: u32, group: u32) {
  if (ctl[1] < 0.5) { out[i] = p[i]; return; }
  let grad = g[i] * ctl[0];
  let mi = u.beta1 * m[i] + (1.0 - u.beta1) * grad;
  let vi = u.beta2 * v[i] + (1.0 - u.beta2) * grad * grad;
  m[i] = mi;
  v[i] = vi;
  out[i] = p[i] * u.decay - mi / (sqrt(vi) / u.bc2Sqrt + u.eps) * u.stepSize;
}`,
  });
  return out;
}
