/**
 * `npm run cli -- export`: a model folder (and optionally a PEFT adapter for it) as the studio's
 * Export panel writes it: llama.cpp's GGUF with an Ollama Modelfile, a Hugging Face folder, or a
 * PEFT adapter.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { TEMPLATES } from '../data/templates';
import { ggufAdapterFile, ggufModelFile, GGUF_DTYPES, type GgufDtype } from '../export/ggufModel';
import { ollamaModelfile, runInstructions } from '../export/ollama';
import type { LoadedModel } from '../model/checkpoint';
import { adapterParams, peftAdapterFiles, runModelFolderFiles, runWeights } from '../train/exportModel';
import { parsePeftAdapter } from '../train/importAdapter';
import { loraScale } from '../train/lora';
import type { LoraConfig } from '../train/types';
import { checkOut, flag, oneOf, readJsonFile, readModelDir, readTokenizer, sourceFiles, templateSpec, UsageError, writeFiles } from './common';

export const EXPORT_USAGE = `  npm run cli -- export --model DIR --format gguf|hf|peft --out PATH [--adapter DIR] [--merge] [--dtype f32|f16|q8_0] [--template qa|alpaca|llama2|plain|model] [--force]
                      gguf: --out FILE.gguf (a LoRA adapter for llama.cpp's --lora when --adapter is given, the merged model with --merge), and an Ollama FILE.Modelfile beside it;
                      hf: --out DIR, a model folder (an --adapter merged in); peft: --out DIR, the --adapter checked against --model and written as PEFT reads it`;

export const EXPORT_OPTIONS = ['format', 'adapter', 'merge'];
export const EXPORT_SWITCHES = ['merge'];

const FORMATS = ['gguf', 'hf', 'peft'] as const;
/** --dtype takes llama.cpp's names, and the model folder's float32/float16 too. */
const DTYPES: Record<string, GgufDtype> = { f32: 'f32', float32: 'f32', f16: 'f16', float16: 'f16', q8_0: 'q8_0' };

function readAdapter(dir: string, model: LoadedModel): { lora: LoraConfig; tensors: Record<string, { shape: number[]; data: Float32Array }> } {
  if (!existsSync(dir)) throw new Error(`adapter folder ${dir} does not exist`);
  const files = readdirSync(dir)
    .filter((n) => n === 'adapter_config.json' || n === 'adapter_model.safetensors')
    .map((name) => ({ name, bytes: new Uint8Array(readFileSync(path.join(dir, name))) }));
  return parsePeftAdapter(files, model.config);
}

/** The adapter's tensors on the backend beside the base's, as a LoRA run holds them. */
function withAdapter(model: LoadedModel, tensors: Record<string, { shape: number[]; data: Float32Array }>) {
  const adapters = Object.fromEntries(Object.entries(tensors).map(([n, t]) => [n, tf.tensor(t.data, t.shape)]));
  return { params: { ...model.params, ...adapters }, dispose: () => tf.dispose(Object.values(adapters)) };
}

export async function exportCmd(v: Record<string, string | undefined>): Promise<void> {
  if (v.format === undefined) throw new UsageError('--format is required: gguf (llama.cpp, Ollama), hf (a Hugging Face model folder) or peft (a PEFT adapter)');
  const format = oneOf(v.format, '--format', FORMATS, 'gguf');
  const dtypeName = v.dtype ?? 'f32';
  const dtype = DTYPES[dtypeName];
  if (!dtype) throw new UsageError(`--dtype must be one of ${GGUF_DTYPES.join(', ')}, got "${dtypeName}"`);
  if (format !== 'gguf' && dtype === 'q8_0') throw new UsageError('--dtype q8_0 is a GGUF type: use --format gguf, or f32 or f16 for a model folder');
  const template = v.template === undefined ? null : oneOf(v.template, '--template', TEMPLATES.map((t) => t.id).filter((t) => t !== 'custom'), 'plain');
  const merge = flag(v.merge);
  if (format === 'peft' && !v.adapter) throw new UsageError('--format peft needs --adapter DIR (the adapter to write for --model)');
  if (merge && !v.adapter) throw new UsageError('--merge needs --adapter DIR (the adapter to merge into --model)');
  if (!v.out) throw new UsageError(format === 'gguf' ? '--out FILE.gguf is required' : '--out DIR is required (where the folder goes)');
  if (format === 'gguf' && !v.out.endsWith('.gguf')) throw new UsageError(`--out must name a .gguf file for --format gguf, got "${v.out}"`);
  if (format === 'gguf' && existsSync(v.out) && !flag(v.force)) throw new UsageError(`--out ${v.out} exists: choose another name, or add --force to write over it`);
  if (format !== 'gguf') checkOut(v.out, v.model, flag(v.force), 'the exported folder');

  const model = readModelDir(v.model);
  const dir = v.model!;
  const adapter = v.adapter ? readAdapter(v.adapter, model) : null;
  const lora = adapter?.lora ?? null;
  const held = adapter ? withAdapter(model, adapter.tensors) : null;
  const params = held?.params ?? model.params;
  try {
    if (format === 'peft') {
      writeFiles(v.out, await peftAdapterFiles(adapterParams(params), lora!, path.basename(path.resolve(dir))));
      process.stdout.write(`${v.out}: a PEFT adapter for ${dir}\n`);
      return;
    }
    if (format === 'hf') {
      writeFiles(v.out, await runModelFolderFiles(model.config, params, lora, sourceFiles(dir), { dtype: dtype === 'f16' ? 'float16' : 'float32' }));
      process.stdout.write(`${v.out}: a model folder${lora ? ' (the adapter merged in)' : ''}\n`);
      return;
    }
    const tokenizer = readTokenizer(dir, model.config.vocabSize); // checks tokenizer.json against the model
    const spec = template ? templateSpec(template, dir) : null;
    const name = path.basename(path.resolve(dir));
    const out = v.out;
    const base = path.basename(out);
    let bytes: Uint8Array;
    let modelfile: string;
    if (lora && !merge) {
      const adapters = new Map(Object.entries(adapter!.tensors));
      bytes = ggufAdapterFile({ config: model.config, adapters, scale: loraScale(lora), name });
      modelfile = ollamaModelfile({ template: spec, eosToken: tokenizer.decode([tokenizer.eosTokenId]), modelFile: `${name}.gguf`, adapterFile: base });
    } else {
      const data = await runWeights(model.config, params, lora);
      const source = { json: readJsonFile(path.join(dir, 'tokenizer.json')), config: readJsonFile(path.join(dir, 'tokenizer_config.json')), encode: tokenizer.encode };
      bytes = await ggufModelFile({ config: model.config, data, tokenizer: source, dtype, name });
      modelfile = ollamaModelfile({ template: spec, eosToken: tokenizer.decode([tokenizer.eosTokenId]), modelFile: base });
    }
    const modelfilePath = `${out.slice(0, -'.gguf'.length)}.Modelfile`;
    writeFiles(path.dirname(out), [
      { name: base, bytes },
      { name: path.basename(modelfilePath), bytes: new TextEncoder().encode(modelfile) },
    ]);
    const run = lora && !merge ? runInstructions(`${name}.gguf`, base) : runInstructions(base);
    process.stdout.write(`${out}: ${lora && !merge ? 'a LoRA adapter' : `the model, ${dtype}`} (${(bytes.byteLength / 1e6).toFixed(1)} MB); ${modelfilePath}: its Ollama Modelfile\n`);
    process.stdout.write(`run it: ${run[0].replace('-f Modelfile', `-f ${path.basename(modelfilePath)}`)}\n    or: ${run[1]}\n`);
    if (lora && !merge) process.stdout.write(`(the adapter needs the base as GGUF beside it: npm run cli -- export --model ${dir} --format gguf --out ${path.join(path.dirname(out), `${name}.gguf`)})\n`);
  } finally {
    held?.dispose();
  }
}
