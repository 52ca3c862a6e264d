/**
 * Command line on the same engine as the studio (Node; WASM backend, WebGPU through Dawn, or CPU).
 *
 *   npm run cli -- forward --model DIR --ids 1,2,3 --out FILE.json [--grads FILE.safetensors]
 *   npm run cli -- generate --model DIR --prompt TEXT [--max-new-tokens N] [--temperature T]
 *                           [--top-k K] [--top-p P] [--repetition-penalty R] [--seed S] [--stop S]
 *   npm run cli -- train --model DIR --data FILE --out DIR [--method full|lora] … (see train.ts)
 *   npm run cli -- arc --model DIR --data FILE.jsonl [--limit N]
 *   npm run cli -- eval --model DIR --data FILE [--template …] [--limit N] [--out FILE.jsonl] [--max-new-tokens N]
 *   npm run cli -- export --model DIR --format gguf|hf|peft --out PATH [--adapter DIR] [--merge] [--dtype f32|f16|q8_0]
 *
 * Every failure exits non-zero with one line on stderr saying what is wrong and what to do.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { DEFAULT_GENERATE, generateText } from '../eval/generateText';
import { hiddenStates, lmHead } from '../model/forward';
import { batchLoss, lossAndGrads } from '../model/objective';
import { writeSafetensors } from '../model/safetensors';
import { wasmHeapBytes } from '../backend/backend';
import { outOfMemory } from '../backend/outOfMemory';
import { takeXnnFailure } from '../backend/xnnStatus';
import { ARC_OPTIONS, ARC_USAGE, arcCmd } from './arc';
import { decodingModel, int, num, readModelDir, readTokenizer, startBackend, UsageError } from './common';
import { EVAL_OPTIONS, EVAL_USAGE, evalCmd } from './eval';
import { EXPORT_OPTIONS, EXPORT_SWITCHES, EXPORT_USAGE, exportCmd } from './export';
import { TRAIN_OPTIONS, TRAIN_SWITCHES, TRAIN_USAGE, trainCmd } from './train';

const USAGE = `usage:
  npm run cli -- forward --model DIR --ids 1,2,3 --out FILE.json [--grads FILE.safetensors]
  npm run cli -- generate --model DIR --prompt TEXT [--max-new-tokens N] [--temperature T] [--top-k K] [--top-p P] [--repetition-penalty R] [--seed S] [--stop S]
${TRAIN_USAGE}
${ARC_USAGE}
${EVAL_USAGE}
${EXPORT_USAGE}
options: --backend wasm|webgpu|cpu (default wasm; webgpu runs on Dawn for Node: a Vulkan driver, or Mesa's EGL/GLES in software)
         --memory (at the end, one JSON line on stderr: the WASM heap's peak and the live tensors' bytes)`;

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
  const tokenizer = readTokenizer(v.model!, model.config.vocabSize);
  const d = DEFAULT_GENERATE;
  await generateText(
    decodingModel(model),
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

/** --memory: what the command held at most, where the 4 GiB limit applies (measured, for docs/BENCHMARKS.md). */
function reportMemory(): void {
  process.stderr.write(`${JSON.stringify({ wasm_heap_peak_bytes: wasmHeapBytes(), tensor_bytes: tf.memory().numBytes })}\n`);
}

export async function main(argv: string[]): Promise<number> {
  let memory = false;
  let backend: string | null = null; // set once started (asking tfjs earlier would start one)
  try {
    const [command, ...rest] = argv;
    if (command === 'help' || command === '--help') {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    const options = Object.fromEntries(
      ['model', 'ids', 'out', 'grads', 'prompt', 'max-new-tokens', 'temperature', 'top-k', 'top-p', 'repetition-penalty', 'seed', 'stop', 'backend', 'memory', ...TRAIN_OPTIONS, ...ARC_OPTIONS, ...EVAL_OPTIONS, ...EXPORT_OPTIONS].map((k) => [
        k,
        { type: TRAIN_SWITCHES.includes(k) || EXPORT_SWITCHES.includes(k) || k === 'memory' ? ('boolean' as const) : ('string' as const) },
      ]),
    );
    let values: Record<string, string | undefined>;
    try {
      const parsed = parseArgs({ args: rest, options, strict: true }).values;
      // A switch parses to true; the commands read every option as text.
      values = Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, v === true ? 'true' : (v as string | undefined)]));
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    if (!['forward', 'generate', 'train', 'arc', 'eval', 'export'].includes(command)) throw new UsageError(command ? `unknown command "${command}"` : 'no command given');
    await startBackend(values.backend);
    backend = tf.getBackend();
    memory = values.memory === 'true';
    if (command === 'forward') await forward(values);
    else if (command === 'generate') await generateCmd(values);
    else if (command === 'train') await trainCmd(values);
    else if (command === 'arc') await arcCmd(values);
    else if (command === 'export') await exportCmd(values);
    else await evalCmd(values);
    const xnn = takeXnnFailure(); // printed, not thrown, by tfjs-wasm: the command's output cannot be trusted
    if (xnn) throw xnn;
    if (memory) reportMemory();
    return 0;
  } catch (caught) {
    if (memory) reportMemory();
    const cause = takeXnnFailure() ?? caught;
    const e = outOfMemory(cause, backend, 'cli') ?? cause;
    const message = (e as Error).message.split('\n')[0];
    process.stderr.write(`error: ${message}${e instanceof UsageError ? ' (run "npm run cli -- help" for usage)' : ''}\n`);
    return e instanceof UsageError ? 2 : 1;
  }
}

main(process.argv.slice(2)).then((code) => process.exit(code));
