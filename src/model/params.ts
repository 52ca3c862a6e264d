/**
 * The one parameter table, keyed by the Hugging Face checkpoint names.
 * Loading, random init, weight-decay groups and LoRA targets all derive from it
 * (llm.c `fill_in_parameter_sizes`, nanoGPT `configure_optimizers`).
 */
import * as tf from '@tensorflow/tfjs-core';
import { FAMILY_NAMES, type ModelConfig } from './config';
import { mulberry32, normalSampler } from './random';

export type ParamInit = 'normal' | 'ones' | 'zeros';

export interface ParamSpec {
  name: string; // HF name, e.g. gpt_neox.layers.0.attention.query_key_value.weight
  shape: number[]; // the engine's layout: every matrix a product takes is [out, in], as torch's Linear
  init: ParamInit;
  /** AdamW decays matrices only; biases and norms are excluded (as in nanoGPT). */
  decay: boolean;
  /** GPT-2's Conv1D: the file holds the matrix as [in, out]; loading and saving transpose it. */
  fileTransposed?: boolean;
}

/** name → tensor. Weights keep the PyTorch [out, in] layout; products take their transpose (matmul.ts, or read transposed by the fused WebGPU kernels). */
export type Params = Record<string, tf.Tensor>;

/** Where each family keeps the parameters the whole model shares (every name as its Hugging Face checkpoint spells it). */
export interface ModelNames {
  /** The token embedding (V, C). */
  embed: string;
  /** The LM head (V, C): the embedding itself when tie_word_embeddings is set. */
  head: string;
  /** GPT-2's learned positions (maxPositions, C). */
  positions?: string;
  /** The final norm's module (`.weight`, and `.bias` for a LayerNorm). */
  finalNorm: string;
  /** Layer i's module prefix, with the trailing dot. */
  layer: (i: number) => string;
}

const NAMES: Record<'gpt_neox' | 'llama' | 'gpt2', Omit<ModelNames, 'head'> & { untiedHead: string }> = {
  gpt_neox: { embed: 'gpt_neox.embed_in.weight', untiedHead: 'embed_out.weight', finalNorm: 'gpt_neox.final_layer_norm', layer: (i) => `gpt_neox.layers.${i}.` },
  llama: { embed: 'model.embed_tokens.weight', untiedHead: 'lm_head.weight', finalNorm: 'model.norm', layer: (i) => `model.layers.${i}.` },
  gpt2: { embed: 'transformer.wte.weight', untiedHead: 'lm_head.weight', positions: 'transformer.wpe.weight', finalNorm: 'transformer.ln_f', layer: (i) => `transformer.h.${i}.` },
};

/** The layout family: Qwen2 and Qwen3 name everything as Llama does. */
const layoutOf = (c: ModelConfig): keyof typeof NAMES => (c.modelType === 'gpt_neox' || c.modelType === 'gpt2' ? c.modelType : 'llama');

export function modelNames(c: ModelConfig): ModelNames {
  const { untiedHead, ...n } = NAMES[layoutOf(c)];
  return { ...n, head: c.tieWordEmbeddings ? n.embed : untiedHead };
}

export const layerPrefix = (c: ModelConfig, i: number): string => NAMES[layoutOf(c)].layer(i);

/** The layer a parameter belongs to, or null for the shared ones (embedding, positions, final norm, head). */
export function layerOf(c: ModelConfig, name: string): number | null {
  const m = /^(?:gpt_neox\.layers|model\.layers|transformer\.h)\.(\d+)\./.exec(name);
  return m && name.startsWith(layerPrefix(c, Number(m[1]))) ? Number(m[1]) : null;
}

/** A linear layer inside each block: its module name under the layer prefix (also its LoRA target name), [out, in], and whether it has a bias. */
export interface LinearSpec {
  module: string;
  out: number;
  in: number;
  bias: boolean;
}

/** The block's linears in the order the modules are declared in transformers (PEFT's order too). */
export function blockLinears(c: ModelConfig): LinearSpec[] {
  const C = c.hiddenSize;
  const I = c.intermediateSize;
  switch (layoutOf(c)) {
    case 'gpt_neox':
      return [
        { module: 'attention.query_key_value', out: 3 * C, in: C, bias: true },
        { module: 'attention.dense', out: C, in: C, bias: true },
        { module: 'mlp.dense_h_to_4h', out: I, in: C, bias: true },
        { module: 'mlp.dense_4h_to_h', out: C, in: I, bias: true },
      ];
    case 'gpt2':
      return [
        { module: 'attn.c_attn', out: 3 * C, in: C, bias: true },
        { module: 'attn.c_proj', out: C, in: C, bias: true },
        { module: 'mlp.c_fc', out: I, in: C, bias: true },
        { module: 'mlp.c_proj', out: C, in: I, bias: true },
      ];
    case 'llama': {
      const q = c.numHeads * c.headDim;
      const kv = c.numKvHeads * c.headDim;
      return [
        { module: 'self_attn.q_proj', out: q, in: C, bias: c.qkvBias },
        { module: 'self_attn.k_proj', out: kv, in: C, bias: c.qkvBias },
        { module: 'self_attn.v_proj', out: kv, in: C, bias: c.qkvBias },
        { module: 'self_attn.o_proj', out: C, in: q, bias: c.outputBias },
        { module: 'mlp.gate_proj', out: I, in: C, bias: c.mlpBias },
        { module: 'mlp.up_proj', out: I, in: C, bias: c.mlpBias },
        { module: 'mlp.down_proj', out: C, in: I, bias: c.mlpBias },
      ];
    }
  }
}

/**
 * A block linear's name in PEFT's target_modules, which PEFT matches as a suffix of the full module
 * name: the last part ('q_proj', 'query_key_value') unless a family has two linears ending so
 * (GPT-2's attn.c_proj and mlp.c_proj), which keep their block path.
 */
export function peftModuleName(module: string): string {
  const last = module.slice(module.lastIndexOf('.') + 1);
  return module.startsWith('attn.c_proj') || module.startsWith('mlp.c_proj') ? module : last;
}

/** The block linears' module names: what LoRA can target. */
export const linearNames = (c: ModelConfig): string[] => blockLinears(c).map((l) => l.module);

/**
 * PEFT's default target_modules per family (its TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING),
 * as the block's module names: what a LoRA run adapts unless told otherwise.
 */
export function defaultLoraTargets(c: ModelConfig): string[] {
  const layout = layoutOf(c);
  return layout === 'gpt_neox' ? ['attention.query_key_value'] : layout === 'gpt2' ? ['attn.c_attn'] : ['self_attn.q_proj', 'self_attn.v_proj'];
}

/** LoRA targets carried over to another model: those it has, or its family's default when it has none of them (a Pythia choice on a Llama). */
export function fitLoraTargets(c: ModelConfig, targets: readonly string[]): string[] {
  const kept = linearNames(c).filter((l) => targets.includes(l));
  return kept.length ? kept : defaultLoraTargets(c);
}

/**
 * The block linear a short or full module name means on this model ('q_proj' or 'self_attn.q_proj';
 * 'c_proj' alone is ambiguous on GPT-2, attn.c_proj or mlp.c_proj), or an error listing the choices.
 */
export function resolveLinear(c: ModelConfig, name: string): string {
  const n = name.trim();
  const hits = linearNames(c).filter((l) => l === n || l.endsWith(`.${n}`));
  if (hits.length === 1) return hits[0];
  const choices = linearNames(c).join(', ');
  throw new Error(hits.length ? `"${n}" could mean ${hits.join(' or ')}: write the full name` : `"${n}" is not a linear of this ${FAMILY_NAMES[c.modelType]} model: choose from ${choices}`);
}

/** A block linear's module name (as `blockLinears` lists them, e.g. 'self_attn.q_proj'). */
export type BlockLinear = string;

/** [out, in] of a block linear. */
export function linearShape(c: ModelConfig, linear: BlockLinear): [number, number] {
  const l = blockLinears(c).find((x) => x.module === linear);
  if (!l) throw new Error(`a ${FAMILY_NAMES[c.modelType]} block has no linear "${linear}" (it has ${linearNames(c).join(', ')})`);
  return [l.out, l.in];
}

/** The norms of a block, by module name, with their width; LayerNorms (GPT-NeoX, GPT-2) also have a bias. */
function blockNorms(c: ModelConfig): { module: string; width: number }[] {
  switch (layoutOf(c)) {
    case 'gpt_neox':
      return [{ module: 'input_layernorm', width: c.hiddenSize }, { module: 'post_attention_layernorm', width: c.hiddenSize }];
    case 'gpt2':
      return [{ module: 'ln_1', width: c.hiddenSize }, { module: 'ln_2', width: c.hiddenSize }];
    case 'llama':
      return [
        { module: 'input_layernorm', width: c.hiddenSize },
        { module: 'post_attention_layernorm', width: c.hiddenSize },
        ...(c.qkNorm ? [{ module: 'self_attn.q_norm', width: c.headDim }, { module: 'self_attn.k_norm', width: c.headDim }] : []),
      ];
  }
}

/** Whether the family's norms are LayerNorms (with a bias) rather than RMSNorms. */
export const hasLayerNorm = (c: ModelConfig): boolean => layoutOf(c) !== 'llama';

export function paramSpecs(c: ModelConfig): ParamSpec[] {
  const names = modelNames(c);
  const C = c.hiddenSize;
  const norm = (module: string, width: number): ParamSpec[] => [
    { name: `${module}.weight`, shape: [width], init: 'ones', decay: false },
    ...(hasLayerNorm(c) ? [{ name: `${module}.bias`, shape: [width], init: 'zeros' as const, decay: false }] : []),
  ];
  const specs: ParamSpec[] = [{ name: names.embed, shape: [c.vocabSize, C], init: 'normal', decay: true }];
  if (names.positions) specs.push({ name: names.positions, shape: [c.maxPositions, C], init: 'normal', decay: true });
  const conv1d = c.modelType === 'gpt2';
  for (let i = 0; i < c.numLayers; i++) {
    const p = layerPrefix(c, i);
    for (const n of blockNorms(c)) specs.push(...norm(`${p}${n.module}`, n.width));
    for (const l of blockLinears(c)) {
      specs.push({ name: `${p}${l.module}.weight`, shape: [l.out, l.in], init: 'normal', decay: true, ...(conv1d ? { fileTransposed: true } : {}) });
      if (l.bias) specs.push({ name: `${p}${l.module}.bias`, shape: [l.out], init: 'zeros', decay: false });
    }
  }
  specs.push(...norm(names.finalNorm, C));
  if (!c.tieWordEmbeddings) specs.push({ name: names.head, shape: [c.vocabSize, C], init: 'normal', decay: true });
  return specs;
}

export const countParams = (c: ModelConfig): number =>
  paramSpecs(c).reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0);

/**
 * Tensors Hub checkpoints carry beside the weights that are recomputed, never loaded: the causal
 * mask and its fill value (GPT-NeoX's attention.bias / masked_bias, GPT-2's attn.bias /
 * attn.masked_bias), the rotary frequencies, and a tied head's copy of the embedding.
 */
export function isSkippedBuffer(c: ModelConfig, name: string): boolean {
  if (/(^|\.)rotary_emb\.inv_freq$/.test(name)) return true;
  if (c.modelType === 'gpt_neox') return /\.attention\.(bias|masked_bias)$/.test(name);
  if (c.modelType === 'gpt2' && /(^|\.)h\.\d+\.attn\.(bias|masked_bias)$/.test(name)) return true;
  return c.tieWordEmbeddings && name === 'lm_head.weight';
}

/**
 * The engine's name for a tensor as a checkpoint names it: GPT-2 files saved from GPT2Model (the
 * original gpt2 repo among them) have no `transformer.` prefix; GPT2LMHeadModel's have it.
 */
export function canonicalName(c: ModelConfig, fileName: string): string {
  if (c.modelType !== 'gpt2' || fileName.startsWith('transformer.') || fileName === 'lm_head.weight') return fileName;
  return `transformer.${fileName}`;
}

/** Random init as in transformers' _init_weights: normal(0, std), biases 0, norms 1 (and 0). */
export function initRandomData(c: ModelConfig, seed = 0, std = 0.02): Map<string, Float32Array> {
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
export function paramsFromData(c: ModelConfig, data: Map<string, { shape: number[]; data: Float32Array }> | Map<string, Float32Array>): Params {
  const params: Params = {};
  for (const s of paramSpecs(c)) {
    const entry = data.get(s.name);
    if (entry === undefined) {
      for (const t of Object.values(params)) t.dispose();
      throw new Error(`the checkpoint has no tensor "${s.name}": is it a model matching its config.json?`);
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
