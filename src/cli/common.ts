/** What every CLI command shares: argument errors, the backend, reading a model folder. */
import { chatTemplateOf } from '../data/chatTemplate';
import type { TemplateId, TemplateSpec } from '../data/types';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../backend/backend';
import { noteModuleOutput } from '../backend/xnnStatus';
import { installDawnGpu } from '../backend/dawnNode';
import { checkTokenizerFitsModel, tokenizerFromJson, type Tokenizer } from '../data/tokenizer';
import { modelFilesFromList } from '../engine/modelFiles';
import { loadModel, type LoadedModel } from '../model/checkpoint';
import { eosTokenIds } from '../model/config';
import { decodingLayout, toDecoding } from '../model/decodeLayout';
import { fusedKernelsOn } from '../model/fused';
import type { ForwardContext } from '../model/forward';
import type { BackendChoice } from '../protocol/protocol';
import { SOURCE_FILES, type OutFile } from '../train/exportModel';

/** A mistake in the command line itself: exit code 2, and a pointer to the usage. */
export class UsageError extends Error {}

export async function startBackend(choice: string | undefined): Promise<void> {
  tf.env().set('PROD', true); // no debug checks, and no tfjs-node advertisement on stderr
  const name = (choice ?? 'wasm') as BackendChoice;
  if (name !== 'wasm' && name !== 'cpu' && name !== 'webgpu') throw new UsageError(`--backend must be wasm, webgpu or cpu, got "${choice}"`);
  if (name === 'webgpu') {
    // WebGPU in Node: Dawn (the "webgpu" package), on the machine's Vulkan driver or, without one, Mesa's software GL.
    const dawn = await installDawnGpu();
    if (typeof dawn === 'string') throw new Error(`--backend webgpu: ${dawn}`);
    process.stderr.write(`webgpu: Dawn ${dawn.backend} adapter, ${dawn.description}\n`);
  }
  const require = createRequire(import.meta.url);
  const wasmDir = path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep;
  hookModuleStderr();
  await initBackend(name, { wasmPaths: wasmDir });
}

/** The WASM module writes its stderr with fs.writeSync(2, …) in Node: XNNPACK failures are noted there (backend/xnnStatus.ts). */
function hookModuleStderr(): void {
  const fs = createRequire(import.meta.url)('node:fs') as { writeSync: (fd: number, ...rest: unknown[]) => number };
  const write = fs.writeSync;
  if ((write as { hooked?: true }).hooked) return;
  fs.writeSync = Object.assign((fd: number, ...rest: unknown[]) => {
    if (fd === 2 && typeof rest[0] === 'string') noteModuleOutput(rest[0]);
    return write.call(fs, fd, ...rest);
  }, { hooked: true as const });
}

/** FILE's JSON, or null where there is no FILE; a file that does not parse is named, with what to do. */
export function readJsonFile(file: string): unknown {
  if (!existsSync(file)) return null;
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file} is not valid JSON (${(e as Error).message}): fix the file, or remove it`, { cause: e });
  }
}

/** A loaded model laid out for decoding on the running backend (model/decodeLayout.ts: Wᵀ copies where they fit). */
export function decodingModel(model: LoadedModel): ForwardContext {
  const ctx: ForwardContext = { params: model.params, config: model.config };
  return toDecoding(ctx, decodingLayout(model.config, tf.getBackend(), fusedKernelsOn()));
}

/** config.json + safetensors from DIR (the only files forward needs). */
export function readModelDir(dir: string | undefined): LoadedModel {
  if (!dir) throw new UsageError('--model DIR is required (a folder with config.json and model.safetensors)');
  if (!existsSync(dir)) throw new Error(`model folder ${dir} does not exist`);
  const all = readdirSync(dir);
  // Only the model's own weights: model.safetensors, or the shards its index names (a folder may hold other safetensors).
  const index = all.includes('model.safetensors.index.json') ? 'model.safetensors.index.json' : null;
  const shards = index
    ? [...new Set(Object.values((readJsonFile(path.join(dir, index)) as { weight_map: Record<string, string> }).weight_map))]
    : all.filter((n) => n === 'model.safetensors');
  const names = ['config.json', ...shards, ...(index ? [index] : []), ...all.filter((n) => /^pytorch_model.*\.bin$/.test(n))].filter((n) => all.includes(n));
  const files = modelFilesFromList(names.map((name) => ({ name, data: new Uint8Array(readFileSync(path.join(dir, name))).buffer })));
  const loaded = loadModel(files.config, files.shards, files.shardNames);
  for (const w of loaded.warnings) process.stderr.write(`warning: ${w}\n`);
  return loaded;
}

export function int(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n)) throw new UsageError(`${flag} must be a whole number, got "${value}"`);
  return n;
}

export function num(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new UsageError(`${flag} must be a number, got "${value}"`);
  return n;
}


/**
 * The template --template names; 'model' is DIR's own chat template (tokenizer_config.json's
 * chat_template), as the studio's "the model's chat template".
 */
export function templateSpec(id: TemplateId, dir: string): TemplateSpec {
  if (id !== 'model') return { id, custom: '' };
  const cfgPath = path.join(dir, 'tokenizer_config.json');
  const chat = existsSync(cfgPath) ? chatTemplateOf(readJsonFile(cfgPath)) : null;
  if (!chat) throw new Error(`--template model: ${dir} has no chat template (tokenizer_config.json's chat_template): use an instruct model's folder, or another --template`);
  return { id, custom: '', chat };
}

/** DIR/tokenizer.json (and tokenizer_config.json when present): the model's own tokenizer, checked against its vocabSize. */
export function readTokenizer(dir: string, vocabSize: number): Tokenizer {
  const tokPath = path.join(dir, 'tokenizer.json');
  if (!existsSync(tokPath)) throw new Error(`${dir} has no tokenizer.json: copy the model's tokenizer.json into the folder`);
  const cfgPath = path.join(dir, 'tokenizer_config.json');
  const json = readJsonFile(tokPath);
  // An id past the embedding's rows would read zeros (WebGPU) or garbage: refuse the pair, as the studio does.
  checkTokenizerFitsModel(json, vocabSize, 'model');
  // Generation stops at any end token config.json or generation_config.json names, as in the studio.
  const named = ['config.json', 'generation_config.json'].map((n) => path.join(dir, n)).filter((f) => existsSync(f));
  const stopTokenIds = named.flatMap((f) => eosTokenIds(readJsonFile(f))).filter((id) => id < vocabSize);
  return tokenizerFromJson(json, readJsonFile(cfgPath), { stopTokenIds });
}

/**
 * The files of the model folder DIR that an exported folder carries unchanged (its tokenizer's,
 * its generation_config.json), each checked to be JSON first: a broken one would make the export
 * fail to load later, in transformers, far from its cause.
 */
export const sourceFiles = (dir: string): OutFile[] =>
  SOURCE_FILES.filter((n) => existsSync(path.join(dir, n))).map((name) => {
    readJsonFile(path.join(dir, name));
    return { name, bytes: new Uint8Array(readFileSync(path.join(dir, name))) };
  });

export function oneOf<T extends string>(value: string | undefined, flag: string, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!allowed.includes(value as T)) throw new UsageError(`${flag} must be one of ${allowed.join(', ')}, got "${value}"`);
  return value as T;
}

/** A switch: present means on. */
export const flag = (value: string | undefined): boolean => value !== undefined;

/**
 * --out is checked before any work: never the model folder itself (the output would replace what
 * it is made from), and a folder with files in it only with --force.
 */
export function checkOut(out: string | undefined, model: string | undefined, force: boolean, what = 'the trained model folder'): string {
  if (!out) throw new UsageError(`--out DIR is required (where ${what} goes)`);
  if (model && path.resolve(out) === path.resolve(model)) throw new UsageError('--out is the --model folder: the output would replace the model it is made from; choose another folder');
  if (existsSync(out) && readdirSync(out).length > 0 && !force) throw new UsageError(`--out ${out} is not empty: choose an empty or new folder, or add --force to write over its files`);
  return out;
}

/** Each file under a temporary name, then renamed: an interrupted write leaves no half file under the real name. */
export function writeFiles(dir: string, files: { name: string; bytes: Uint8Array }[]): void {
  for (const f of files) {
    const target = path.join(dir, f.name);
    mkdirSync(path.dirname(target), { recursive: true });
    const tmp = `${target}.partial-${process.pid}`;
    writeFileSync(tmp, f.bytes);
    renameSync(tmp, target);
  }
}
