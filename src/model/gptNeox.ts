/**
 * GPT-NeoX's block (Pythia), as transformers' modeling_gpt_neox.py computes it: LayerNorm, one
 * fused query/key/value projection with each head's [q | k | v] side by side, partial rotary, exact
 * GELU, and the parallel residual x + attn(ln1(x)) + mlp(ln2(x)) (sequential when the config says).
 * On WebGPU the attention and the MLP's bias + GELU are one fused kernel each (fused.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import { headSize } from './config';
import { biasGeluFused, causalAttentionFused, fusedKernelsOn } from './fused';
import { inferenceKernelsOn } from './inferenceKernels';
import { causalAttention, gelu, layerNorm, linear, MAX_FUSED_HEAD_SIZE, project, rotate, toHeads, withCache, type ForwardContext, type KVCache, type Rope } from './layers';
import { layerPrefix } from './params';

function attention(ctx: ForwardContext, x: tf.Tensor2D, layer: number, B: number, T: number, rope: Rope, cache?: KVCache): tf.Tensor2D {
  const { config } = ctx;
  const nH = config.numHeads;
  const hs = headSize(config);
  const p = `${layerPrefix(config, layer)}attention.`;
  const qkv = linear(ctx, x, `${p}query_key_value`); // (B·T, 3C)
  if (!cache && rope.rd > 0 && rope.rd % 2 === 0 && hs <= MAX_FUSED_HEAD_SIZE && fusedKernelsOn()) {
    // Split, rotary, scores, mask, softmax, ·V and merge in one kernel (no KV cache: training, scoring).
    const merged = causalAttentionFused(qkv, rope.cos, rope.sin, { B, T, heads: nH, headSize: hs, rotaryDims: rope.rd }, rope.packed?.positionsTensor); // (B·T, C)
    return linear(ctx, merged, `${p}dense`);
  }
  // Per-head interleaved: each head owns a contiguous [q | k | v] slice of 3·hs (not GPT-2's [q|k|v]).
  const heads = tf.reshape(qkv, [B, T, nH, 3 * hs]);
  const [q0, k0, v0] = tf.split(heads, 3, 3); // (B, T, nH, hs) each
  const q = rotate(toHeads(q0 as tf.Tensor4D), rope); // (B, nH, T, hs)
  const [k, v] = withCache(cache, layer, rotate(toHeads(k0 as tf.Tensor4D), rope), toHeads(v0 as tf.Tensor4D)); // (B, nH, S, hs)
  return linear(ctx, causalAttention(q, k, v, 1 / Math.sqrt(hs), rope.packed), `${p}dense`); // (B·T, C)
}

function mlp(ctx: ForwardContext, x: tf.Tensor2D, layer: number): tf.Tensor2D {
  const p = `${layerPrefix(ctx.config, layer)}mlp.`;
  if (fusedKernelsOn()) {
    const h = biasGeluFused(project(ctx, x, `${p}dense_h_to_4h`), ctx.params[`${p}dense_h_to_4h.bias`]); // (B·T, I): bias and GELU in one pass
    return linear(ctx, h, `${p}dense_4h_to_h`); // (B·T, C)
  }
  return linear(ctx, gelu(linear(ctx, x, `${p}dense_h_to_4h`)), `${p}dense_4h_to_h`); // (B·T, I) → (B·T, C)
}

/** One GPT-NeoX layer on the residual stream x (B·T, C) → (B·T, C). */
export function neoxBlock(ctx: ForwardContext, x: tf.Tensor2D, layer: number, B: number, T: number, rope: Rope, cache?: KVCache): tf.Tensor2D {
  const { params: w, config } = ctx;
  const p = layerPrefix(config, layer);
  const fast = inferenceKernelsOn(ctx);
  const ln1 = layerNorm(x, w[`${p}input_layernorm.weight`], w[`${p}input_layernorm.bias`], config.layerNormEps, fast);
  const attn = attention(ctx, ln1, layer, B, T, rope, cache);
  if (config.useParallelResidual) {
    // x + attn(ln1(x)) + mlp(ln2(x))
    const ln2 = layerNorm(x, w[`${p}post_attention_layernorm.weight`], w[`${p}post_attention_layernorm.bias`], config.layerNormEps, fast);
    return tf.addN([x, attn, mlp(ctx, ln2, layer)]) as tf.Tensor2D;
  }
  const h = tf.add(x, attn) as tf.Tensor2D; // x + attn(ln1(x)); then h + mlp(ln2(h))
  const ln2 = layerNorm(h, w[`${p}post_attention_layernorm.weight`], w[`${p}post_attention_layernorm.bias`], config.layerNormEps, fast);
  return tf.add(h, mlp(ctx, ln2, layer));
}
