/** Models the panel offers: Pythia checkpoints on the Hub and tiny random GPT-NeoX shapes. */
import type { TinyModelSpec } from '../protocol/protocol';
import { PYTHIA_SHAPES } from '../model/tinyConfig';

/** Embedding rows of every Pythia model (the tokenizer's 50277 ids, padded to a multiple of 128). */
export const PYTHIA_VOCAB = 50304;

/**
 * Parameters of a GPT-NeoX with intermediate size 4C and untied embeddings:
 * embed_in + embed_out (2·V·C), per layer 12·C² + 13·C (qkv, dense, two MLP
 * matrices, their biases, two layer norms), and the final layer norm (2·C).
 * Exact for Pythia: 70,426,624 for pythia-70m.
 */
export function approxParamCount(hiddenSize: number, numLayers: number, vocabSize = PYTHIA_VOCAB): number {
  const c = hiddenSize;
  return 2 * vocabSize * c + numLayers * (12 * c * c + 13 * c) + 2 * c;
}

export interface HubPreset {
  repo: string;
  paramCount: number;
  /** Size of model.safetensors on the Hub (float16), in bytes. */
  downloadBytes: number;
}

const pythia = (size: keyof typeof PYTHIA_SHAPES, downloadMB: number): HubPreset[] =>
  ['', '-deduped'].map((suffix) => ({
    repo: `EleutherAI/pythia-${size}${suffix}`,
    paramCount: approxParamCount(PYTHIA_SHAPES[size].hiddenSize, PYTHIA_SHAPES[size].numLayers),
    downloadBytes: downloadMB * 1e6,
  }));

export const HUB_PRESETS: HubPreset[] = [...pythia('70m', 166), ...pythia('160m', 375), ...pythia('410m', 911)];

export const findHubPreset = (repo: string): HubPreset | undefined => HUB_PRESETS.find((p) => p.repo === repo);

export type RandomPresetName = 'tiny' | 'small';

/** Random models are for trying the studio offline: fast to make, nonsense to read. */
export const RANDOM_PRESETS: Record<RandomPresetName, Omit<TinyModelSpec, 'seed'>> = {
  tiny: { hiddenSize: 64, numLayers: 2, numHeads: 4 },
  small: { hiddenSize: 256, numLayers: 4, numHeads: 8 },
};

export const isRandomPresetName = (s: string): s is RandomPresetName => s in RANDOM_PRESETS;
