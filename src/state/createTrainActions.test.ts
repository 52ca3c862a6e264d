import { beforeAll, describe, expect, it } from 'vitest';
import { createStore, type StoreApi } from 'zustand/vanilla';
import { createInProcessEngine } from '../client/inProcess';
import type { EngineApi, EngineEvent, ParamsOf, RequestHooks, RequestKind, ResultOf, TrainData, TrainParams, TrainResult } from '../protocol/protocol';
import { DEFAULT_TRAIN } from '../train/presets';
import type { TrainConfig } from '../train/types';
import { bundledTokenizerJson, WASM_DIR } from '../testing/tinyModel';
import { createTrainActions, startBlocker, type RunStorage, type TrainEnv } from './createTrainActions';
import { initialTrainState, sweepCount, type RunRecord, type TrainState } from './trainStore';

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

/** An engine that records `train` requests and ends each run as the test says. */
class FakeTrainEngine implements EngineApi {
  trains: { params: TrainParams; hooks: RequestHooks; end: (reason: TrainResult['reason']) => void; fail: (e: Error) => void }[] = [];

  request<K extends RequestKind>(kind: K, params: ParamsOf<K>, hooks: RequestHooks = {}): Promise<ResultOf<K>> {
    if (kind !== 'train') return Promise.reject(new Error(`the fake engine does not answer ${kind}`));
    const p = params as TrainParams;
    return new Promise((resolve, reject) => {
      this.trains.push({
        params: p,
        hooks,
        end: (reason) => resolve({ runId: p.runId, reason, step: 2, totalSteps: 4, checkpointError: null } as ResultOf<K>),
        fail: reject,
      });
    });
  }
  onEvent(_l: (e: EngineEvent) => void) {
    return () => {};
  }
  terminate() {}
}

describe('data-amount sweep', () => {
  const settle = () => new Promise((r) => setTimeout(r, 0));

  function fakeSetup() {
    const fake = new FakeTrainEngine();
    const store: StoreApi<TrainState> = createStore<TrainState>()(initialTrainState);
    const { s, storage } = memoryRuns();
    let ids = 0;
    const env: TrainEnv = { engine: () => fake, model: () => 'tiny', data: () => ({ name: 'items.jsonl', data: DATA }), storage, saveEveryMs: 0, newId: () => `id${++ids}` };
    return { fake, store, s, actions: createTrainActions(store, env) };
  }

  it('runs the fractions smallest first, each on its share of the train split, named with its percentage', async () => {
    const { fake, store, actions } = fakeSetup();
    const sweep = actions.startSweep([0.5, 0.1]);
    await settle();
    // 12 train examples: 10% → round(1.2) = 1, 50% → 6.
    expect(sweepCount(12, 0.1)).toBe(1);
    expect(sweepCount(12, 0.5)).toBe(6);
    expect(fake.trains).toHaveLength(1);
    const first = fake.trains[0].params;
    expect(first.data.train).toEqual(DATA.train.slice(0, 1));
    expect(first.data.test).toEqual(DATA.test);
    expect(first.resume).toBe(false);
    expect(store.getState().runs[0]).toMatchObject({ name: 'Run 1 (10% of the data)', status: 'running', dataset: { train: 1, test: 1 }, sweep: { fraction: 0.1 } });

    fake.trains[0].end('finished');
    await settle();
    expect(fake.trains).toHaveLength(2);
    expect(fake.trains[1].params.data.train).toEqual(DATA.train.slice(0, 6));
    expect(fake.trains[1].params.runId).not.toBe(first.runId);
    fake.trains[1].end('finished');
    await sweep;

    const runs = store.getState().runs;
    expect(runs.map((r) => [r.name, r.status, r.dataset.train, r.sweep?.fraction])).toEqual([
      ['Run 1 (10% of the data)', 'finished', 1, 0.1],
      ['Run 2 (50% of the data)', 'finished', 6, 0.5],
    ]);
    expect(runs[0].sweep!.id).toMatch(/^sweep-/);
    expect(runs[1].sweep!.id).toBe(runs[0].sweep!.id);
  });

  it('an early stop goes on to the next fraction; a stopped run ends the sweep, and resumes on the same slice', async () => {
    const { fake, store, actions } = fakeSetup();
    const sweep = actions.startSweep([1, 0.25, 0.5]);
    await settle();
    fake.trains[0].end('early-stop');
    await settle();
    // 25% of 12 = 3, then 50% = 6.
    expect(fake.trains.map((t) => t.params.data.train.length)).toEqual([3, 6]);
    const stopped = fake.trains[1];
    stopped.hooks.onTrain!({ type: 'trainCheckpoint', requestId: 2, runId: stopped.params.runId, step: 2, kind: 'last', bytes: 100, error: null });
    stopped.end('stopped');
    await sweep;
    expect(fake.trains).toHaveLength(2);
    expect(store.getState().runs.map((r) => [r.name, r.status])).toEqual([
      ['Run 1 (25% of the data)', 'early-stop'],
      ['Run 2 (50% of the data)', 'stopped'],
    ]);

    const resumed = actions.resume(stopped.params.runId);
    await settle();
    expect(fake.trains).toHaveLength(3);
    expect(fake.trains[2].params).toMatchObject({ runId: stopped.params.runId, resume: true });
    expect(fake.trains[2].params.data.train).toEqual(DATA.train.slice(0, 6));
    fake.trains[2].end('finished');
    await resumed;
    expect(store.getState().runs[1].status).toBe('finished');
  });

  it('a failed run ends the sweep', async () => {
    const { fake, store, actions } = fakeSetup();
    const sweep = actions.startSweep([0.1, 0.5]);
    await settle();
    fake.trains[0].fail(new Error('NaN loss at step 1: lower the learning rate'));
    await sweep;
    expect(fake.trains).toHaveLength(1);
    expect(store.getState().runs).toHaveLength(1);
    expect(store.getState().runs[0]).toMatchObject({ status: 'failed', message: 'NaN loss at step 1: lower the learning rate' });
  });
});
