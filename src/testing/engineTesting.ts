/** An in-process engine with a tiny random model and the course data, for tests that drive the engine's protocol. */
import { readFileSync } from 'node:fs';
import { createInProcessEngine } from '../client/inProcess';
import { detectMapping, mapRows } from '../data/mapping';
import { renderSegments } from '../data/templates';
import type { Row, Segment } from '../data/types';
import type { EngineApi, GenerateParams, TinyModelSpec, TrainData } from '../protocol/protocol';
import type { CheckpointStore } from '../train/checkpointStore';
import { DEFAULT_TRAIN } from '../train/presets';
import type { TrainConfig } from '../train/types';
import { repoFile } from './dataTesting';
import { bundledTokenizerJson, WASM_DIR } from './tinyModel';

export const SPEC: TinyModelSpec = { hiddenSize: 32, numLayers: 2, numHeads: 4, seed: 9 };

export function courseData(n: number): TrainData {
  const rows = readFileSync(repoFile('fixtures/data/course/lamini_docs.jsonl'), 'utf8').split('\n').slice(0, n).map((l) => JSON.parse(l) as Row);
  const mapping = detectMapping(rows)!;
  const segs = mapRows(rows, mapping).examples.map((e) => renderSegments(e!, { id: 'qa', custom: '' }, 'qa')) as Segment[][];
  return { train: segs.slice(0, n - 8), test: segs.slice(n - 8), tokenize: { maxLength: 48, truncation: 'right', padding: 'longest', appendEos: true, lossOn: 'completion' } };
}

export const config = (patch: Partial<TrainConfig> = {}): TrainConfig => ({
  ...DEFAULT_TRAIN,
  optimizer: { ...DEFAULT_TRAIN.optimizer, lr: 1e-2 },
  batchSize: 4,
  maxSteps: 6,
  evalEvery: 3,
  sampleEvery: 3,
  checkpointEvery: 2,
  sampleMaxTokens: 4,
  ...patch,
});

export async function engineWithModel(store: CheckpointStore, spec: TinyModelSpec = SPEC): Promise<EngineApi> {
  const e = createInProcessEngine({ wasmPaths: WASM_DIR, bundledTokenizer: async () => bundledTokenizerJson(), checkpoints: store });
  await e.request('init', { backend: 'wasm' });
  await e.request('loadModel', { source: { kind: 'random', spec } });
  return e;
}

/** Greedy decoding of a course question, 6 tokens. */
export function greedy(): GenerateParams {
  return { prompt: '### Question:\nWhat is Lamini?\n\n### Answer:', maxNewTokens: 6, temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, seed: 0, stopStrings: [], useCache: true };
}
