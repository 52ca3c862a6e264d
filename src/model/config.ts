/**
 * GPT-NeoX configuration, read from a Hugging Face `config.json`.
 *
 * Only the fields the forward pass needs are kept; everything is validated so a
 * bad file fails here, with the field named, rather than as a shape error deep
 * inside a matmul.
 */

export interface NeoXConfig {
  vocabSize: number; // rows of embed_in / embed_out (Pythia pads 50277 → 50304)
  hiddenSize: number; // C
  numLayers: number;
  numHeads: number; // nH
  intermediateSize: number; // MLP width (4C for Pythia)
  maxPositions: number;
  rotaryPct: number; // share of each head's dims that get rotary (0.25 for Pythia)
  rotaryBase: number;
  layerNormEps: number;
  useParallelResidual: boolean;
  bosTokenId: number;
  eosTokenId: number;
}

/** Head size hs = C / nH. */
export const headSize = (c: NeoXConfig): number => c.hiddenSize / c.numHeads;

/** Rotary dims per head, as `int(head_size * rotary_pct)` in modeling_gpt_neox.py. */
export const rotaryDims = (c: NeoXConfig): number => Math.floor(headSize(c) * c.rotaryPct);

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

type Json = Record<string, unknown>;

/**
 * Caps that comfortably admit every real GPT-NeoX (the 20B has hidden 6144, 44 layers, vocab 50432)
 * but refuse a damaged or hostile config before anything is sized from it.
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
  (max: number): Check =>
  (v) =>
    v < 1 ? `must be a positive integer, got ${v}` : v > max ? `is ${v}, over the ${max.toLocaleString('en-US')} this studio accepts: no GPT-NeoX model is that large` : null;

function field(json: Json, names: string[], kind: 'int' | 'number' | 'bool', fallback?: number | boolean, check?: Check): number | boolean {
  const name = names.find((n) => json[n] !== undefined && json[n] !== null);
  if (name === undefined) {
    if (fallback !== undefined) return fallback;
    throw new ConfigError(`config.json is missing "${names[0]}"${names.length > 1 ? ` (or "${names.slice(1).join('" / "')}")` : ''}: add it, or load the model's original config.json`);
  }
  const v = json[name];
  if (kind === 'bool') {
    if (typeof v !== 'boolean') throw new ConfigError(`config.json field "${name}" must be true or false, got ${JSON.stringify(v)}`);
    return v;
  }
  // String(v) for numbers: JSON.stringify would print Infinity and NaN as "null".
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ConfigError(`config.json field "${name}" must be a number, got ${typeof v === 'number' ? v : JSON.stringify(v)}`);
  if (kind === 'int' && (!Number.isInteger(v) || v < 0)) throw new ConfigError(`config.json field "${name}" must be a non-negative integer, got ${v}`);
  const problem = check?.(v);
  if (problem) throw new ConfigError(`config.json field "${name}" ${problem}: the file is damaged or not a GPT-NeoX config; load the model's original config.json`);
  return v;
}

/** Parse and validate a Hugging Face GPT-NeoX config.json (object or JSON text). */
export function parseConfig(input: unknown): NeoXConfig {
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
  if (modelType !== 'gpt_neox') {
    throw new ConfigError(
      `config.json has model_type ${JSON.stringify(modelType ?? null)}: this studio runs GPT-NeoX models only (model_type "gpt_neox", e.g. EleutherAI/pythia-70m)`,
    );
  }
  const int = (names: string[], fallback?: number, check?: Check) => field(j, names, 'int', fallback, check) as number;
  const num = (names: string[], fallback?: number, check?: Check) => field(j, names, 'number', fallback, check) as number;
  const positive: Check = (v) => (v > 0 ? null : `must be positive, got ${v}`);

  const hiddenAct = j.hidden_act ?? 'gelu';
  if (hiddenAct !== 'gelu') {
    throw new ConfigError(`config.json has hidden_act ${JSON.stringify(hiddenAct)}: only "gelu" (exact erf GELU, as in Pythia) is supported`);
  }
  if (j.tie_word_embeddings === true) {
    throw new ConfigError('config.json has tie_word_embeddings true: GPT-NeoX checkpoints have an untied embed_out; this one is not supported');
  }
  const ropeScaling = j.rope_scaling;
  if (ropeScaling !== undefined && ropeScaling !== null) {
    throw new ConfigError('config.json sets rope_scaling: scaled rotary embeddings are not supported; use a model without rope_scaling');
  }

  // Every size is range-checked as it is read, so nothing downstream (paramSpecs, the loader,
  // buffers sized from the config) ever sees a zero, a fraction or a billion.
  const cfg: NeoXConfig = {
    vocabSize: int(['vocab_size'], undefined, sizeUpTo(CONFIG_LIMITS.vocab_size)),
    hiddenSize: int(['hidden_size'], undefined, sizeUpTo(CONFIG_LIMITS.hidden_size)),
    numLayers: int(['num_hidden_layers'], undefined, sizeUpTo(CONFIG_LIMITS.num_hidden_layers)),
    numHeads: int(['num_attention_heads'], undefined, sizeUpTo(CONFIG_LIMITS.hidden_size)), // divides hidden_size, checked below
    intermediateSize: int(['intermediate_size'], undefined, sizeUpTo(CONFIG_LIMITS.intermediate_size)),
    maxPositions: int(['max_position_embeddings'], undefined, sizeUpTo(CONFIG_LIMITS.max_position_embeddings)),
    rotaryPct: num(['rotary_pct', 'partial_rotary_factor'], undefined, (v) => (v > 0 && v <= 1 ? null : `must be in (0, 1] (the share of each head rotated; Pythia uses 0.25), got ${v}`)),
    rotaryBase: num(['rotary_emb_base', 'rope_theta'], 10000, positive),
    layerNormEps: num(['layer_norm_eps'], 1e-5, positive),
    useParallelResidual: field(j, ['use_parallel_residual'], 'bool', true) as boolean,
    bosTokenId: int(['bos_token_id'], 0),
    eosTokenId: int(['eos_token_id'], 0),
  };
  validate(cfg);
  return cfg;
}

/** Facts that tie fields together; each field alone is already in range. */
function validate(c: NeoXConfig): void {
  if (c.hiddenSize % c.numHeads !== 0) {
    throw new ConfigError(
      `config.json: hidden_size (${c.hiddenSize}) must be divisible by num_attention_heads (${c.numHeads}): the file is not a valid GPT-NeoX config; load the model's original config.json`,
    );
  }
  if (rotaryDims(c) % 2 !== 0) {
    throw new ConfigError(`config.json: rotary dims (head size ${headSize(c)} × rotary_pct ${c.rotaryPct} = ${rotaryDims(c)}) must be even: the file is not a valid GPT-NeoX config`);
  }
}

/** Serialise back to the Hugging Face layout (for exports and generated models). */
export function toHfConfig(c: NeoXConfig, dtype: 'float32' | 'float16' = 'float32'): Record<string, unknown> {
  return {
    architectures: ['GPTNeoXForCausalLM'],
    model_type: 'gpt_neox',
    vocab_size: c.vocabSize,
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
  };
}
