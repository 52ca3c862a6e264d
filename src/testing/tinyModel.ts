/** Test helpers: the bundled tokenizer, and tiny random models of each family written as Hugging Face folders. */
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tinyConfig } from '../model/tinyConfig';
import type { NamedFile } from '../engine/modelFiles';
import { checkpointBytes } from '../model/checkpoint';
import { toHfConfig, type ModelConfig } from '../model/config';
import { initRandomData } from '../model/params';
import type { TinyModelSpec } from '../protocol/protocol';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const TOKENIZER_PATH = path.join(REPO_ROOT, 'public/tokenizers/pythia/tokenizer.json');

/** Where the tfjs WASM binaries are, as the command line finds them. */
export const WASM_DIR = path.join(path.dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep;

let tokenizerJson: unknown = null;
/** The bundled Pythia tokenizer.json, parsed once. */
export function bundledTokenizerJson(): unknown {
  tokenizerJson ??= JSON.parse(readFileSync(TOKENIZER_PATH, 'utf8'));
  return tokenizerJson;
}

export const TINY_SPEC: TinyModelSpec = { hiddenSize: 16, numLayers: 1, numHeads: 2, seed: 1 };

/**
 * A chat template in the manner of Zephyr's, over tokens the bundled Pythia tokenizer has: each
 * turn as <|role|>, its text and <|endoftext|> (the EOS, so a reply stops there).
 */
export const TINY_CHAT_TEMPLATE =
  "{% for m in messages %}{{ '<|' + m.role + '|>\n' + m.content + eos_token + '\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% endif %}";

/**
 * Write a tiny random model (vocab 50304; GPT-NeoX unless the spec names another family) as
 * config.json + model.safetensors (+ the bundled tokenizer.json unless `tokenizer` is false, and a
 * tokenizer_config.json when given). `std` above the usual 0.02 keeps the top logits well apart, so
 * greedy choices do not hinge on float round-off between backends.
 */
export function writeTinyModelDir(dir: string, opts: { spec?: TinyModelSpec; std?: number; tokenizer?: boolean; tokenizerConfig?: object; dtype?: 'F32' | 'F16' } = {}): ModelConfig {
  const spec = opts.spec ?? TINY_SPEC;
  const config = tinyConfig(spec);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify(toHfConfig(config), null, 2));
  writeFileSync(path.join(dir, 'model.safetensors'), checkpointBytes(config, initRandomData(config, spec.seed, opts.std ?? 0.02), opts.dtype));
  if (opts.tokenizer !== false) writeFileSync(path.join(dir, 'tokenizer.json'), readFileSync(TOKENIZER_PATH));
  if (opts.tokenizerConfig) writeFileSync(path.join(dir, 'tokenizer_config.json'), JSON.stringify(opts.tokenizerConfig));
  return config;
}

/** Every file of a folder, as the studio receives dropped files. */
export function filesOfDir(dir: string): NamedFile[] {
  return readdirSync(dir).map((name) => {
    const b = readFileSync(path.join(dir, name));
    return { name, data: b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer };
  });
}
