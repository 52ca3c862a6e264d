import { beforeAll, describe, expect, it } from 'vitest';
import { createStore, type StoreApi } from 'zustand/vanilla';
import { createInProcessEngine } from '../client/inProcess';
import type { EngineApi, TrainData } from '../protocol/protocol';
import { DEFAULT_TRAIN } from '../train/presets';
import type { TrainConfig } from '../train/types';
import { bundledTokenizerJson, WASM_DIR } from '../testing/tinyModel';
import { createTrainActions, startBlocker, type RunStorage, type TrainEnv } from './createTrainActions';
import { initialTrainState, type RunRecord, type TrainState } from './trainStore';

const seg = (q: string, a: string) => [
  { text: `### Question:\n${q}\n\n### Answer:`, train: false },
  { text: ` ${a}`, train: true },
];
const DATA: TrainData = {
  train: Array.from({ length: 12 }, (_, i) => seg(`What is item ${i}?`, `Item ${i} is a thing.`)),
  test: [seg('What is item 99?', 'Item 99 is a thing.')],
  tokenize: { maxLength: 32, truncation: 'right', padding: 'longest', appendEos: true, lossOn: 'completion' },
};
const QUICK: TrainConfig = { ...DEFAULT_TRAIN, batchSize: 4, maxSteps: 4, evalEvery: 2, sampleEvery: 0, checkpointEvery: 2 };

function memoryRuns(initial: RunRecord[] = [], draft: { draft: TrainConfig; presetId: string | null } | null = null) {
  const s = { runs: initial, draft, saves: 0 };
  const storage: RunStorage = {
    load: async () => structuredClone(s.runs),
    save: async (runs) => {
      s.runs = structuredClone(runs);
      s.saves++;
    },
    loadDraft: async () => s.draft,
    saveDraft: async (d) => {
      s.draft = d;
    },
  };
  return { s, storage };
}

let engine: EngineApi;
beforeAll(async () => {
  engine = createInProcessEngine({ wasmPaths: WASM_DIR, bundledTokenizer: async () => bundledTokenizerJson() });
  await engine.request('init', { backend: 'wasm' });
  await engine.request('loadModel', { source: { kind: 'random', spec: { hiddenSize: 16, numLayers: 1, numHeads: 2, seed: 1 } } });
});

function setup(opts: { runs?: RunRecord[]; model?: string | null; data?: TrainEnv['data'] } = {}) {
  const store: StoreApi<TrainState> = createStore<TrainState>()(initialTrainState);
  const { s, storage } = memoryRuns(opts.runs);
  const env: TrainEnv = {
    engine: () => engine,
    model: () => (opts.model === undefined ? 'tiny' : opts.model),
    data: opts.data ?? (() => ({ name: 'items.jsonl', data: DATA })),
    storage,
    saveEveryMs: 0,
  };
  return { store, s, env, actions: createTrainActions(store, env) };
}

describe('train actions', () => {
  it('a run goes from start to finished with its curves, is saved, and becomes the trained model', async () => {
    const { store, s, actions } = setup();
    actions.setDraft(QUICK);
    await actions.start();
    const run = store.getState().runs[0];
    expect(run).toMatchObject({ name: 'Run 1', model: 'tiny', status: 'finished', totalSteps: 4, dataset: { name: 'items.jsonl', train: 12, test: 1 } });
    expect(run.steps.map((m) => m.step)).toEqual([1, 2, 3, 4]);
    expect(run.evals.map((m) => m.step)).toEqual([0, 2, 4]);
    expect(run.lastCheckpoint?.step).toBe(4);
    expect(store.getState().trainedRunId).toBe(run.id);
    expect(s.runs[0].status).toBe('finished');
  });

  it('says why training cannot start', () => {
    expect(startBlocker(setup().store.getState(), { engine: () => null, model: () => 'x', data: () => ({ problem: 'p' }) })).toMatch(/engine is starting/);
    const noModel = setup({ model: null });
    expect(startBlocker(noModel.store.getState(), noModel.env)).toMatch(/Load a model first/);
    const noData = setup({ data: () => ({ problem: 'Load a dataset in the Data tab first.' }) });
    expect(startBlocker(noData.store.getState(), noData.env)).toBe('Load a dataset in the Data tab first.');
    const bad = setup();
    bad.actions.setDraft({ batchSize: 0 });
    expect(startBlocker(bad.store.getState(), bad.env)).toMatch(/Fix the settings: A whole number of examples/);
  });

  it('a run that was live when the page closed comes back interrupted, with the settings being edited', async () => {
    const live = { id: 'r1', name: 'Run 1', status: 'running', steps: [], evals: [], samples: [] } as unknown as RunRecord;
    const { store, s, actions } = setup({ runs: [live] });
    s.draft = { draft: { ...DEFAULT_TRAIN, batchSize: 7 }, presetId: null };
    await actions.restore();
    expect(store.getState().runs[0].status).toBe('interrupted');
    expect(store.getState().runs[0].message).toMatch(/closed during this run/);
    expect(store.getState().draft.batchSize).toBe(7);
  });

  it('pause, then resume to the end; resuming on another model says which one to load', async () => {
    const { store, actions } = setup();
    actions.setDraft({ ...QUICK, maxSteps: 6 });
    const started = actions.start();
    // Pause as soon as the first step lands.
    await new Promise<void>((resolve) => {
      const unsub = store.subscribe((st) => {
        if (st.runs[0]?.steps.length) {
          unsub();
          void actions.control(st.runs[0].id, 'pause').then(resolve);
        }
      });
    });
    await started;
    const id = store.getState().runs[0].id;
    expect(store.getState().runs[0].status).toBe('paused');
    await actions.resume(id);
    expect(store.getState().runs[0]).toMatchObject({ status: 'finished' });
    expect(store.getState().runs[0].steps.at(-1)!.step).toBe(6);

    const other = setup({ model: 'another model' });
    other.store.setState({ runs: store.getState().runs.map((r) => ({ ...r, status: 'stopped' as const })) });
    await other.actions.resume(id);
    expect(other.store.getState().runs[0].message).toBe('This run trained tiny: load that model to resume it.');
  });
});
