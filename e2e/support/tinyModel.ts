/** Writes a tiny random GPT-NeoX model folder (HF layout) with the bundled Pythia tokenizer. */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { checkpointBytes } from '../../src/model/checkpoint';
import { parseConfig, toHfConfig } from '../../src/model/config';
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
