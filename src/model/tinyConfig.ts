/**
 * Tiny random models: each family's shape (Pythia's vocabulary and tokenizer, so the bundled
 * tokenizer fits) at a small width and depth. GPT-NeoX by default, as Pythia has it.
 */
import { parseConfig, type ModelConfig, type ModelType } from './config';

export interface TinyModelSpec {
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  seed: number;
  /** The family (default gpt_neox). Llama-style families get half as many key/value heads (grouped-query attention) and a tied head, as SmolLM2 and Qwen2.5 have. */
  family?: ModelType;
}

/** The Pythia sizes' shapes: tinyConfig({ ...PYTHIA_SHAPES['410m'], seed }) is Pythia-410m's config exactly. */
export const PYTHIA_SHAPES = {
  '70m': { hiddenSize: 512, numLayers: 6, numHeads: 8 },
  '160m': { hiddenSize: 768, numLayers: 12, numHeads: 12 },
  '410m': { hiddenSize: 1024, numLayers: 24, numHeads: 16 },
} as const;

const VOCAB = 50304; // Pythia's, padded: the bundled tokenizer fits every tiny model

/** The config.json of a tiny random model of the spec's family. */
export function tinyConfigJson(spec: TinyModelSpec): Record<string, unknown> {
  const family = spec.family ?? 'gpt_neox';
  const C = spec.hiddenSize;
  if (family === 'gpt_neox') {
    return {
      model_type: 'gpt_neox',
      vocab_size: VOCAB,
      hidden_size: C,
      num_hidden_layers: spec.numLayers,
      num_attention_heads: spec.numHeads,
      intermediate_size: 4 * C,
      max_position_embeddings: 2048,
      rotary_pct: 0.25,
      rotary_emb_base: 10000,
      layer_norm_eps: 1e-5,
      use_parallel_residual: true,
      bos_token_id: 0,
      eos_token_id: 0,
    };
  }
  if (family === 'gpt2') {
    return { model_type: 'gpt2', vocab_size: VOCAB, n_embd: C, n_layer: spec.numLayers, n_head: spec.numHeads, n_positions: 1024, bos_token_id: 0, eos_token_id: 0 };
  }
  const kv = spec.numHeads % 2 === 0 ? spec.numHeads / 2 : spec.numHeads;
  return {
    model_type: family,
    vocab_size: VOCAB,
    hidden_size: C,
    num_hidden_layers: spec.numLayers,
    num_attention_heads: spec.numHeads,
    num_key_value_heads: kv,
    intermediate_size: Math.round((8 * C) / 3 / 16) * 16 || 16, // SmolLM2's 8C/3 (1536 for 576)
    max_position_embeddings: 2048,
    rope_theta: 10000,
    rms_norm_eps: 1e-5,
    tie_word_embeddings: true,
    bos_token_id: 0,
    eos_token_id: 0,
  };
}

export const tinyConfig = (spec: TinyModelSpec): ModelConfig => parseConfig(tinyConfigJson(spec));
