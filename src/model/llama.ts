/**
 * The Llama block, and its Qwen2 and Qwen3 variants, as transformers' modeling_llama.py,
 * modeling_qwen2.py and modeling_qwen3.py compute them:
 *   h = x + o_proj(attn(rmsnorm(x)));  h + down_proj(silu(gate_proj(m)) · up_proj(m)), m = rmsnorm(h)
 * with rotary over the whole head, grouped-query attention (nH query heads over nKV key/value
 * heads), and per family: Qwen2's q/k/v biases, Qwen3's RMSNorm over each head's q and k before
 * rotary. Which of these a model has comes from its config (config.ts), never from its name here.
 */
import * as tf from '@tensorflow/tfjs-core';
import { inferenceKernelsOn, swigluInference } from './inferenceKernels';
import { causalAttention, linear, rmsNorm, rotate, silu, toHeads, withCache, type ForwardContext, type KVCache, type Rope } from './layers';
import { layerPrefix } from './params';

function attention(ctx: ForwardContext, x: tf.Tensor2D, layer: number, B: number, T: number, rope: Rope, cache?: KVCache, fast = false): tf.Tensor2D {
  const { config, params: w } = ctx;
  const { numHeads: nH, numKvHeads: nKV, headDim: hs } = config;
  const p = `${layerPrefix(config, layer)}self_attn.`;
  /** (B·T, n·hs) → (B, T, n, hs), per-head RMSNorm on Qwen3's q and k, → (B, n, T, hs). */
  const heads = (t: tf.Tensor2D, n: number, norm?: string) => {
    if (T === 1 && !norm) return tf.reshape(t, [B, n, 1, hs]) as tf.Tensor4D; // one token: the heads are already in place
    const split = tf.reshape(t, [B, T, n, hs]) as tf.Tensor4D;
    return toHeads(norm ? (rmsNorm(split, w[`${p}${norm}.weight`], config.layerNormEps, fast) as tf.Tensor4D) : split);
  };
  const q = rotate(heads(linear(ctx, x, `${p}q_proj`), nH, config.qkNorm ? 'q_norm' : undefined), rope); // (B, nH, T, hs)
  const k = rotate(heads(linear(ctx, x, `${p}k_proj`), nKV, config.qkNorm ? 'k_norm' : undefined), rope); // (B, nKV, T, hs)
  const [kAll, vAll] = withCache(cache, layer, k, heads(linear(ctx, x, `${p}v_proj`), nKV)); // (B, nKV, S, hs)
  return linear(ctx, causalAttention(q, kAll, vAll, 1 / Math.sqrt(hs), rope.packed), `${p}o_proj`); // (B·T, nH·hs) → (B·T, C)
}

/** One Llama / Qwen2 / Qwen3 layer on the residual stream x (B·T, C) → (B·T, C). */
export function llamaBlock(ctx: ForwardContext, x: tf.Tensor2D, layer: number, B: number, T: number, rope: Rope, cache?: KVCache): tf.Tensor2D {
  const { params: w, config } = ctx;
  const p = layerPrefix(config, layer);
  const fast = inferenceKernelsOn(ctx);
  const h = tf.add(x, attention(ctx, rmsNorm(x, w[`${p}input_layernorm.weight`], config.layerNormEps, fast) as tf.Tensor2D, layer, B, T, rope, cache, fast)) as tf.Tensor2D;
  const m = rmsNorm(h, w[`${p}post_attention_layernorm.weight`], config.layerNormEps, fast) as tf.Tensor2D;
  const [gate, up] = [linear(ctx, m, `${p}mlp.gate_proj`), linear(ctx, m, `${p}mlp.up_proj`)]; // (B·T, I) each
  const gated = fast ? swigluInference(gate, up) : (tf.mul(silu(gate), up) as tf.Tensor2D); // (B·T, I)
  return tf.add(h, linear(ctx, gated, `${p}mlp.down_proj`));
}
