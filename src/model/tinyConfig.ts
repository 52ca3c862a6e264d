/** A tiny random GPT-NeoX: Pythia's shape (vocabulary, rotary, parallel residual) at a small width and depth. */
import { parseConfig, type ModelConfig } from './config';

export interface TinyModelSpec {
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  seed: number;
}

/** The Pythia sizes' shapes: tinyConfig({ ...PYTHIA_SHAPES['410m'], seed }) is Pythia-410m's config exactly. */
export const PYTHIA_SHAPES = {
  '70m': { hiddenSize: 512, numLayers: 6, numHeads: 8 },
  '160m': { hiddenSize: 768, numLayers: 12, numHeads: 12 },
  '410m': { hiddenSize: 1024, numLayers: 24, numHeads: 16 },
} as const;

/** The shape Pythia models share; tiny random models keep it but shrink width and depth. */
export function tinyConfig(spec: TinyModelSpec): ModelConfig {
  return parseConfig({
    model_type: 'gpt_neox',
    vocab_size: 50304,
    hidden_size: spec.hiddenSize,
    num_hidden_layers: spec.numLayers,
    num_attention_heads: spec.numHeads,
    intermediate_size: 4 * spec.hiddenSize,
    max_position_embeddings: 2048,
    rotary_pct: 0.25,
    rotary_emb_base: 10000,
    layer_norm_eps: 1e-5,
    use_parallel_residual: true,
    bos_token_id: 0,
    eos_token_id: 0,
  });
}
