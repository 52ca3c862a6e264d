/**
 * The one parameter table, keyed by the Hugging Face checkpoint names.
 * Loading, random init, weight-decay groups and LoRA targets all derive from it
 * (llm.c `fill_in_parameter_sizes`, nanoGPT `configure_optimizers`).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { NeoXConfig } from './config';
import { mulberry32, normalSampler } from './random';

export type ParamInit = 'normal' | 'ones' | 'zeros';

export interface ParamSpec {
  name: string; // HF name, e.g. gpt_neox.layers.0.attention.query_key_value.weight
  shape: number[]; // PyTorch layout: Linear weights are [out, in]
  init: ParamInit;
  /** AdamW decays matrices only; biases and layer norms are excluded (as in nanoGPT). */
  decay: boolean;
}

/** name → tensor. Weights keep the PyTorch [out, in] layout; products take their transpose (matmul.ts, or read transposed by the fused WebGPU kernels). */
export type Params = Record<string, tf.Tensor>;

export const layerPrefix = (i: number): string => `gpt_neox.layers.${i}.`;

/** Linear layers inside each block, by their HF module names (also the LoRA target names). */
export const BLOCK_LINEARS = ['attention.query_key_value', 'attention.dense', 'mlp.dense_h_to_4h', 'mlp.dense_4h_to_h'] as const;
export type BlockLinear = (typeof BLOCK_LINEARS)[number];

export function linearShape(c: NeoXConfig, linear: BlockLinear): [number, number] {
  const C = c.hiddenSize;
  switch (linear) {
    case 'attention.query_key_value':
      return [3 * C, C];
    case 'attention.dense':
      return [C, C];
    case 'mlp.dense_h_to_4h':
      return [c.intermediateSize, C];
    case 'mlp.dense_4h_to_h':
      return [C, c.intermediateSize];
  }
}

export function paramSpecs(c: NeoXConfig): ParamSpec[] {
  const C = c.hiddenSize;
  const specs: ParamSpec[] = [{ name: 'gpt_neox.embed_in.weight', shape: [c.vocabSize, C], init: 'normal', decay: true }];
  for (let i = 0; i < c.numLayers; i++) {
    const p = layerPrefix(i);
    for (const ln of ['input_layernorm', 'post_attention_layernorm']) {
      specs.push({ name: `${p}${ln}.weight`, shape: [C], init: 'ones', decay: false });
      specs.push({ name: `${p}${ln}.bias`, shape: [C], init: 'zeros', decay: false });
    }
    for (const linear of BLOCK_LINEARS) {
      const [out, inp] = linearShape(c, linear);
      specs.push({ name: `${p}${linear}.weight`, shape: [out, inp], init: 'normal', decay: true });
      specs.push({ name: `${p}${linear}.bias`, shape: [out], init: 'zeros', decay: false });
    }
  }
  specs.push({ name: 'gpt_neox.final_layer_norm.weight', shape: [C], init: 'ones', decay: false });
  specs.push({ name: 'gpt_neox.final_layer_norm.bias', shape: [C], init: 'zeros', decay: false });
  specs.push({ name: 'embed_out.weight', shape: [c.vocabSize, C], init: 'normal', decay: true });
  return specs;
}

export const countParams = (c: NeoXConfig): number =>
  paramSpecs(c).reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0);

/**
 * Buffers that Hub checkpoints carry beside the weights; they are recomputed, never loaded:
 * the causal mask, its fill value, and the rotary frequencies.
 */
export const isSkippedBuffer = (name: string): boolean =>
  /\.attention\.(bias|masked_bias|rotary_emb\.inv_freq)$/.test(name) || /(^|\.)rotary_emb\.inv_freq$/.test(name);

/** Random init as in GPTNeoXPreTrainedModel._init_weights: normal(0, std), biases 0, layer norms 1/0. */
export function initRandomData(c: NeoXConfig, seed = 0, std = 0.02): Map<string, Float32Array> {
  const normal = normalSampler(mulberry32(seed));
  const out = new Map<string, Float32Array>();
  for (const s of paramSpecs(c)) {
    const a = new Float32Array(s.shape.reduce((x, y) => x * y, 1));
    if (s.init === 'ones') a.fill(1);
    else if (s.init === 'normal') for (let i = 0; i < a.length; i++) a[i] = normal() * std;
    out.set(s.name, a);
  }
  return out;
}

/** Upload host arrays as tensors, checking every spec'd parameter is present with the right size. */
export function paramsFromData(c: NeoXConfig, data: Map<string, { shape: number[]; data: Float32Array }> | Map<string, Float32Array>): Params {
  const params: Params = {};
  for (const s of paramSpecs(c)) {
    const entry = data.get(s.name);
    if (entry === undefined) {
      for (const t of Object.values(params)) t.dispose();
      throw new Error(`the checkpoint has no tensor "${s.name}": is it a GPT-NeoX model matching its config.json?`);
    }
    const arr = entry instanceof Float32Array ? entry : entry.data;
    const shape = entry instanceof Float32Array ? s.shape : entry.shape;
    if (shape.join(',') !== s.shape.join(',') || arr.length !== s.shape.reduce((x, y) => x * y, 1)) {
      for (const t of Object.values(params)) t.dispose();
      throw new Error(`tensor "${s.name}" has shape [${shape}] but config.json implies [${s.shape}]: the weights and config.json do not belong together`);
    }
    params[s.name] = tf.tensor(arr, s.shape, 'float32');
  }
  return params;
}

export function disposeParams(p: Params): void {
  for (const t of Object.values(p)) t.dispose();
}
