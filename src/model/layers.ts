/**
 * The building blocks every family's forward is made of (forward.ts composes them per model_type):
 * products with a weight (with LoRA), embeddings, norms, activations, rotary, and causal attention
 * with grouped key/value heads and a KV cache.
 *
 * Synchronous pure functions over tfjs tensors; callers wrap them in tf.tidy.
 * Activations are kept 2-D (B·T, C) around every weight matmul: the gradient of a
 * 3-D × 2-D matMul has the wrong shape in tfjs (#8721), and 2-D is what the kernels like.
 */
import * as tf from '@tensorflow/tfjs-core';
import { rotaryDims, type ModelConfig } from './config';
import { BF16_MAX_ROWS, bf16Product, type Bf16Copy } from './bf16Weights';
import { biasAddFused, fusedKernelsOn, layerNormFused } from './fused';
import { layerNormInference, rmsNormInference, rotaryInference } from './inferenceKernels';
import { matMulFrozenT, matMulWT, matMulWTFrozen } from './matmul';
import { modelNames, type Params } from './params';
import { mulberry32 } from './random';

/** Per-layer keys and values of the tokens seen so far: (B, nKV, S, hs) each: sized for the key/value heads. */
export interface KVCache {
  k: tf.Tensor4D[];
  v: tf.Tensor4D[];
  length: number; // S, the number of cached positions
}

export interface ForwardContext {
  params: Params;
  config: ModelConfig;
  /** Optional Wᵀ copies of the matrices, by name (see transposedWeights): decoding then skips a transpose per weight per token. */
  transposed?: Params;
  /** Optional bfloat16 copies of frozen matrices, by name (bf16Weights.ts): decoding then reads half the bytes per token. */
  bf16?: Record<string, Bf16Copy>;
  /**
   * The parameters being differentiated (lossAndGrads sets it to its names). Every other weight is
   * frozen: its products skip the dW half of the backward, and only frozen weights use `transposed`
   * (a trainable weight's copy would go stale after the first update). Absent: all weights are
   * treated as trainable, and `transposed` is used as given (inference).
   */
  trainable?: ReadonlySet<string>;
  /** LoRA settings; required when params hold adapters (`<linear>.lora_A.weight` / `.lora_B.weight`). */
  lora?: LoraContext;
  /** NEFTune: noise on the token embeddings, while training only (the trainer sets it per micro-batch). */
  neftune?: { alpha: number; seed: number };
}

export interface LoraContext {
  /** The factor on B·A: alpha / rank (PEFT's default), or alpha / √rank with rsLoRA (train/lora.ts loraScale). */
  scale: number;
  /** Dropout rate on the adapters' input (PEFT's lora_dropout); 0 when not training. */
  dropout: number;
  /** Seeds the dropout masks, so a step is reproducible: the trainer passes a fresh one per micro-batch. */
  seed: number;
}

/**
 * Wᵀ of every weight a product takes (block linears and the LM head), for inference with frozen
 * weights (doubles their memory). Not the lookups (an untied embedding, GPT-2's positions). None
 * with the fused WebGPU kernels: their products read W transposed in the shader.
 */
export function transposedWeights(params: Params, config: ModelConfig): Params {
  const out: Params = {};
  if (fusedKernelsOn()) return out;
  const names = modelNames(config);
  const lookups = new Set([names.positions, names.head === names.embed ? undefined : names.embed]);
  for (const [name, t] of Object.entries(params)) {
    if (t.rank === 2 && !lookups.has(name)) out[name] = tf.transpose(t);
  }
  return out;
}

/** The precomputed Wᵀ for a weight, if the context has one and the weight is frozen (see ForwardContext.trainable). */
export function transposedOf(ctx: ForwardContext, name: string): tf.Tensor2D | undefined {
  return ctx.trainable?.has(name) ? undefined : (ctx.transposed?.[name] as tf.Tensor2D | undefined);
}

/** x Wᵀ for the named weight, with a weight gradient only if it is being trained. */
export function weightProduct(ctx: ForwardContext, x: tf.Tensor2D, name: string): tf.Tensor2D {
  const w = ctx.params[name] as tf.Tensor2D | undefined;
  if (!w) return frozenFromTransposed(ctx, x, name);
  // A copy serves inference on the very tensor it was made from (a full run's own W replaces it).
  const half = ctx.bf16?.[name];
  if (half && half.of === w && !ctx.trainable && x.shape[0] <= BF16_MAX_ROWS) return bf16Product(x, half);
  // With the fused WebGPU kernels, the shader reads W transposed: no transpose copy, and tfjs's
  // own gradient (dx = dy·W, dW = dyᵀ·x) is skipped for a frozen W, which is not on the tape.
  if (fusedKernelsOn()) return tf.matMul(x, w, false, true); // (N, in) @ (out, in)ᵀ → (N, out)
  const frozen = ctx.trainable !== undefined && !ctx.trainable.has(name);
  return frozen ? matMulWTFrozen(x, w, transposedOf(ctx, name)) : matMulWT(x, w, transposedOf(ctx, name));
}

/** x Wᵀ for a weight held only as Wᵀ (the decoding layout, decodeLayout.ts): frozen by construction. */
function frozenFromTransposed(ctx: ForwardContext, x: tf.Tensor2D, name: string): tf.Tensor2D {
  const wT = ctx.transposed?.[name] as tf.Tensor2D | undefined;
  if (!wT) throw new Error(`the model has no weight ${name}`);
  if (ctx.trainable?.has(name)) throw new Error(`${name} is held for decoding only (as Wᵀ) and cannot be trained: restore the training layout first`);
  return ctx.trainable ? matMulFrozenT(x, wT) : tf.matMul(x, wT); // (N, in) @ (in, out) → (N, out); no tape in inference
}

/** 32-bit FNV-1a of a name, started from the seed: one independent stream per (seed, linear). */
function streamSeed(seed: number, name: string): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/**
 * Inverted-dropout mask: 0 with probability p, else 1/(1−p). Drawn on the host from mulberry32,
 * so a (seed, linear) pair gives the same mask on every backend.
 */
function dropoutMask(shape: [number, number], p: number, seed: number, name: string): tf.Tensor2D {
  const rand = mulberry32(streamSeed(seed, name));
  const keep = 1 / (1 - p);
  const m = new Float32Array(shape[0] * shape[1]);
  for (let i = 0; i < m.length; i++) m[i] = rand() < p ? 0 : keep;
  return tf.tensor2d(m, shape);
}

/**
 * y = x Wᵀ + b, W in the PyTorch [out, in] layout, plus the LoRA update when the params hold
 * adapters for this linear: y += scale · (drop(x) Aᵀ) Bᵀ, A (r, in), B (out, r), as PEFT's Linear.
 * Not tf.fused.matMul: on WASM (tfjs 4.22) its bias is wrong when transposeB is set.
 */
export function linear(ctx: ForwardContext, x: tf.Tensor2D, name: string): tf.Tensor2D {
  return project(ctx, x, name, ctx.params[`${name}.bias`] !== undefined);
}

/**
 * x Wᵀ (+ b when `withBias`), plus the LoRA update when the params hold adapters; the bias is
 * added before the update, the order every checkpoint and export fixture was made with.
 */
export function project(ctx: ForwardContext, x: tf.Tensor2D, name: string, withBias = false): tf.Tensor2D {
  const xw = weightProduct(ctx, x, `${name}.weight`); // (N, out)
  const bias = ctx.params[`${name}.bias`];
  const y = !withBias ? xw : fusedKernelsOn() ? biasAddFused(xw, bias) : (tf.add(xw, bias) as tf.Tensor2D);
  const a = `${name}.lora_A.weight`;
  if (ctx.params[a] === undefined) return y;
  if (!ctx.lora) throw new Error(`${name} has a LoRA adapter but the forward context has no lora settings (scale, dropout, seed)`);
  const { scale, dropout, seed } = ctx.lora;
  const xd = dropout > 0 ? tf.mul<tf.Tensor2D>(x, dropoutMask(x.shape, dropout, seed, name)) : x; // (N, in)
  const down = tf.mul<tf.Tensor2D>(weightProduct(ctx, xd, a), scale); // (N, r): scaling the rank-r side is the cheap place
  return tf.add(y, weightProduct(ctx, down, `${name}.lora_B.weight`)); // (N, out)
}

/** LayerNorm over the last dimension; `inference` (inferenceKernelsOn) takes the one-kernel version where there is no gradient. */
export function layerNorm(x: tf.Tensor2D, weight: tf.Tensor, bias: tf.Tensor, eps: number, inference = false): tf.Tensor2D {
  if (fusedKernelsOn()) return layerNormFused(x, weight, bias, eps); // one dispatch, not ten
  if (inference) return layerNormInference(x, weight, bias, eps);
  const { mean, variance } = tf.moments(x, -1, true); // (N, 1)
  return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps))), weight), bias);
}

/** Exact GELU, 0.5·x·(1 + erf(x/√2)) (hidden_act "gelu" in transformers, not the tanh one). */
export function gelu(x: tf.Tensor2D): tf.Tensor2D {
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1));
}

/**
 * Embedding lookup with its own gradient: a scatter-add of the output gradient into the used rows.
 * The default gradient of gather needs UnsortedSegmentSum, which the WASM backend lacks.
 * The weight is the only input (ids are closed over), so when it is frozen the lookup is off
 * tf.grads' x → y path and this gradFunc never runs: a frozen embedding costs no backward.
 */
export function embed(weight: tf.Tensor2D, ids: tf.Tensor1D): tf.Tensor2D {
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [w, save] = args as [tf.Tensor, tf.GradSaveFunc];
    save([ids]); // kept alive for the backward pass
    return {
      value: tf.gather(w, ids), // (N, C)
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.scatterND(tf.expandDims(saved[0], 1), dy, w.shape), // (V, C); duplicates add up
    };
  });
  return f(weight) as tf.Tensor2D;
}

/** RMSNorm over the last dimension: w · x / √(mean(x²) + eps) (LlamaRMSNorm; the variance in float32, as everything here). */
export function rmsNorm(x: tf.Tensor, weight: tf.Tensor, eps: number, inference = false): tf.Tensor {
  if (inference) return rmsNormInference(x, weight, eps);
  return tf.mul(tf.mul(x, tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), eps))), weight);
}

/** GPT-2's "gelu_new": 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). */
export function geluTanh(x: tf.Tensor2D): tf.Tensor2D {
  const inner = tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), Math.sqrt(2 / Math.PI));
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1));
}

/** SiLU, x·σ(x) (Llama's and Qwen's hidden_act "silu"). */
export const silu = (x: tf.Tensor2D): tf.Tensor2D => tf.mul(x, tf.sigmoid(x));

/** cos and sin of the rotary angles for positions [start, start + T): (T, rd) each, as HF builds them in fp32. */
export function rotaryTables(config: ModelConfig, start: number, T: number): { cos: tf.Tensor2D; sin: tf.Tensor2D } {
  const rd = rotaryDims(config);
  const half = rd / 2;
  const cos = new Float32Array(T * rd);
  const sin = new Float32Array(T * rd);
  for (let i = 0; i < half; i++) {
    const invFreq = Math.fround(1 / Math.pow(config.rotaryBase, (2 * i) / rd));
    for (let t = 0; t < T; t++) {
      const angle = Math.fround((start + t) * invFreq);
      const c = Math.cos(angle);
      const s = Math.sin(angle);
      cos[t * rd + i] = cos[t * rd + i + half] = c; // emb = cat(freqs, freqs)
      sin[t * rd + i] = sin[t * rd + i + half] = s;
    }
  }
  return { cos: tf.tensor2d(cos, [T, rd]), sin: tf.tensor2d(sin, [T, rd]) };
}

/** Rotary on the first rd dims of each head: x·cos + rotate_half(x)·sin, rotate_half(x) = [-x₂, x₁]. */
export function applyRotary(x: tf.Tensor4D, cos: tf.Tensor, sin: tf.Tensor, rd: number): tf.Tensor4D {
  const hs = x.shape[3];
  if (rd === 0) return x;
  const half = rd / 2;
  const xr = rd === hs ? x : tf.slice(x, [0, 0, 0, 0], [-1, -1, -1, rd]); // (B, nH, T, rd)
  const x1 = tf.slice(xr, [0, 0, 0, 0], [-1, -1, -1, half]);
  const x2 = tf.slice(xr, [0, 0, 0, half], [-1, -1, -1, half]);
  const rotated = tf.concat([tf.neg(x2), x1], 3); // rotate_half: pairs i and i + rd/2
  const out = tf.add(tf.mul(xr, cos), tf.mul(rotated, sin)) as tf.Tensor4D;
  return rd === hs ? out : tf.concat([out, tf.slice(x, [0, 0, 0, rd], [-1, -1, -1, hs - rd])], 3);
}

/**
 * The largest head size the fused attention kernel takes: a backward thread keeps five rows of it
 * in registers (5 KB at 256), and a shader that does not fit fails at pipeline creation, which
 * WebGPU reports only as an uncaptured error. Pythia, GPT-2 and SmolLM2 use 64, Qwen 64 or 128.
 */
export const MAX_FUSED_HEAD_SIZE = 256;

/** Additive causal mask for T queries at positions past..past+T-1 over S = past + T keys: (T, S). */
function causalBias(T: number, S: number): tf.Tensor2D {
  const past = S - T;
  const m = new Float32Array(T * S);
  for (let i = 0; i < T; i++) for (let j = past + i + 1; j < S; j++) m[i * S + j] = -1e9;
  return tf.tensor2d(m, [T, S]);
}

/**
 * Rows holding several examples each (sequence packing): every token's position within its own
 * example, restarting at 0 where an example starts, as transformers' DataCollatorWithFlattening
 * gives them (its position_ids). Attention stays within an example and rotary (or GPT-2's learned
 * positions) counts from each example's start, so each example is computed as if it were alone.
 */
export interface PackedRows {
  /** Each token's position in its example (a row's padding continues its last example's), on the device for the fused attention kernel: (B·T) int32. */
  positionsTensor: tf.Tensor1D;
  /** Rotary tables per token, (B, 1, T, rd) each: the (T, rd) tables' rows at each token's position. */
  cos: tf.Tensor4D;
  sin: tf.Tensor4D;
  /** The additive block-diagonal causal mask, (B, 1, T, T): query i sees keys i − positions[i] … i. */
  bias: tf.Tensor4D;
}

/** Throws unless positions (B·T) count up by one within each example and restart at 0 (the only way packing writes them). */
function checkPackedPositions(positions: Int32Array, B: number, T: number): void {
  if (positions.length !== B * T) throw new Error(`packed positions: ${positions.length} for a ${B}×${T} batch`);
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < T; i++) {
      const p = positions[b * T + i];
      if (p === 0 || (i > 0 && p === positions[b * T + i - 1] + 1)) continue;
      throw new Error(`packed positions must count up from 0 within each example (row ${b}, token ${i} has position ${p})`);
    }
  }
}

/** Builds the packed rows' tensors from checked positions (B·T); the rotary tables are (T, rd) (rd may be 0). */
function packedRows(positions: Int32Array, B: number, T: number, tables: { cos: tf.Tensor2D; sin: tf.Tensor2D }, rd: number): PackedRows {
  checkPackedPositions(positions, B, T);
  const m = new Float32Array(B * T * T).fill(-1e9);
  for (let r = 0; r < B * T; r++) {
    const i = r % T;
    m.fill(0, r * T + i - positions[r], r * T + i + 1); // keys start … i of this example
  }
  const positionsTensor = tf.tensor1d(positions, 'int32');
  const perToken = (t: tf.Tensor2D) => tf.reshape(tf.gather(t, positionsTensor), [B, 1, T, rd]) as tf.Tensor4D;
  return { positionsTensor, cos: perToken(tables.cos), sin: perToken(tables.sin), bias: tf.tensor4d(m, [B, 1, T, T]) };
}

/**
 * What a forward pass shares across layers: the rotary tables (T, rd) for positions start … start + T − 1
 * and, for packed rows, their positions and mask. The caller disposes them (disposeRope).
 */
export interface Rope {
  cos: tf.Tensor2D;
  sin: tf.Tensor2D;
  rd: number;
  packed?: PackedRows;
  /** Rotary by the one-kernel version (inferenceKernelsOn: a forward that takes no gradient). */
  inference?: boolean;
}

/** The rotary tables for T positions from start, and, given packed positions (B·T), the packed rows' tensors. */
export function ropeFor(config: ModelConfig, start: number, T: number, packed?: { positions: Int32Array; B: number }): Rope {
  const rope: Rope = { ...rotaryTables(config, start, T), rd: rotaryDims(config) };
  if (packed) {
    if (start !== 0) throw new Error('packed rows cannot continue a KV cache');
    rope.packed = packedRows(packed.positions, packed.B, T, rope, rope.rd);
  }
  return rope;
}

export function disposeRope(rope: Rope): void {
  const p = rope.packed;
  tf.dispose([rope.cos, rope.sin, ...(p ? [p.positionsTensor, p.cos, p.sin, p.bias] : [])]);
}

/**
 * (B, T, n, hs) → (B, n, T, hs). For one token (T = 1, every decoding step) the transpose moves
 * nothing, so it is a reshape: no copy, and one op fewer per head split.
 */
export function toHeads(x: tf.Tensor4D): tf.Tensor4D {
  const [B, T, n, hs] = x.shape;
  return T === 1 ? tf.reshape(x, [B, n, 1, hs]) : tf.transpose(x, [0, 2, 1, 3]);
}

/** Rotary with the forward's tables: one (T, rd) table for every row, or each token's own position when packed. */
export function rotate(x: tf.Tensor4D, rope: Rope): tf.Tensor4D {
  const p = rope.packed;
  if (rope.inference && !p && rope.rd > 0) return rotaryInference(x, rope.cos, rope.sin);
  return p ? applyRotary(x, p.cos, p.sin, rope.rd) : applyRotary(x, rope.cos, rope.sin, rope.rd);
}

/**
 * Causal softmax attention for q (B, nH, T, hs) over k, v (B, nKV, S, hs), S = past + T: query
 * head h reads key/value head h // (nH / nKV) (grouped-query attention, transformers' repeat_kv),
 * without repeating k and v: each group's queries are stacked as (g·T) rows over its one head.
 * Packed rows (see PackedRows) take their block-diagonal mask instead of the causal one.
 * Returns the heads merged, (B·T, nH·hs).
 */
export function causalAttention(q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D, scale: number, packed?: PackedRows): tf.Tensor2D {
  const [B, nH, T, hs] = q.shape;
  const [, nKV, S] = k.shape;
  const g = nH / nKV;
  const grouped = g === 1 ? q : tf.reshape(q, [B, nKV, g * T, hs]); // heads kv·g … kv·g + g − 1 are contiguous
  let scores = tf.mul(tf.matMul(grouped, k, false, true), scale); // (B, nKV, g·T, S)
  if (packed) scores = tf.add(scores, g === 1 ? packed.bias : tf.tile(packed.bias, [1, 1, g, 1])); // (B, 1, g·T, S): block-diagonal
  else if (T > 1) scores = tf.add(scores, g === 1 ? causalBias(T, S) : tf.tile(causalBias(T, S), [g, 1]));
  const probs = tf.softmax(scores); // fp32 softmax over keys
  const y = tf.reshape(tf.matMul(probs, v), [B, nH, T, hs]); // (B, nH, T, hs)
  return tf.reshape(T === 1 ? y : tf.transpose(y, [0, 2, 1, 3]), [B * T, nH * hs]) as tf.Tensor2D; // one token: already (B, 1, nH, hs) in memory
}

/** Appends this step's k and v (B, nKV, T, hs) to the layer's cache and returns the whole (B, nKV, S, hs). */
export function withCache(cache: KVCache | undefined, layer: number, k: tf.Tensor4D, v: tf.Tensor4D): [tf.Tensor4D, tf.Tensor4D] {
  if (!cache) return [k, v];
  if (cache.length > 0) {
    k = tf.concat([cache.k[layer], k], 2);
    v = tf.concat([cache.v[layer], v], 2);
  }
  cache.k[layer] = k;
  cache.v[layer] = v;
  return [k, v];
}

/** Throws, saying what to change, when a forward would run past the model's context. */
export function checkPositions(config: ModelConfig, positions: number): void {
  if (positions > config.maxPositions) {
    throw new Error(`sequence of ${positions} tokens is longer than the model's ${config.maxPositions} positions: shorten the prompt or lower max new tokens`);
  }
}

