/**
 * The forward pass of every family: embeddings, the blocks, the final norm and the LM head, with
 * the block chosen by the config's model_type from one table (the blocks: gptNeox.ts, llama.ts,
 * gpt2.ts; their building blocks: layers.ts). Training, scoring and decoding with a KV cache all
 * come through here.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ModelType } from './config';
import { gpt2Block } from './gpt2';
import { neoxBlock } from './gptNeox';
import { checkPositions, embed, layerNorm, rmsNorm, ropeFor, weightProduct, type ForwardContext, type KVCache, type Rope } from './layers';
import { inferenceKernelsOn } from './inferenceKernels';
import { llamaBlock } from './llama';
import { hasLayerNorm, modelNames } from './params';

export { checkPositions, disposeRope, ropeFor, transposedOf, transposedWeights } from './layers';
export type { ForwardContext, KVCache, LoraContext, Rope } from './layers';

type Block = (ctx: ForwardContext, x: tf.Tensor2D, layer: number, B: number, T: number, rope: Rope, cache?: KVCache) => tf.Tensor2D;

/** The block of each model_type. */
const BLOCKS: Record<ModelType, Block> = {
  gpt_neox: neoxBlock,
  llama: llamaBlock,
  qwen2: llamaBlock,
  qwen3: llamaBlock,
  gpt2: gpt2Block,
};

/** One transformer layer on the residual stream x (B·T, C) → (B·T, C). */
export function block(ctx: ForwardContext, x: tf.Tensor2D, layer: number, B: number, T: number, rope: Rope, cache?: KVCache): tf.Tensor2D {
  return BLOCKS[ctx.config.modelType](ctx, x, layer, B, T, rope, cache);
}

/**
 * The residual stream's start: token embeddings of ids (B, T) as (B·T, C), plus GPT-2's learned
 * position embeddings for positions start … start + T − 1, or packed rows' own (B·T) positions.
 */
export function embedTokens(ctx: ForwardContext, ids: tf.Tensor2D, start = 0, packed?: Int32Array): tf.Tensor2D {
  const [B, T] = ids.shape;
  const names = modelNames(ctx.config);
  const looked = embed(ctx.params[names.embed] as tf.Tensor2D, tf.reshape(ids, [B * T]) as tf.Tensor1D); // (B·T, C)
  const tokens: tf.Tensor2D = ctx.neftune && ctx.neftune.alpha > 0 ? tf.add(looked, neftuneNoise(ctx.neftune, B * T, ctx.config.hiddenSize, T)) : looked; // (B·T, C)
  if (!names.positions) return tokens;
  const positions = packed ?? Int32Array.from({ length: B * T }, (_, i) => start + (i % T));
  return tf.add(tokens, embed(ctx.params[names.positions] as tf.Tensor2D, tf.tensor1d(positions, 'int32'))); // (B·T, C)
}

/**
 * NEFTune (Jain et al. 2023), as transformers' hook on the input embedding computes it: uniform
 * noise in ±alpha/√(T·C), T the padded sequence length, on the token embeddings (before GPT-2's
 * positions are added). Seeded, so a checkpointed backward that runs the embedding again adds the
 * same noise; a constant, so the embedding's gradient is unchanged.
 */
function neftuneNoise(n: { alpha: number; seed: number }, rows: number, C: number, T: number): tf.Tensor2D {
  const mag = n.alpha / Math.sqrt(T * C);
  return tf.randomUniform([rows, C], -mag, mag, 'float32', n.seed); // (B·T, C)
}

/** The final norm on the residual stream (B·T, C): LayerNorm (GPT-NeoX, GPT-2) or RMSNorm (Llama, Qwen). */
export function finalNorm(ctx: ForwardContext, x: tf.Tensor2D): tf.Tensor2D {
  const { finalNorm: n } = modelNames(ctx.config);
  const w = ctx.params;
  const eps = ctx.config.layerNormEps;
  const fast = inferenceKernelsOn(ctx);
  return hasLayerNorm(ctx.config) ? layerNorm(x, w[`${n}.weight`], w[`${n}.bias`], eps, fast) : (rmsNorm(x, w[`${n}.weight`], eps, fast) as tf.Tensor2D);
}

/**
 * Final hidden states (B·T, C) for ids (B, T). With a cache, positions continue after
 * cache.length and the cache's tensors are replaced by the extended ones (the caller owns disposal).
 * With packed positions (B·T), each row holds several examples (see PackedRows); no cache then.
 * Call inside tf.tidy: the rotary tables and masks are left to it.
 */
export function hiddenStates(ctx: ForwardContext, ids: tf.Tensor2D, cache?: KVCache, packed?: Int32Array): tf.Tensor2D {
  const [B, T] = ids.shape;
  const start = cache ? cache.length : 0;
  checkPositions(ctx.config, start + T);
  const rope = { ...ropeFor(ctx.config, start, T, packed && { positions: packed, B }), inference: inferenceKernelsOn(ctx) };
  let x = embedTokens(ctx, ids, start, packed); // (B·T, C)
  for (let i = 0; i < ctx.config.numLayers; i++) x = block(ctx, x, i, B, T, rope, cache);
  if (cache) cache.length = start + T;
  return finalNorm(ctx, x);
}

/** Logits for the given hidden rows: (N, C) @ headᵀ → (N, V). Use for a few rows only (V is 50k to 150k). */
export function lmHead(ctx: ForwardContext, h: tf.Tensor2D): tf.Tensor2D {
  return weightProduct(ctx, h, modelNames(ctx.config).head);
}
