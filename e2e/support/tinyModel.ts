/** Writes tiny random model folders (HF layout) with the bundled Pythia tokenizer. */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { checkpointBytes } from '../../src/model/checkpoint';
import { parseConfig, toHfConfig } from '../../src/model/config';
import { toBf16Values } from '../../src/model/bf16Weights';
import { initRandomData } from '../../src/model/params';

export const PYTHIA_TOKENIZER = path.resolve('public/tokenizers/pythia/tokenizer.json');

export function tinyModelFiles(seed: number): Record<string, Uint8Array | string> {
  const hf = { ...toHfConfig(parseConfig({ model_type: 'gpt_neox', vocab_size: 50304, hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 128, max_position_embeddings: 256, rotary_pct: 0.25 })) };
  const config = parseConfig(hf);
  return {
    'config.json': JSON.stringify(hf, null, 2),
    // std 0.5 so greedy decoding of a random model varies from token to token
    'model.safetensors': checkpointBytes(config, initRandomData(config, seed, 0.5)),
  };
}

export function writeTinyModel(dir: string, seed: number): string[] {
  mkdirSync(dir, { recursive: true });
  const files = tinyModelFiles(seed);
  for (const [name, data] of Object.entries(files)) writeFileSync(path.join(dir, name), data);
  copyFileSync(PYTHIA_TOKENIZER, path.join(dir, 'tokenizer.json'));
  return [...Object.keys(files), 'tokenizer.json'].map((n) => path.join(dir, n));
}

/**
 * A tiny Llama-family folder (grouped-query attention, tied head) whose weights are all bfloat16
 * values, as SmolLM2's and Qwen's files load: WASM decodes it through bfloat16 copies.
 */
export function writeTinyBf16Llama(dir: string, seed: number): string[] {
  mkdirSync(dir, { recursive: true });
  const hf = toHfConfig(parseConfig({ model_type: 'llama', vocab_size: 50304, hidden_size: 64, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, intermediate_size: 176, max_position_embeddings: 256, tie_word_embeddings: true }));
  const config = parseConfig(hf);
  const data = initRandomData(config, seed, 0.5);
  for (const v of data.values()) toBf16Values(v);
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify(hf, null, 2));
  writeFileSync(path.join(dir, 'model.safetensors'), checkpointBytes(config, data));
  copyFileSync(PYTHIA_TOKENIZER, path.join(dir, 'tokenizer.json'));
  return ['config.json', 'model.safetensors', 'tokenizer.json'].map((n) => path.join(dir, n));
}
