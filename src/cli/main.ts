/**
 * Command line on the same engine as the studio (Node; WASM backend, or CPU).
 *
 *   npm run cli -- forward --model DIR --ids 1,2,3 --out FILE.json [--grads FILE.safetensors]
 *   npm run cli -- generate --model DIR --prompt TEXT [--max-new-tokens N] [--temperature T]
 *                           [--top-k K] [--top-p P] [--repetition-penalty R] [--seed S] [--stop S]
 *
 * Every failure exits non-zero with one line on stderr saying what is wrong and what to do.
 */
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../backend/backend';
import { tokenizerFromJson } from '../data/tokenizer';
import { DEFAULT_GENERATE, generateText } from '../engine/generateText';
import { modelFilesFromList } from '../engine/modelFiles';
import { loadModel, type LoadedModel } from '../model/checkpoint';
import { hiddenStates, lmHead, transposedWeights } from '../model/gptNeox';
import { batchLoss, lossAndGrads } from '../model/objective';
import { writeSafetensors } from '../model/safetensors';
import type { BackendChoice } from '../protocol/protocol';

const USAGE = `usage:
  npm run cli -- forward --model DIR --ids 1,2,3 --out FILE.json [--grads FILE.safetensors]
  npm run cli -- generate --model DIR --prompt TEXT [--max-new-tokens N] [--temperature T] [--top-k K] [--top-p P] [--repetition-penalty R] [--seed S] [--stop S]
options: --backend wasm|cpu (default wasm)`;

class UsageError extends Error {}

async function startBackend(choice: string | undefined): Promise<void> {
  tf.env().set('PROD', true); // no debug checks, and no tfjs-node advertisement on stderr
  const name = (choice ?? 'wasm') as BackendChoice;
  if (name !== 'wasm' && name !== 'cpu') throw new UsageError(`--backend must be wasm or cpu, got "${choice}"`);
  const require = createRequire(import.meta.url);
  const wasmDir = path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep;
  await initBackend(name, { wasmPaths: wasmDir });
}

/** config.json + safetensors from DIR (the only files forward needs). */
function readModelDir(dir: string | undefined): LoadedModel {
  if (!dir) throw new UsageError('--model DIR is required (a folder with config.json and model.safetensors)');
  if (!existsSync(dir)) throw new Error(`model folder ${dir} does not exist`);
  const all = readdirSync(dir);
  // Only the model's own weights: model.safetensors, or the shards its index names (a folder may hold other safetensors).
  const index = all.includes('model.safetensors.index.json') ? 'model.safetensors.index.json' : null;
  const shards = index
    ? [...new Set(Object.values((JSON.parse(readFileSync(path.join(dir, index), 'utf8')) as { weight_map: Record<string, string> }).weight_map))]
    : all.filter((n) => n === 'model.safetensors');
  const names = ['config.json', ...shards, ...(index ? [index] : []), ...all.filter((n) => /^pytorch_model.*\.bin$/.test(n))].filter((n) => all.includes(n));
  const files = modelFilesFromList(names.map((name) => ({ name, data: new Uint8Array(readFileSync(path.join(dir, name))).buffer })));
  return loadModel(files.config, files.shards);
}

function int(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n)) throw new UsageError(`${flag} must be a whole number, got "${value}"`);
  return n;
}

function num(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new UsageError(`${flag} must be a number, got "${value}"`);
  return n;
}

async function forward(v: Record<string, string | undefined>): Promise<void> {
  if (!v.ids) throw new UsageError('--ids is required, e.g. --ids 1,2,3');
  if (!v.out) throw new UsageError('--out FILE.json is required');
  const ids = v.ids.split(',').map((s) => {
    const n = Number(s.trim());
    if (!Number.isInteger(n) || n < 0) throw new UsageError(`--ids must be comma-separated token ids, got "${s}"`);
    return n;
  });
  const model = readModelDir(v.model);
  const V = model.config.vocabSize;
  const bad = ids.find((i) => i >= V);
  if (bad !== undefined) throw new Error(`token id ${bad} is outside the model's vocabulary of ${V}`);
  const T = ids.length;
  const idArr = Int32Array.from(ids);
  const logits = tf.tidy(() => lmHead(model, hiddenStates(model, tf.tensor2d(idArr, [1, T], 'int32')))); // (T, V)
  const logitRows = (await logits.array()) as number[][];
  logits.dispose();
  const names = Object.keys(model.params);
  let loss: number | null = null;
  if (T >= 2 && !v.grads) {
    const l = tf.tidy(() => batchLoss(model, { ids: idArr, B: 1, T, lengths: [T] }));
    loss = (await l.data())[0];
    l.dispose();
  } else if (T >= 2) {
    const r = lossAndGrads(model, names, { ids: idArr, B: 1, T, lengths: [T] });
    loss = (await r.loss.data())[0];
    if (v.grads) {
      const tensors = await Promise.all(names.map(async (name) => ({ name, shape: r.grads[name].shape, data: (await r.grads[name].data()) as Float32Array })));
      writeFileSync(v.grads, writeSafetensors(tensors, { metadata: { format: 'pt' } }));
    }
    tf.dispose([r.loss, ...Object.values(r.grads)]);
  } else if (v.grads) {
    throw new UsageError('--grads needs at least 2 ids (the loss predicts each next token)');
  }
  writeFileSync(v.out, JSON.stringify({ logits: logitRows, loss }));
}

async function generateCmd(v: Record<string, string | undefined>): Promise<void> {
  if (v.prompt === undefined) throw new UsageError('--prompt TEXT is required');
  const model = readModelDir(v.model);
  const tokPath = path.join(v.model!, 'tokenizer.json');
  if (!existsSync(tokPath)) throw new Error(`${v.model} has no tokenizer.json: copy the model's tokenizer.json into the folder`);
  const cfgPath = path.join(v.model!, 'tokenizer_config.json');
  const tokenizer = tokenizerFromJson(JSON.parse(readFileSync(tokPath, 'utf8')), existsSync(cfgPath) ? JSON.parse(readFileSync(cfgPath, 'utf8')) : null);
  const d = DEFAULT_GENERATE;
  await generateText(
    { ...model, transposed: transposedWeights(model.params) },
    tokenizer,
    {
      prompt: v.prompt,
      maxNewTokens: int(v['max-new-tokens'], '--max-new-tokens', d.maxNewTokens),
      temperature: num(v.temperature, '--temperature', d.temperature),
      topK: int(v['top-k'], '--top-k', d.topK),
      topP: num(v['top-p'], '--top-p', d.topP),
      repetitionPenalty: num(v['repetition-penalty'], '--repetition-penalty', d.repetitionPenalty),
      seed: int(v.seed, '--seed', d.seed),
      stopStrings: v.stop ? [v.stop] : [],
      useCache: true,
    },
    { onDelta: (delta) => process.stdout.write(delta) },
  );
  process.stdout.write('\n');
}

export async function main(argv: string[]): Promise<number> {
  try {
    const [command, ...rest] = argv;
    if (command === 'help' || command === '--help') {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    const options = Object.fromEntries(
      ['model', 'ids', 'out', 'grads', 'prompt', 'max-new-tokens', 'temperature', 'top-k', 'top-p', 'repetition-penalty', 'seed', 'stop', 'backend'].map((k) => [
        k,
        { type: 'string' as const },
      ]),
    );
    let values: Record<string, string | undefined>;
    try {
      values = parseArgs({ args: rest, options, strict: true }).values as Record<string, string | undefined>;
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    if (command !== 'forward' && command !== 'generate') throw new UsageError(command ? `unknown command "${command}"` : 'no command given');
    await startBackend(values.backend);
    if (command === 'forward') await forward(values);
    else await generateCmd(values);
    return 0;
  } catch (e) {
    const message = (e as Error).message.split('\n')[0];
    process.stderr.write(`error: ${message}${e instanceof UsageError ? ' (run "npm run cli -- help" for usage)' : ''}\n`);
    return e instanceof UsageError ? 2 : 1;
  }
}

main(process.argv.slice(2)).then((code) => process.exit(code));
