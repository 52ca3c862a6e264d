/**
 * The export fixtures: what the studio exports after two short, seeded runs, checked by a PyTorch
 * reference of what Hugging Face transformers + PEFT compute from those files.
 *
 *   npx tsx scripts/export_fixtures.ts              # (re)writes fixtures/export/*.json
 *   npx tsx scripts/export_fixtures.ts --keep DIR   # also keeps the exported folders in DIR
 *                                                   # (for scripts/hf_export_check.py)
 *
 * Recipe (also imported by src/train/exportModel.test.ts, which re-creates the same files):
 * the tiny fixtures/parallel-rot025-f32 model, a seeded synthetic dataset, the studio's Trainer
 * on the CPU backend (plain JavaScript arithmetic: the same bytes on every run and machine with
 * this Node), then
 *   - a full fine-tune (4 steps) exported float32 and float16,
 *   - a LoRA run (rank 4, alpha 8, all four block linears, 4 steps) exported as a PEFT adapter and
 *     as the merged model (float32).
 * Each export is written to a temporary folder and scripts/export_reference.py computes its
 * logits for PROBE_IDS (the adapter on top of the base folder); the JSON it prints goes into
 * fixtures/export/<case>.json with the SHA-256 of every exported file, so a test can tell a stale
 * fixture (the export bytes changed) from a wrong export (same bytes, different logits).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { EncodedExample } from '../src/data/types';
import { loadModel, type LoadedModel } from '../src/model/checkpoint';
import { disposeParams, type Params } from '../src/model/params';
import { mulberry32 } from '../src/model/random';
import { modelFolderFiles, peftAdapterFiles, runModelFolderFiles, type OutFile } from '../src/train/exportModel';
import { DEFAULT_TRAIN } from '../src/train/presets';
import { runTraining } from '../src/train/run';
import { Trainer, type TrainData } from '../src/train/trainer';
import type { TrainConfig } from '../src/train/types';

export const REPO = fileURLToPath(new URL('../', import.meta.url));
export const EXPORT_FIXTURES = path.join(REPO, 'fixtures/export');
/** The base model of both runs (vocab 96, hidden 64, 2 layers, 4 heads, rotary_pct 0.25, parallel residual). */
export const BASE_DIR = path.join(REPO, 'fixtures/parallel-rot025-f32');
/** What adapter_config.json names as the base (a path relative to the repository, as PEFT writes a local path). */
export const BASE_NAME = 'fixtures/parallel-rot025-f32';
/** Token ids the logits are compared on: 2 rows of 8 (an eos id 0 inside each). */
export const PROBE_IDS = [
  [3, 17, 42, 0, 88, 5, 61, 29],
  [90, 12, 7, 7, 33, 0, 54, 71],
];

const RUN: TrainConfig = {
  ...DEFAULT_TRAIN,
  optimizer: { ...DEFAULT_TRAIN.optimizer, lr: 3e-3, weightDecay: 0.01 },
  schedule: { kind: 'cosine', warmupSteps: 1 },
  batchSize: 4,
  gradAccum: 1,
  maxSteps: 4,
  seed: 11,
  evalEvery: 0,
  sampleEvery: 0,
  checkpointEvery: 0,
};
export const FULL_RUN: TrainConfig = { ...RUN, method: 'full' };
// Targets in an order other than the modules' (PEFT keeps target_modules as given), dropout on
// (seeded masks), alpha/r = 2 so a missing or wrong scaling shows.
export const LORA_RUN: TrainConfig = {
  ...RUN,
  method: 'lora',
  lora: { rank: 4, alpha: 8, dropout: 0.05, targets: ['mlp.dense_4h_to_h', 'attention.query_key_value', 'attention.dense', 'mlp.dense_h_to_4h'] },
  optimizer: { ...RUN.optimizer, lr: 2e-2 },
};

/** 24 seeded arithmetic sequences over the 96-token vocabulary, every token after the first a target. */
export function syntheticData(): TrainData {
  const rand = mulberry32(7);
  const rows: EncodedExample[] = [];
  for (let i = 0; i < 24; i++) {
    const n = 6 + Math.floor(rand() * 9); // 6…14 tokens
    const start = Math.floor(rand() * 96);
    const stride = 1 + Math.floor(rand() * 3);
    const ids = Array.from({ length: n }, (_, t) => (start + t * stride) % 96);
    const loss = new Uint8Array(n).fill(1);
    loss[0] = 0;
    rows.push({ ids, loss, fullLength: n, truncated: 0, completionStart: 1 });
  }
  return { train: rows, test: [], maxLength: 16, padId: 0 };
}

export function loadBase(): LoadedModel {
  return loadModel(readFileSync(path.join(BASE_DIR, 'config.json'), 'utf8'), [new Uint8Array(readFileSync(path.join(BASE_DIR, 'model.safetensors')))]);
}

export interface ExportSet {
  base: LoadedModel;
  /** The full fine-tune's weights (every parameter) and its folders. */
  full: { params: Params; f32: OutFile[]; f16: OutFile[] };
  /** The LoRA run's adapters (studio names), its PEFT files and the merged folder. */
  lora: { config: TrainConfig['lora']; adapters: Params; adapter: OutFile[]; merged: OutFile[] };
  dispose: () => void;
}

/** Both runs and every export, on whatever backend is active (the fixtures were made on 'cpu'). */
export async function makeExports(): Promise<ExportSet> {
  const base = loadBase();
  const data = syntheticData();
  const full = new Trainer(base, data, FULL_RUN);
  await runTraining(full);
  const fullParams = { ...base.params, ...full.trainedTensors() };
  const f32 = await modelFolderFiles(base.config, fullParams, []);
  const f16 = await modelFolderFiles(base.config, fullParams, [], { dtype: 'float16' });

  const lora = new Trainer(base, data, LORA_RUN);
  await runTraining(lora);
  const adapters = lora.trainedTensors();
  const adapter = await peftAdapterFiles(adapters, LORA_RUN.lora, BASE_NAME);
  const mergedFiles = await runModelFolderFiles(base.config, { ...base.params, ...adapters }, LORA_RUN.lora, []);
  return {
    base,
    full: { params: fullParams, f32, f16 },
    lora: { config: LORA_RUN.lora, adapters, adapter, merged: mergedFiles },
    dispose: () => {
      full.dispose();
      lora.dispose();
      disposeParams(base.params);
    },
  };
}

export const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
export const hashes = (files: OutFile[]): Record<string, string> => Object.fromEntries(files.map((f) => [f.name, sha256(f.bytes)]));

/** One fixture file: the reference's answer for one export. */
export interface ExportFixture {
  case: string;
  description: string;
  /** SHA-256 of each exported file the reference read (and of the base folder's for the adapter case). */
  sha256: Record<string, string>;
  ids: number[][];
  reference: {
    logits: number[][][];
    logits_max_abs: number;
    checks: Record<string, unknown>;
    model: Record<string, unknown>;
    adapter?: Record<string, unknown>;
    torch: string;
  };
}

export const CASES = ['full-f32', 'full-f16', 'lora-adapter', 'lora-merged'] as const;
export type CaseName = (typeof CASES)[number];

export function readExportFixture(name: CaseName): ExportFixture {
  return JSON.parse(readFileSync(path.join(EXPORT_FIXTURES, `${name}.json`), 'utf8')) as ExportFixture;
}

function writeFolder(dir: string, files: OutFile[]): string {
  mkdirSync(dir, { recursive: true });
  for (const f of files) writeFileSync(path.join(dir, f.name), f.bytes);
  return dir;
}

function reference(args: string[]): ExportFixture['reference'] {
  const r = spawnSync('python3', [path.join(REPO, 'scripts/export_reference.py'), '--ids', JSON.stringify(PROBE_IDS), ...args], { cwd: REPO, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`export_reference.py ${args.join(' ')} failed (${r.status}):\n${r.stderr}`);
  const out = JSON.parse(r.stdout) as ExportFixture['reference'] & { ids: number[][] };
  delete (out as { ids?: unknown }).ids;
  return out;
}

/** Indented JSON, but one line per logits row (2·8 lines instead of 1,536). */
function fixtureText(f: ExportFixture): string {
  const rows = f.reference.logits.flat().map((row) => JSON.stringify(row));
  let i = 0;
  const text = JSON.stringify({ ...f, reference: { ...f.reference, logits: f.reference.logits.map((seq) => seq.map(() => '@ROW@')) } }, null, 1);
  return `${text.replace(/"@ROW@"/g, () => rows[i++])}\n`;
}

async function main(): Promise<void> {
  const { initBackend } = await import('../src/backend/backend');
  const tf = await import('@tensorflow/tfjs-core');
  tf.env().set('PROD', true); // no debug checks, and no tfjs-node advertisement
  await initBackend('cpu', { wasmPaths: '' });
  const set = await makeExports();
  const keep = process.argv.indexOf('--keep');
  const tmp = keep > 0 ? path.resolve(process.argv[keep + 1] ?? '') : mkdtempSync(path.join(tmpdir(), 'neox-export-'));
  if (keep > 0 && !process.argv[keep + 1]) throw new Error('--keep needs a folder');
  try {
    const dirs = {
      f32: writeFolder(path.join(tmp, 'full-f32'), set.full.f32),
      f16: writeFolder(path.join(tmp, 'full-f16'), set.full.f16),
      merged: writeFolder(path.join(tmp, 'lora-merged'), set.lora.merged),
      adapter: writeFolder(path.join(tmp, 'lora-adapter'), set.lora.adapter),
    };
    const baseFiles = ['config.json', 'model.safetensors'].map((name) => ({ name: `base/${name}`, bytes: new Uint8Array(readFileSync(path.join(BASE_DIR, name))) }));
    const fixtures: ExportFixture[] = [
      {
        case: 'full-f32',
        description: 'full fine-tune (FULL_RUN), model folder exported float32',
        sha256: hashes(set.full.f32),
        ids: PROBE_IDS,
        reference: reference(['--model', dirs.f32]),
      },
      {
        case: 'full-f16',
        description: 'the same weights exported float16; compared with the float32 export',
        sha256: hashes(set.full.f16),
        ids: PROBE_IDS,
        reference: reference(['--model', dirs.f16, '--compare', dirs.f32]),
      },
      {
        case: 'lora-adapter',
        description: 'LoRA run (LORA_RUN): the PEFT adapter applied to the base folder; compared with the merged export',
        sha256: { ...hashes(set.lora.adapter), ...hashes(baseFiles) },
        ids: PROBE_IDS,
        reference: reference(['--model', BASE_DIR, '--adapter', dirs.adapter, '--compare', dirs.merged]),
      },
      {
        case: 'lora-merged',
        description: 'the LoRA run merged into the base (W + alpha/r·B·A), model folder exported float32',
        sha256: hashes(set.lora.merged),
        ids: PROBE_IDS,
        reference: reference(['--model', dirs.merged]),
      },
    ];
    mkdirSync(EXPORT_FIXTURES, { recursive: true });
    for (const f of fixtures) {
      writeFileSync(path.join(EXPORT_FIXTURES, `${f.case}.json`), fixtureText(f));
      process.stdout.write(`${f.case}: logits max |x| ${f.reference.logits_max_abs.toPrecision(4)}, checks ${JSON.stringify(f.reference.checks)}\n`);
    }
  } finally {
    if (keep < 0) rmSync(tmp, { recursive: true, force: true });
    else process.stdout.write(`kept the exported folders in ${tmp}\n`);
    set.dispose();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e: unknown) => {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  });
}
