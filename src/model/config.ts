/**
 * A model's configuration, read from a Hugging Face `config.json`, for every family the engine runs
 * (one reader per model_type, named as transformers' configuration classes name the fields).
 *
 * Only the fields the forward pass needs are kept; everything is validated so a bad file fails
 * here, with the field named, rather than as a shape error deep inside a matmul. A field that
 * would change the math and that the engine does not implement (rope_scaling, sliding windows,
 * another activation) is refused by name, never ignored.
 */

/** The model families the engine runs, by config.json's model_type (params.ts and forward.ts key on it). */
export const MODEL_TYPES = ['gpt_neox', 'llama', 'qwen2', 'qwen3', 'gpt2'] as const;
export type ModelType = (typeof MODEL_TYPES)[number];

/** The families as people know them, for messages and the model card. */
export const FAMILY_NAMES: Record<ModelType, string> = { gpt_neox: 'GPT-NeoX', llama: 'Llama', qwen2: 'Qwen2', qwen3: 'Qwen3', gpt2: 'GPT-2' };

/** Models of each family people know. */
const FAMILY_EXAMPLES: Record<ModelType, string> = { gpt_neox: 'Pythia', llama: 'SmolLM2, TinyLlama', qwen2: 'Qwen2.5', qwen3: 'Qwen3', gpt2: 'gpt2, distilgpt2' };

export interface ModelConfig {
  modelType: ModelType;
  vocabSize: number; // rows of the embedding and LM head (Pythia pads 50277 → 50304)
  hiddenSize: number; // C
  numLayers: number;
  numHeads: number; // nH, query heads
  numKvHeads: number; // key/value heads: nH / numKvHeads query heads share each (grouped-query attention); nH for GPT-NeoX and GPT-2
  headDim: number; // hs: C / nH unless config.json says (head_dim)
  intermediateSize: number; // MLP width (4C for Pythia and GPT-2)
  maxPositions: number;
  rotaryPct: number; // share of each head's dims that get rotary (0.25 for Pythia, 1 for Llama and Qwen, 0 for GPT-2's learned positions)
  rotaryBase: number;
  layerNormEps: number; // LayerNorm's eps, or RMSNorm's (rms_norm_eps) for Llama and Qwen
  useParallelResidual: boolean; // GPT-NeoX only; the others are sequential
  tieWordEmbeddings: boolean; // the LM head is the input embedding (no separate weight in the file)
  qkvBias: boolean; // biases on the query, key and value projections
  outputBias: boolean; // a bias on the attention's output projection
  mlpBias: boolean;
  qkNorm: boolean; // Qwen3: RMSNorm over each head's q and k before rotary
  bosTokenId: number;
  eosTokenId: number;
}

/** Head size hs (C / nH unless config.json sets head_dim). */
export const headSize = (c: ModelConfig): number => c.headDim;

/** Rotary dims per head, as `int(head_size * rotary_pct)` in modeling_gpt_neox.py. */
export const rotaryDims = (c: ModelConfig): number => Math.floor(headSize(c) * c.rotaryPct);

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

type Json = Record<string, unknown>;

/**
 * Caps that comfortably admit every real model of these families (GPT-NeoX-20B has hidden 6144, 44
 * layers; Qwen's vocabulary is 151,936) but refuse a damaged or hostile config before anything is
 * sized from it.
 */
export const CONFIG_LIMITS = {
  vocab_size: 1_048_576,
  hidden_size: 65_536,
  num_hidden_layers: 1_000,
  intermediate_size: 262_144,
  max_position_embeddings: 1_048_576,
} as const;

/** What is wrong with a value, as the end of a sentence that starts with the field name; null if nothing. */
type Check = (v: number) => string | null;

const sizeUpTo =
  (max: number, family: string): Check =>
  (v) =>
    v < 1 ? `must be a positive integer, got ${v}` : v > max ? `is ${v}, over the ${max.toLocaleString('en-US')} this studio accepts: no ${family} model is that large` : null;

const positive: Check = (v) => (v > 0 ? null : `must be positive, got ${v}`);

/** Typed, checked reads of one config.json's fields; messages name the field as the file spells it. */
class Fields {
  constructor(
    private readonly json: Json,
    private readonly family: string,
  ) {}

  private value(names: string[], kind: 'int' | 'number' | 'bool', fallback?: number | boolean, check?: Check): number | boolean {
    const name = names.find((n) => this.json[n] !== undefined && this.json[n] !== null);
    if (name === undefined) {
      if (fallback !== undefined) return fallback;
      throw new ConfigError(`config.json is missing "${names[0]}"${names.length > 1 ? ` (or "${names.slice(1).join('" / "')}")` : ''}: add it, or load the model's original config.json`);
    }
    const v = this.json[name];
    if (kind === 'bool') {
      if (typeof v !== 'boolean') throw new ConfigError(`config.json field "${name}" must be true or false, got ${JSON.stringify(v)}`);
      return v;
    }
    // String(v) for numbers: JSON.stringify would print Infinity and NaN as "null".
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new ConfigError(`config.json field "${name}" must be a number, got ${typeof v === 'number' ? v : JSON.stringify(v)}`);
    if (kind === 'int' && (!Number.isInteger(v) || v < 0)) throw new ConfigError(`config.json field "${name}" must be a non-negative integer, got ${v}`);
    const problem = check?.(v);
    if (problem) throw new ConfigError(`config.json field "${name}" ${problem}: the file is damaged or not a ${this.family} config; load the model's original config.json`);
    return v;
  }

  int = (names: string[], fallback?: number, check?: Check): number => this.value(names, 'int', fallback, check) as number;
  num = (names: string[], fallback?: number, check?: Check): number => this.value(names, 'number', fallback, check) as number;
  bool = (names: string[], fallback: boolean): boolean => this.value(names, 'bool', fallback) as boolean;
  size = (names: string[], cap: keyof typeof CONFIG_LIMITS, fallback?: number): number => this.int(names, fallback, sizeUpTo(CONFIG_LIMITS[cap], this.family));

  /** A token id, or the first of a list (some repos give several EOS ids); absent or null: `fallback`. */
  tokenId(name: string, fallback: number): number {
    const v = this.json[name];
    const first = Array.isArray(v) ? v[0] : v;
    if (first === undefined || first === null) return fallback;
    if (typeof first !== 'number' || !Number.isInteger(first) || first < 0) throw new ConfigError(`config.json field "${name}" must be a token id (a non-negative integer, or a list of them), got ${JSON.stringify(v)}`);
    return first;
  }

  /** Refuses a field whose value would change the math in a way the engine does not implement. */
  refuse(name: string, allowed: (v: unknown) => boolean, why: string): void {
    const v = this.json[name];
    if (v !== undefined && v !== null && !allowed(v)) throw new ConfigError(`config.json has ${name} ${JSON.stringify(v)}: ${why}`);
  }
}

/** rope_scaling: absent, null, or the default type are the plain rotary; every scaled type is refused by name. */
function refuseRopeScaling(j: Json): void {
  for (const key of ['rope_scaling', 'rope_parameters']) {
    const v = j[key];
    if (v === undefined || v === null) continue;
    const type = typeof v === 'object' ? ((v as Json).rope_type ?? (v as Json).type ?? 'default') : v;
    if (type !== 'default') {
      throw new ConfigError(`config.json sets ${key} of type ${JSON.stringify(type)}: scaled rotary embeddings are not implemented here (only the default rotary is); use a model without ${key}`);
    }
  }
}

function parseNeoX(j: Json): ModelConfig {
  const f = new Fields(j, 'GPT-NeoX');
  f.refuse('hidden_act', (v) => v === 'gelu', 'only "gelu" (exact erf GELU, as in Pythia) is supported for GPT-NeoX');
  if (j.tie_word_embeddings === true) {
    throw new ConfigError('config.json has tie_word_embeddings true: GPT-NeoX checkpoints have an untied embed_out; this one is not supported');
  }
  if (j.rope_scaling !== undefined && j.rope_scaling !== null) {
    throw new ConfigError('config.json sets rope_scaling: scaled rotary embeddings are not supported; use a model without rope_scaling');
  }
  // Every size is range-checked as it is read, so nothing downstream (paramSpecs, the loader,
  // buffers sized from the config) ever sees a zero, a fraction or a billion.
  const hiddenSize = f.size(['hidden_size'], 'hidden_size');
  const numHeads = f.size(['num_attention_heads'], 'hidden_size'); // divides hidden_size, checked below
  const cfg: ModelConfig = {
    modelType: 'gpt_neox',
    vocabSize: f.size(['vocab_size'], 'vocab_size'),
    hiddenSize,
    numLayers: f.size(['num_hidden_layers'], 'num_hidden_layers'),
    numHeads,
    numKvHeads: numHeads,
    headDim: hiddenSize / numHeads,
    intermediateSize: f.size(['intermediate_size'], 'intermediate_size'),
    maxPositions: f.size(['max_position_embeddings'], 'max_position_embeddings'),
    rotaryPct: f.num(['rotary_pct', 'partial_rotary_factor'], undefined, (v) => (v > 0 && v <= 1 ? null : `must be in (0, 1] (the share of each head rotated; Pythia uses 0.25), got ${v}`)),
    rotaryBase: f.num(['rotary_emb_base', 'rope_theta'], 10000, positive),
    layerNormEps: f.num(['layer_norm_eps'], 1e-5, positive),
    useParallelResidual: f.bool(['use_parallel_residual'], true),
    tieWordEmbeddings: false,
    qkvBias: true,
    outputBias: true,
    mlpBias: true,
    qkNorm: false,
    bosTokenId: f.tokenId('bos_token_id', 0),
    eosTokenId: f.tokenId('eos_token_id', 0),
  };
  if (cfg.hiddenSize % cfg.numHeads !== 0) {
    throw new ConfigError(
      `config.json: hidden_size (${cfg.hiddenSize}) must be divisible by num_attention_heads (${cfg.numHeads}): the file is not a valid GPT-NeoX config; load the model's original config.json`,
    );
  }
  if (rotaryDims(cfg) % 2 !== 0) {
    throw new ConfigError(`config.json: rotary dims (head size ${headSize(cfg)} × rotary_pct ${cfg.rotaryPct} = ${rotaryDims(cfg)}) must be even: the file is not a valid GPT-NeoX config`);
  }
  return cfg;
}

/**
 * Llama (LlamaConfig), Qwen2 (Qwen2Config) and Qwen3 (Qwen3Config): RMSNorm, rotary over the whole
 * head, grouped-query attention, SwiGLU. They differ in biases (Qwen2: q, k, v always; Llama and
 * Qwen3: q, k, v and o when attention_bias), Qwen3's per-head q/k norms, and head_dim.
 */
function parseLlamaLike(j: Json, type: 'llama' | 'qwen2' | 'qwen3'): ModelConfig {
  const family = FAMILY_NAMES[type];
  const f = new Fields(j, family);
  f.refuse('hidden_act', (v) => v === 'silu', `only "silu" (SwiGLU) is implemented for ${family}`);
  f.refuse('pretraining_tp', (v) => v === 1, 'tensor-parallel slicing of the projections is not implemented; use a checkpoint with pretraining_tp 1');
  f.refuse('use_sliding_window', (v) => v === false, 'sliding-window attention is not implemented; use a model with use_sliding_window false');
  refuseRopeScaling(j);
  const hiddenSize = f.size(['hidden_size'], 'hidden_size');
  const numHeads = f.size(['num_attention_heads'], 'hidden_size');
  // LlamaConfig and Qwen's fill an absent num_key_value_heads with num_attention_heads (no GQA).
  const numKvHeads = f.size(['num_key_value_heads'], 'hidden_size', numHeads);
  const bias = f.bool(['attention_bias'], false);
  const cfg: ModelConfig = {
    modelType: type,
    vocabSize: f.size(['vocab_size'], 'vocab_size'),
    hiddenSize,
    numLayers: f.size(['num_hidden_layers'], 'num_hidden_layers'),
    numHeads,
    numKvHeads,
    headDim: f.size(['head_dim'], 'hidden_size', Math.floor(hiddenSize / numHeads)),
    intermediateSize: f.size(['intermediate_size'], 'intermediate_size'),
    maxPositions: f.size(['max_position_embeddings'], 'max_position_embeddings'),
    rotaryPct: 1,
    rotaryBase: f.num(['rope_theta'], 10000, positive),
    layerNormEps: f.num(['rms_norm_eps'], 1e-6, positive),
    useParallelResidual: false,
    tieWordEmbeddings: f.bool(['tie_word_embeddings'], false),
    qkvBias: type === 'qwen2' || bias,
    outputBias: type !== 'qwen2' && bias,
    mlpBias: type === 'llama' && f.bool(['mlp_bias'], false),
    qkNorm: type === 'qwen3',
    bosTokenId: f.tokenId('bos_token_id', 0),
    eosTokenId: f.tokenId('eos_token_id', 0),
  };
  if (numHeads % numKvHeads !== 0) {
    throw new ConfigError(`config.json: num_attention_heads (${numHeads}) must be a multiple of num_key_value_heads (${numKvHeads}): each key/value head serves a whole group of query heads`);
  }
  if (cfg.headDim % 2 !== 0) throw new ConfigError(`config.json: head_dim ${cfg.headDim} must be even (rotary turns pairs of dims)`);
  if (j.head_dim === undefined && hiddenSize % numHeads !== 0) {
    throw new ConfigError(`config.json: hidden_size (${hiddenSize}) must be divisible by num_attention_heads (${numHeads}) when head_dim is not given`);
  }
  return cfg;
}

/** GPT-2 (GPT2Config: n_embd, n_layer, n_head, n_positions, n_inner; learned positions, tanh GELU, tied head). */
function parseGpt2(j: Json): ModelConfig {
  const f = new Fields(j, 'GPT-2');
  f.refuse('activation_function', (v) => v === 'gelu_new' || v === 'gelu_pytorch_tanh', 'only the tanh GELU ("gelu_new", GPT-2\'s own) is implemented for GPT-2');
  f.refuse('scale_attn_by_inverse_layer_idx', (v) => v === false, 'scaling attention by the inverse layer index is not implemented');
  f.refuse('scale_attn_weights', (v) => v === true, 'unscaled attention scores are not implemented');
  f.refuse('add_cross_attention', (v) => v === false, 'cross-attention (an encoder-decoder GPT-2) is not a causal language model');
  const hiddenSize = f.size(['n_embd', 'hidden_size'], 'hidden_size');
  const numHeads = f.size(['n_head', 'num_attention_heads'], 'hidden_size');
  if (hiddenSize % numHeads !== 0) throw new ConfigError(`config.json: n_embd (${hiddenSize}) must be divisible by n_head (${numHeads}): the file is not a valid GPT-2 config`);
  return {
    modelType: 'gpt2',
    vocabSize: f.size(['vocab_size'], 'vocab_size'),
    hiddenSize,
    numLayers: f.size(['n_layer', 'num_hidden_layers'], 'num_hidden_layers'),
    numHeads,
    numKvHeads: numHeads,
    headDim: hiddenSize / numHeads,
    intermediateSize: f.size(['n_inner'], 'intermediate_size', 4 * hiddenSize),
    maxPositions: f.size(['n_positions', 'max_position_embeddings'], 'max_position_embeddings'),
    rotaryPct: 0,
    rotaryBase: 10000,
    layerNormEps: f.num(['layer_norm_epsilon'], 1e-5, positive),
    useParallelResidual: false,
    tieWordEmbeddings: f.bool(['tie_word_embeddings'], true),
    qkvBias: true,
    outputBias: true,
    mlpBias: true,
    qkNorm: false,
    bosTokenId: f.tokenId('bos_token_id', 50256),
    eosTokenId: f.tokenId('eos_token_id', 50256),
  };
}

const PARSERS: Record<ModelType, (j: Json) => ModelConfig> = {
  gpt_neox: parseNeoX,
  llama: (j) => parseLlamaLike(j, 'llama'),
  qwen2: (j) => parseLlamaLike(j, 'qwen2'),
  qwen3: (j) => parseLlamaLike(j, 'qwen3'),
  gpt2: parseGpt2,
};

/** Parse and validate a Hugging Face config.json (object or JSON text) of any supported family. */
/**
 * Every end-of-sequence id a config names: config.json's or generation_config.json's
 * eos_token_id, an id or a list of them (Qwen's instruct models list <|im_end|> and
 * <|endoftext|>), as transformers' generate stops at any of them. Anything else is ignored.
 */
export function eosTokenIds(json: unknown): number[] {
  const v = json && typeof json === 'object' ? (json as Record<string, unknown>).eos_token_id : undefined;
  return (Array.isArray(v) ? v : [v]).filter((id): id is number => typeof id === 'number' && Number.isInteger(id) && id >= 0);
}

export function parseConfig(input: unknown): ModelConfig {
  let json: unknown = input;
  if (typeof input === 'string') {
    try {
      json = JSON.parse(input);
    } catch (e) {
      throw new ConfigError(`config.json is not valid JSON (${(e as Error).message}): check the file is the model's config.json`);
    }
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new ConfigError('config.json must hold a JSON object');
  const j = json as Json;
  const modelType = j.model_type;
  if (typeof modelType !== 'string' || !(MODEL_TYPES as readonly string[]).includes(modelType)) {
    const supported = MODEL_TYPES.map((t) => `"${t}" (${FAMILY_EXAMPLES[t]})`).join(', ');
    throw new ConfigError(`config.json has model_type ${JSON.stringify(modelType ?? null)}: this studio runs ${supported}`);
  }
  return PARSERS[modelType as ModelType](j);
}

const ARCHITECTURES: Record<ModelType, string> = {
  gpt_neox: 'GPTNeoXForCausalLM',
  llama: 'LlamaForCausalLM',
  qwen2: 'Qwen2ForCausalLM',
  qwen3: 'Qwen3ForCausalLM',
  gpt2: 'GPT2LMHeadModel',
};

/** Serialise back to the Hugging Face layout (for exports and generated models), with each family's own field names. */
export function toHfConfig(c: ModelConfig, dtype: 'float32' | 'float16' = 'float32'): Record<string, unknown> {
  const common = { architectures: [ARCHITECTURES[c.modelType]], model_type: c.modelType, vocab_size: c.vocabSize };
  const tail = { bos_token_id: c.bosTokenId, eos_token_id: c.eosTokenId, tie_word_embeddings: c.tieWordEmbeddings, initializer_range: 0.02, use_cache: true, torch_dtype: dtype };
  if (c.modelType === 'gpt_neox') {
    return {
      ...common,
      hidden_size: c.hiddenSize,
      num_hidden_layers: c.numLayers,
      num_attention_heads: c.numHeads,
      intermediate_size: c.intermediateSize,
      max_position_embeddings: c.maxPositions,
      rotary_pct: c.rotaryPct,
      rotary_emb_base: c.rotaryBase,
      layer_norm_eps: c.layerNormEps,
      use_parallel_residual: c.useParallelResidual,
      hidden_act: 'gelu',
      bos_token_id: c.bosTokenId,
      eos_token_id: c.eosTokenId,
      tie_word_embeddings: false,
      initializer_range: 0.02,
      attention_dropout: 0,
      hidden_dropout: 0,
      use_cache: true,
      torch_dtype: dtype,
    }; // the key order every export fixture was written with
  }
  if (c.modelType === 'gpt2') {
    return {
      ...common,
      n_embd: c.hiddenSize,
      n_layer: c.numLayers,
      n_head: c.numHeads,
      n_inner: c.intermediateSize,
      n_positions: c.maxPositions,
      n_ctx: c.maxPositions,
      layer_norm_epsilon: c.layerNormEps,
      activation_function: 'gelu_new',
      scale_attn_weights: true,
      attn_pdrop: 0,
      embd_pdrop: 0,
      resid_pdrop: 0,
      ...tail,
    };
  }
  return {
    ...common,
    hidden_size: c.hiddenSize,
    num_hidden_layers: c.numLayers,
    num_attention_heads: c.numHeads,
    num_key_value_heads: c.numKvHeads,
    head_dim: c.headDim,
    intermediate_size: c.intermediateSize,
    max_position_embeddings: c.maxPositions,
    rope_theta: c.rotaryBase,
    rope_scaling: null,
    rms_norm_eps: c.layerNormEps,
    hidden_act: 'silu',
    ...(c.modelType === 'qwen2' ? { use_sliding_window: false } : { attention_bias: c.qkvBias }),
    ...(c.modelType === 'llama' ? { mlp_bias: c.mlpBias } : {}),
    ...(c.modelType === 'qwen3' ? { use_sliding_window: false } : {}),
    attention_dropout: 0,
    ...tail,
  };
}
