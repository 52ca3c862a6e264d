/**
 * The export fixtures' recipe: two short seeded runs on the tiny fixtures/parallel-rot025-f32
 * model and their exports, shared by scripts/export_fixtures.ts (which writes fixtures/export/ with
 * a PyTorch reference of each) and src/train/exportModel.test.ts (which re-creates the same files
 * and checks them against those fixtures). The CPU backend's plain JavaScript arithmetic gives the
 * same bytes on every run and machine with this Node.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EncodedExample } from '../data/types';
import { loadModel, type LoadedModel } from '../model/checkpoint';
import { disposeParams, type Params } from '../model/params';
import { mulberry32 } from '../model/random';
import { modelFolderFiles, peftAdapterFiles, runModelFolderFiles, type OutFile } from '../train/exportModel';
import { DEFAULT_TRAIN } from '../train/presets';
import { runTraining } from '../train/run';
import { Trainer, type EncodedSplits } from '../train/trainer';
import type { TrainConfig } from '../train/types';

/**
 * The repository root: the nearest folder up from this file that holds the fixtures (this file
 * runs from src/testing/, and bundled from .gpu/ on the GPU machine).
 */
export const REPO = ((): string => {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5 && !existsSync(path.join(dir, 'fixtures/parallel-rot025-f32')); i++) dir = path.dirname(dir);
  return dir;
})();
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
export function syntheticData(): EncodedSplits {
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

