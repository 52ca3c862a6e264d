/**
 * Every fused WebGPU kernel against the stock tfjs composite on the CPU backend, forward and
 * gradient, on WebGPU through Dawn (llvmpipe here; see testing/webgpu.ts). Shapes are tiny but
 * not round: partial workgroups, a row longer than the workgroup, more heads than one.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { biasAddFused, biasGeluFused, causalAttentionFused, layerNormFused } from '../../model/fused';
import { gelu, layerNorm, ropeFor } from '../../model/layers';
import { lmLoss } from '../../model/loss';
import { parseConfig } from '../../model/config';
import { relError } from '../../testing/fixtures';
import { on, startWebGPU } from '../../testing/webgpu';
import { setFusedKernels } from './register';

const seeded = (shape: number[], seed: number) => tf.randomNormal(shape, 0, 1, 'float32', seed);

beforeAll(async () => {
  await startWebGPU();
});

/** Runs f with the fused kernels on WebGPU and with the stock composite on the CPU; compares every output. */
async function parity(fused: () => tf.Tensor[], stock: () => tf.Tensor[], fwdTol = 1e-4, gradTol = 1e-3): Promise<void> {
  const got = await on('webgpu', fused);
  setFusedKernels(false);
  const want = await on('cpu', stock);
  setFusedKernels(true);
  got.forEach((g, i) => expect(relError(g, want[i]), `output ${i}`).toBeLessThan(i === 0 ? fwdTol : gradTol));
}

describe('fused WebGPU kernels against the CPU composite', () => {
  it('LayerNorm: forward, dx, dγ, dβ', async () => {
    const run = (ln: typeof layerNorm) => () => {
      const x = seeded([37, 200], 1) as tf.Tensor2D;
      const g = tf.add(seeded([200], 2), 1);
      const b = seeded([200], 3);
      const dy = seeded([37, 200], 4);
      const f = (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(ln(x as tf.Tensor2D, g, b, 1e-5), dy));
      const { value, grads } = tf.valueAndGrads(f as (...t: tf.Tensor[]) => tf.Tensor)([x, g, b]);
      return [ln(x, g, b, 1e-5), value, ...grads];
    };
    await parity(run(layerNormFused), run(layerNorm));
  });

  it('bias + GELU: forward, dx, dbias', async () => {
    const run = (fused: boolean) => () => {
      const x = tf.mul(seeded([29, 70], 5), 3) as tf.Tensor2D;
      const bias = seeded([70], 6);
      const dy = seeded([29, 70], 7);
      const f = (x: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(fused ? biasGeluFused(x as tf.Tensor2D, b) : gelu(tf.add(x, b) as tf.Tensor2D), dy));
      const { grads } = tf.valueAndGrads(f as (...t: tf.Tensor[]) => tf.Tensor)([x, bias]);
      return [fused ? biasGeluFused(x, bias) : gelu(tf.add(x, bias) as tf.Tensor2D), ...grads];
    };
    await parity(run(true), run(false));
  });

  it('bias add: forward, dy and dbias (the column sum)', async () => {
    const run = (fused: boolean) => () => {
      const y = seeded([33, 70], 10) as tf.Tensor2D;
      const bias = seeded([70], 11);
      const dy = seeded([33, 70], 12);
      const add = (y: tf.Tensor, b: tf.Tensor) => (fused ? biasAddFused(y as tf.Tensor2D, b) : tf.add(y, b));
      const { grads } = tf.valueAndGrads((y: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(add(y, b), dy)))([y, bias]);
      return [add(y, bias), ...grads];
    };
    await parity(run(true), run(false));
  });

  it('causal attention with rotary: forward and dqkv (2 sequences, 3 heads, head size 8, rotary on 4)', async () => {
    const [B, T, nH, hs] = [2, 13, 3, 8];
    const config = parseConfig({ model_type: 'gpt_neox', vocab_size: 16, hidden_size: nH * hs, num_attention_heads: nH, num_hidden_layers: 1, intermediate_size: 8, rotary_pct: 0.5, max_position_embeddings: 64 });
    /** The stock path's attention from qkv, as gptNeox.ts computes it (split, rotary, softmax, merge). */
    const stock = (qkv: tf.Tensor2D, rope: ReturnType<typeof ropeFor>): tf.Tensor2D => {
      const heads = tf.reshape(qkv, [B, T, nH, 3 * hs]);
      const [q0, k0, v0] = tf.split(heads, 3, 3).map((t) => tf.transpose(t, [0, 2, 1, 3]) as tf.Tensor4D);
      const rot = (x: tf.Tensor4D) => {
        const half = rope.rd / 2;
        const xr = tf.slice(x, [0, 0, 0, 0], [-1, -1, -1, rope.rd]);
        const r = tf.concat([tf.neg(tf.slice(xr, [0, 0, 0, half], [-1, -1, -1, half])), tf.slice(xr, [0, 0, 0, 0], [-1, -1, -1, half])], 3);
        return tf.concat([tf.add(tf.mul(xr, rope.cos), tf.mul(r, rope.sin)), tf.slice(x, [0, 0, 0, rope.rd], [-1, -1, -1, hs - rope.rd])], 3);
      };
      const mask = tf.tensor2d(Array.from({ length: T * T }, (_, i) => (i % T > Math.floor(i / T) ? -1e9 : 0)), [T, T]);
      const probs = tf.softmax(tf.add(tf.mul(tf.matMul(rot(q0), rot(k0), false, true), 1 / Math.sqrt(hs)), mask));
      return tf.reshape(tf.transpose(tf.matMul(probs, v0), [0, 2, 1, 3]), [B * T, nH * hs]) as tf.Tensor2D;
    };
    const run = (fused: boolean) => () => {
      const rope = ropeFor(config, 0, T);
      const qkv = seeded([B * T, 3 * nH * hs], 8);
      const dy = seeded([B * T, nH * hs], 9);
      const attn = (q: tf.Tensor) => (fused ? causalAttentionFused(q as tf.Tensor2D, rope.cos, rope.sin, { B, T, heads: nH, headSize: hs, rotaryDims: rope.rd }) : stock(q as tf.Tensor2D, rope));
      const { grads } = tf.valueAndGrads((q: tf.Tensor) => tf.sum(tf.mul(attn(q), dy)))([qkv]);
      return [attn(qkv), ...grads];
    };
    await parity(run(true), run(false));
  });

  it('LM head cross-entropy: loss, dh and dW, over several row chunks, with logits far from 0', async () => {
    const [N, C, V] = [41, 24, 300]; // V longer than the 256-lane row workgroup, not a multiple of it
    const rows = Int32Array.from({ length: 30 }, (_, i) => (i * 7) % N); // distinct, out of order, some rows unused
    const targets = Int32Array.from(rows, (r, i) => (r * 31 + i * 17) % V);
    const weights = Float32Array.from(rows, (_, i) => (1 + (i % 3)) / 60);
    const run = () => {
      const h = tf.mul(seeded([N, C], 13), 4) as tf.Tensor2D; // logits of tens: a plain Σexp would overflow nothing, but a wrong max would show
      const W = seeded([V, C], 14) as tf.Tensor2D;
      const f = (h: tf.Tensor, W: tf.Tensor) => lmLoss(h as tf.Tensor2D, W as tf.Tensor2D, { rows, targets, weights }, { chunkRows: 16 });
      const { value, grads } = tf.valueAndGrads(f as (...t: tf.Tensor[]) => tf.Tensor)([h, W]);
      return [value, ...grads];
    };
    await parity(run, run, 1e-5);
  });
});
