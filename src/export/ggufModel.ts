/**
 * A model as llama.cpp's GGUF: each family's architecture name, hyperparameters and tensor names,
 * as llama.cpp's convert_hf_to_gguf.py writes them (GPTNeoXModel, LlamaModel, Qwen2Model,
 * Qwen3Model, GPT2Model), and a LoRA adapter as convert_lora_to_gguf.py writes it.
 *
 * Two layouts differ from Hugging Face's and are reordered here, rows only:
 * - GPT-NeoX's fused query_key_value interleaves q, k, v per head; llama.cpp's `gptneox` splits
 *   attn_qkv into [all q | all k | all v].
 * - llama.cpp's `llama` applies rotary to adjacent pairs, transformers to the two halves of each
 *   head (rotate_half): q and k rows are permuted so that the halves become pairs (the
 *   converter's LlamaModel.permute). Qwen2 and Qwen3 run llama.cpp's NeoX-style rotary: no permute.
 * GPT-2's Conv1D weights are held as (out, in) here already, which is what llama.cpp reads.
 */
import { FAMILY_NAMES, rotaryDims, type ModelConfig, type ModelType } from '../model/config';
import { layerOf, layerPrefix, modelNames, paramSpecs } from '../model/params';
import { Q8_0_BLOCK, bool, f32, str, u32, writeGguf, type GgufTensor, type GgufTensorType, type GgufValue } from './ggufFile';
import { ggufVocab, type TokenizerSource } from './ggufVocab';

/** What a GGUF file stores its weights as: llama.cpp's --outtype names. */
export type GgufDtype = 'f32' | 'f16' | 'q8_0';
export const GGUF_DTYPES: readonly GgufDtype[] = ['f32', 'f16', 'q8_0'];

/** general.file_type: llama_ftype's ALL_F32, MOSTLY_F16, MOSTLY_Q8_0. */
const FILE_TYPE: Record<GgufDtype, number> = { f32: 0, f16: 1, q8_0: 7 };

interface Arch {
  /** general.architecture, and the prefix of its hyperparameter keys. */
  name: string;
  /** Module name under the layer prefix → GGUF tensor name under `blk.N.`. */
  blocks: Record<string, string>;
  hparams: (c: ModelConfig) => Record<string, GgufValue>;
  /** Rows of a block tensor in llama.cpp's order: new row r holds the HF row order[r]; null where unchanged. */
  rowOrder?: (c: ModelConfig, module: string, rows: number) => Int32Array | null;
  /** llama.cpp's loader for this architecture needs `output.weight` even when the head is tied (gptneox has no fallback to token_embd). */
  needsOutput?: boolean;
}

const LLAMA_BLOCKS: Record<string, string> = {
  input_layernorm: 'attn_norm',
  post_attention_layernorm: 'ffn_norm',
  'self_attn.q_proj': 'attn_q',
  'self_attn.k_proj': 'attn_k',
  'self_attn.v_proj': 'attn_v',
  'self_attn.o_proj': 'attn_output',
  'self_attn.q_norm': 'attn_q_norm',
  'self_attn.k_norm': 'attn_k_norm',
  'mlp.gate_proj': 'ffn_gate',
  'mlp.up_proj': 'ffn_up',
  'mlp.down_proj': 'ffn_down',
};

/** The keys every family's converter writes from config.json (TextModel.set_gguf_parameters). */
function commonHparams(a: string, c: ModelConfig): Record<string, GgufValue> {
  return {
    [`${a}.context_length`]: u32(c.maxPositions),
    [`${a}.embedding_length`]: u32(c.hiddenSize),
    [`${a}.block_count`]: u32(c.numLayers),
    [`${a}.feed_forward_length`]: u32(c.intermediateSize),
    [`${a}.attention.head_count`]: u32(c.numHeads),
  };
}

function llamaHparams(a: string) {
  return (c: ModelConfig): Record<string, GgufValue> => ({
    ...commonHparams(a, c),
    [`${a}.attention.head_count_kv`]: u32(c.numKvHeads),
    [`${a}.rope.freq_base`]: f32(c.rotaryBase),
    [`${a}.attention.layer_norm_rms_epsilon`]: f32(c.layerNormEps),
    [`${a}.attention.key_length`]: u32(c.headDim),
    [`${a}.attention.value_length`]: u32(c.headDim),
  });
}

/**
 * LlamaModel.permute: rows (heads, 2, hs/2) → (heads, hs/2, 2), so the two halves of each head
 * that transformers rotates together become the adjacent pairs llama.cpp rotates.
 */
function halvesToPairs(heads: number, rows: number): Int32Array {
  const hs = rows / heads;
  const half = hs / 2;
  const order = new Int32Array(rows);
  for (let h = 0; h < heads; h++) for (let j = 0; j < half; j++) for (let t = 0; t < 2; t++) order[h * hs + j * 2 + t] = h * hs + t * half + j;
  return order;
}

/** GPT-NeoX's query_key_value rows (heads, 3, hs) → (3, heads, hs): [all q | all k | all v]. */
function neoxQkvOrder(heads: number, rows: number): Int32Array {
  const hs = rows / heads / 3;
  const order = new Int32Array(rows);
  for (let part = 0; part < 3; part++) for (let h = 0; h < heads; h++) for (let i = 0; i < hs; i++) order[(part * heads + h) * hs + i] = (h * 3 + part) * hs + i;
  return order;
}

const ARCHS: Record<ModelType, Arch> = {
  gpt_neox: {
    name: 'gptneox',
    blocks: {
      input_layernorm: 'attn_norm',
      post_attention_layernorm: 'ffn_norm',
      'attention.query_key_value': 'attn_qkv',
      'attention.dense': 'attn_output',
      'mlp.dense_h_to_4h': 'ffn_up',
      'mlp.dense_4h_to_h': 'ffn_down',
    },
    hparams: (c) => ({
      ...commonHparams('gptneox', c),
      'gptneox.rope.dimension_count': u32(rotaryDims(c)),
      'gptneox.rope.freq_base': f32(c.rotaryBase),
      'gptneox.use_parallel_residual': bool(c.useParallelResidual),
      'gptneox.attention.layer_norm_epsilon': f32(c.layerNormEps),
    }),
    rowOrder: (c, module, rows) => (module === 'attention.query_key_value' ? neoxQkvOrder(c.numHeads, rows) : null),
    needsOutput: true,
  },
  llama: {
    name: 'llama',
    blocks: LLAMA_BLOCKS,
    hparams: (c) => ({ ...llamaHparams('llama')(c), 'llama.rope.dimension_count': u32(c.headDim), 'llama.vocab_size': u32(c.vocabSize) }),
    rowOrder: (c, module, rows) => (module === 'self_attn.q_proj' ? halvesToPairs(c.numHeads, rows) : module === 'self_attn.k_proj' ? halvesToPairs(c.numKvHeads, rows) : null),
  },
  qwen2: { name: 'qwen2', blocks: LLAMA_BLOCKS, hparams: llamaHparams('qwen2') },
  qwen3: { name: 'qwen3', blocks: LLAMA_BLOCKS, hparams: llamaHparams('qwen3') },
  gpt2: {
    name: 'gpt2',
    blocks: { ln_1: 'attn_norm', ln_2: 'ffn_norm', 'attn.c_attn': 'attn_qkv', 'attn.c_proj': 'attn_output', 'mlp.c_fc': 'ffn_up', 'mlp.c_proj': 'ffn_down' },
    hparams: (c) => ({ ...commonHparams('gpt2', c), 'gpt2.attention.layer_norm_epsilon': f32(c.layerNormEps) }),
  },
};

export const ggufArchitecture = (c: ModelConfig): string => ARCHS[c.modelType].name;

/** A parameter's GGUF name, the module it belongs to (for the row order) and its kind (weight or bias). */
interface Placed {
  gguf: string;
  layer: number | null;
  module: string | null;
}

function place(c: ModelConfig, hfName: string): Placed {
  const arch = ARCHS[c.modelType];
  const n = modelNames(c);
  if (hfName === n.embed) return { gguf: 'token_embd.weight', layer: null, module: null };
  if (hfName === n.head) return { gguf: 'output.weight', layer: null, module: null };
  if (n.positions && hfName === n.positions) return { gguf: 'position_embd.weight', layer: null, module: null };
  if (hfName.startsWith(`${n.finalNorm}.`)) return { gguf: `output_norm.${hfName.slice(n.finalNorm.length + 1)}`, layer: null, module: null };
  const layer = layerOf(c, hfName);
  if (layer !== null) {
    const rest = hfName.slice(layerPrefix(c, layer).length);
    const dot = rest.lastIndexOf('.');
    const module = rest.slice(0, dot);
    const name = arch.blocks[module];
    if (name) return { gguf: `blk.${layer}.${name}.${rest.slice(dot + 1)}`, layer, module };
  }
  throw new Error(`GGUF: no llama.cpp name for "${hfName}" in a ${FAMILY_NAMES[c.modelType]} model`);
}

/** Rows of a row-major (rows, cols) array in the given order. */
export function reorderRows(data: Float32Array, rows: number, order: Int32Array | null): Float32Array {
  if (!order) return data;
  const cols = data.length / rows;
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) out.set(data.subarray(order[r] * cols, (order[r] + 1) * cols), r * cols);
  return out;
}

/**
 * The GGUF type of one tensor, as the converter's prepare_tensors picks it: norms, biases, other
 * 1-D tensors and GPT-2's learned positions stay F32; Q8_0 falls back to F16 where a row is not
 * whole blocks of 32.
 */
function tensorType(dtype: GgufDtype, name: string, shape: number[]): GgufTensorType {
  if (dtype === 'f32' || shape.length < 2 || name === 'position_embd.weight') return 'F32';
  if (dtype === 'q8_0' && shape[shape.length - 1] % Q8_0_BLOCK === 0) return 'Q8_0';
  return 'F16';
}

export interface GgufModelInput {
  config: ModelConfig;
  /** float32 weights by Hugging Face name (LoRA already merged), the layout paramSpecs gives. */
  data: Map<string, Float32Array>;
  tokenizer: TokenizerSource;
  dtype: GgufDtype;
  /** general.name: what llama.cpp and Ollama show. */
  name: string;
}

/** The model as one GGUF file that llama.cpp (and Ollama, LM Studio) loads. */
export async function ggufModelFile(x: GgufModelInput): Promise<Uint8Array> {
  const { config: c, dtype } = x;
  const arch = ARCHS[c.modelType];
  const tensors: GgufTensor[] = [];
  for (const spec of paramSpecs(c)) {
    const data = x.data.get(spec.name);
    if (!data) throw new Error(`cannot export: the model has no tensor "${spec.name}"`);
    const p = place(c, spec.name);
    const rows = spec.shape[0];
    const order = p.module !== null ? (arch.rowOrder?.(c, p.module, rows) ?? null) : null;
    tensors.push({ name: p.gguf, shape: spec.shape, data: reorderRows(data, rows, order), type: tensorType(dtype, p.gguf, spec.shape) });
    if (c.tieWordEmbeddings && arch.needsOutput && p.gguf === 'token_embd.weight') tensors.push({ name: 'output.weight', shape: spec.shape, data, type: tensorType(dtype, 'output.weight', spec.shape) });
  }
  const metadata: Record<string, GgufValue> = {
    'general.architecture': str(arch.name),
    'general.type': str('model'),
    'general.name': str(x.name),
    ...arch.hparams(c),
    'general.file_type': u32(FILE_TYPE[dtype]),
    'general.quantization_version': u32(2),
    ...(await ggufVocab(x.tokenizer, c)),
  };
  return writeGguf(metadata, tensors);
}

export interface GgufAdapterInput {
  config: ModelConfig;
  /** The run's lora_A (r, in) and lora_B (out, r) by their studio names (`<layer prefix><module>.lora_A.weight`). */
  adapters: Map<string, { shape: number[]; data: Float32Array }>;
  /** The factor on B·A (train/lora.ts loraScale: alpha / r, or alpha / √r for rsLoRA). */
  scale: number;
  name: string;
}

/**
 * A LoRA adapter for llama.cpp's --lora (convert_lora_to_gguf.py's layout): `<base tensor>.lora_a`
 * (r, in) and `.lora_b` (out, r), float32, with adapter.lora.alpha; llama.cpp scales B·A by alpha / r,
 * so alpha is written as scale · r (rsLoRA's alpha / √r included).
 * B's rows follow the base weight's reordering; A is on the input side and is unchanged.
 */
export function ggufAdapterFile(x: GgufAdapterInput): Uint8Array {
  const c = x.config;
  const arch = ARCHS[c.modelType];
  const tensors: GgufTensor[] = [];
  const rank = [...x.adapters.values()][0]?.shape[0];
  if (rank === undefined) throw new Error('GGUF: the adapter has no tensors');
  for (const name of [...x.adapters.keys()].sort()) {
    const m = /^(.*)\.lora_([AB])\.weight$/.exec(name);
    if (!m) throw new Error(`"${name}" is not a LoRA adapter tensor`);
    const p = place(c, `${m[1]}.weight`);
    const t = x.adapters.get(name)!;
    const rows = t.shape[0];
    const order = m[2] === 'B' && p.module !== null ? (arch.rowOrder?.(c, p.module, rows) ?? null) : null;
    tensors.push({ name: `${p.gguf}.lora_${m[2].toLowerCase()}`, shape: t.shape, data: reorderRows(t.data, rows, order), type: 'F32' });
  }
  return writeGguf(
    {
      'general.architecture': str(arch.name),
      'general.type': str('adapter'),
      'general.name': str(x.name),
      'adapter.type': str('lora'),
      'adapter.lora.alpha': f32(x.scale * rank),
      'general.quantization_version': u32(2),
    },
    tensors,
  );
}
