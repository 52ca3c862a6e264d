/** Models the panel offers: Pythia, SmolLM2, Qwen and GPT-2 checkpoints on the Hub, and tiny random models of each family. */
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
  /** Parameters as transformers' num_parameters() counts them (a tied head once). */
  paramCount: number;
  /** Size of the repo's model.safetensors, in bytes (as the Hub stores it: float16, bfloat16 or float32). */
  downloadBytes: number;
  /** The family and what the checkpoint is, in a few words. */
  note: string;
}

const pythia = (size: keyof typeof PYTHIA_SHAPES, downloadMB: number): HubPreset[] =>
  ['', '-deduped'].map((suffix) => ({
    repo: `EleutherAI/pythia-${size}${suffix}`,
    paramCount: approxParamCount(PYTHIA_SHAPES[size].hiddenSize, PYTHIA_SHAPES[size].numLayers),
    downloadBytes: downloadMB * 1e6,
    note: suffix ? 'GPT-NeoX, base model, trained on the deduplicated Pile' : 'GPT-NeoX, base model, trained on the Pile (the course\'s model)',
  }));

/** Instruct variants share their base's shape and file size. */
const withInstruct = (repo: string, paramCount: number, downloadBytes: number, family: string): HubPreset[] => [
  { repo, paramCount, downloadBytes, note: `${family}, base model` },
  { repo: `${repo}-Instruct`, paramCount, downloadBytes, note: `${family}, instruction-tuned (has a chat template)` },
];

export const HUB_PRESETS: HubPreset[] = [
  ...pythia('70m', 166),
  ...pythia('160m', 375),
  ...pythia('410m', 911),
  // Parameter counts checked against the published config.json files in presets.test.ts.
  ...withInstruct('HuggingFaceTB/SmolLM2-135M', 134_515_008, 269.1e6, 'Llama (SmolLM2), bfloat16'),
  ...withInstruct('HuggingFaceTB/SmolLM2-360M', 361_821_120, 723.7e6, 'Llama (SmolLM2), bfloat16'),
  ...withInstruct('Qwen/Qwen2.5-0.5B', 494_032_768, 988.1e6, 'Qwen2.5, bfloat16'),
  // The file also holds a copy of the tied LM head (151,936 × 1,024), which loading skips.
  { repo: 'Qwen/Qwen3-0.6B', paramCount: 596_049_920, downloadBytes: 1503.3e6, note: 'Qwen3, instruction-tuned with thinking mode (has a chat template), bfloat16' },
  // float32 files, with the old attn.bias buffers.
  { repo: 'openai-community/gpt2', paramCount: 124_439_808, downloadBytes: 548.1e6, note: 'GPT-2, base model, float32' },
  { repo: 'distilbert/distilgpt2', paramCount: 81_912_576, downloadBytes: 352.8e6, note: 'GPT-2 (6 layers, distilled from gpt2), base model, float32' },
];

export const findHubPreset = (repo: string): HubPreset | undefined => HUB_PRESETS.find((p) => p.repo === repo);

export type RandomPresetName = 'tiny' | 'small';

/** Random models are for trying the studio offline: fast to make, nonsense to read. */
export const RANDOM_PRESETS: Record<RandomPresetName, Omit<TinyModelSpec, 'seed'>> = {
  tiny: { hiddenSize: 64, numLayers: 2, numHeads: 4 },
  small: { hiddenSize: 256, numLayers: 4, numHeads: 8 },
};

export const isRandomPresetName = (s: string): s is RandomPresetName => s in RANDOM_PRESETS;
