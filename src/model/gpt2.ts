/**
 * GPT-2's block, as transformers' modeling_gpt2.py computes it:
 *   h = x + c_proj(attn(ln_1(x)));  h + c_proj(gelu_new(c_fc(ln_2(h))))
 * One c_attn projection whose output is [q | k | v] as three whole blocks (not GPT-NeoX's per-head
 * interleave), no rotary (positions are learned, added to the embedding: forward.ts), tanh GELU.
 * Conv1D's (in, out) weights are held as (out, in) like every other family's (params.ts's
 * fileTransposed), so the products and LoRA are the same code.
 */
import * as tf from '@tensorflow/tfjs-core';
import { inferenceKernelsOn } from './inferenceKernels';
import { causalAttention, geluTanh, layerNorm, linear, toHeads, withCache, type ForwardContext, type KVCache, type PackedRows, type Rope } from './layers';
import { layerPrefix } from './params';

function attention(ctx: ForwardContext, x: tf.Tensor2D, layer: number, B: number, T: number, packed: PackedRows | undefined, cache?: KVCache): tf.Tensor2D {
  const { numHeads: nH, headDim: hs } = ctx.config;
  const p = `${layerPrefix(ctx.config, layer)}attn.`;
  const [q, k, v] = tf.split(linear(ctx, x, `${p}c_attn`), 3, 1).map((t) => toHeads(tf.reshape(t, [B, T, nH, hs]))); // (B·T, 3C) → 3 × (B, nH, T, hs)
  const [kAll, vAll] = withCache(cache, layer, k, v);
  return linear(ctx, causalAttention(q, kAll, vAll, 1 / Math.sqrt(hs), packed), `${p}c_proj`); // (B·T, C)
}

/** One GPT-2 layer on the residual stream x (B·T, C) → (B·T, C). */
export function gpt2Block(ctx: ForwardContext, x: tf.Tensor2D, layer: number, B: number, T: number, rope: Rope, cache?: KVCache): tf.Tensor2D {
  const { params: w, config } = ctx;
  const p = layerPrefix(config, layer);
  const fast = inferenceKernelsOn(ctx);
  const h = tf.add(x, attention(ctx, layerNorm(x, w[`${p}ln_1.weight`], w[`${p}ln_1.bias`], config.layerNormEps, fast), layer, B, T, rope.packed, cache)) as tf.Tensor2D;
  const m = layerNorm(h, w[`${p}ln_2.weight`], w[`${p}ln_2.bias`], config.layerNormEps, fast);
  return tf.add(h, linear(ctx, geluTanh(linear(ctx, m, `${p}mlp.c_fc`)), `${p}mlp.c_proj`));
}
