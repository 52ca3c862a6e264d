import { beforeAll, describe, expect, it, vi } from 'vitest';
import { createStore, type StoreApi } from 'zustand/vanilla';
import { createInProcessEngine } from '../client/inProcess';
import type { EngineApi, EngineEvent, ParamsOf, RequestHooks, RequestKind, ResultOf, TrainData, TrainParams, TrainResult } from '../protocol/protocol';
import { DEFAULT_TRAIN } from '../train/presets';
import type { TrainConfig } from '../train/types';
import { bundledTokenizerJson, WASM_DIR } from '../testing/tinyModel';
import { createTrainActions, startBlocker, type RunStorage, type TrainEnv } from './createTrainActions';
import { memoryTabs } from '../testing/memoryTabs';
import type { Tabs } from './tabs';
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

/** Runs kept as IndexedDB keeps them here: one record per run. `failRead` makes load() fail. */
function memoryRuns(initial: RunRecord[] = [], draft: { draft: TrainConfig; presetId: string | null } | null = null) {
  const byId = new Map(initial.map((r) => [r.id, structuredClone(r)]));
  const s = {
    get runs(): RunRecord[] {
      return [...byId.values()].sort((a, b) => a.createdAt - b.createdAt);
    },
    draft,
    saves: 0,
    failRead: false,
  };
  const storage: RunStorage = {
    load: async () => {
      if (s.failRead) throw new DOMException('the database connection is closing', 'InvalidStateError');
      return structuredClone(s.runs);
    },
    get: async (id) => structuredClone(byId.get(id) ?? null),
    put: async (run) => {
      byId.set(run.id, structuredClone(run));
      s.saves++;
    },
    delete: async (id) => void byId.delete(id),
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

function setup(opts: { runs?: RunRecord[]; model?: string | null; data?: TrainEnv['data']; shared?: ReturnType<typeof memoryRuns>; tabs?: Tabs; engine?: EngineApi } = {}) {
  const store: StoreApi<TrainState> = createStore<TrainState>()(initialTrainState);
  const { s, storage } = opts.shared ?? memoryRuns(opts.runs);
  const env: TrainEnv = {
    engine: () => opts.engine ?? engine,
    model: () => (opts.model === undefined ? 'tiny' : opts.model),
    data: opts.data ?? (() => ({ name: 'items.jsonl', data: DATA })),
    storage,
    tabs: opts.tabs,
    saveEveryMs: 0,
  };
  return { store, s, env, actions: createTrainActions(store, env) };
}

describe('train actions', () => {
  it('a run goes from start to finished with its curves, is saved, and becomes the trained model', async () => {
    const { store, s, env, actions } = setup();
    let persisted = 0;
    env.persist = () => void persisted++;
    actions.setDraft(QUICK);
    await actions.start();
    const run = store.getState().runs[0];
    expect(run).toMatchObject({ name: 'Run 1', model: 'tiny', status: 'finished', totalSteps: 4, dataset: { name: 'items.jsonl', train: 12, test: 1 } });
    expect(run.steps.map((m) => m.step)).toEqual([1, 2, 3, 4]);
    expect(run.evals.map((m) => m.step)).toEqual([0, 2, 4]);
    expect(run.lastCheckpoint?.step).toBe(4);
    expect(store.getState().trainedRunId).toBe(run.id);
    expect(s.runs[0].status).toBe('finished');
    expect(persisted).toBe(1); // asked once the run started: checkpoints should survive storage pressure
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

describe('two tabs of the studio, and storage that fails', () => {
  const settle = () => new Promise((r) => setTimeout(r, 0));

  /** Two tabs over one IndexedDB (shared storage), with their own engines and stores. */
  function twoTabs() {
    const shared = memoryRuns();
    const hub = memoryTabs();
    const tab = () => {
      const fake = new FakeTrainEngine();
      const tabs = hub.tab();
      return { fake, tabs, ...setup({ shared, tabs, engine: fake }) };
    };
    return { shared, hub, a: tab(), b: tab() };
  }

  it("a second tab shows the first tab's run as live there: no Resume or Delete, Start says why, and its writes never touch that run", async () => {
    const { shared, a, b } = twoTabs();
    a.actions.setDraft(QUICK);
    const started = a.actions.start();
    await settle();
    const id = a.store.getState().runs[0].id;
    a.fake.trains[0].hooks.onTrain?.({ type: 'trainStep', requestId: 1, runId: id, metrics: { step: 1, totalSteps: 4, loss: 2, lr: 1e-4, gradNorm: 1, tokens: 10, tokensPerSecond: 5, elapsedMs: 10, etaMs: 30, epoch: 0.1 } });
    await a.actions.flush();

    await b.actions.restore();
    expect(b.store.getState().runs[0]).toMatchObject({ id, status: 'running' }); // not "interrupted": its tab is open
    expect(b.store.getState().elsewhere).toEqual([id]);
    expect(startBlocker(b.store.getState(), b.env)).toMatch(/in progress in another tab of the studio/);
    await b.actions.remove(id);
    await b.actions.resume(id);
    expect(shared.s.runs.map((r) => r.id)).toEqual([id]); // not deleted
    expect(b.fake.trains).toHaveLength(0); // not resumed
    // B's own edits (an imported run) are stored beside A's, not over them.
    await b.actions.addRun({ ...a.store.getState().runs[0], id: 'imported-1', name: 'Imported', status: 'imported', createdAt: 1 });
    expect(shared.s.runs.map((r) => r.status).sort()).toEqual(['imported', 'running']);

    // A's run ends: B hears of it, and may then resume or delete it.
    a.fake.trains[0].end('stopped');
    await started;
    await settle();
    expect(b.store.getState().runs.find((r) => r.id === id)?.status).toBe('stopped');
    expect(b.store.getState().elsewhere).toEqual([]);
    expect(a.store.getState().runs.map((r) => r.id).sort()).toEqual(['imported-1', id].sort()); // and A hears of B's import
  });

  it('a tab closed mid-run: the other tab marks the run interrupted once its lock is gone', async () => {
    const { shared, hub, a, b } = twoTabs();
    a.actions.setDraft(QUICK);
    void a.actions.start();
    await settle();
    await a.actions.flush();
    await b.actions.restore();
    const id = b.store.getState().elsewhere[0];
    expect(id).toBeDefined();
    hub.close(a.tabs as ReturnType<typeof hub.tab>); // the browser releases a closed tab's locks
    await settle();
    await settle();
    expect(b.store.getState().runs[0]).toMatchObject({ id, status: 'interrupted' });
    expect(b.store.getState().runs[0].message).toMatch(/tab running it was closed/);
    expect(shared.s.runs[0].status).toBe('interrupted');
    expect(b.store.getState().elsewhere).toEqual([]);
  });

  it('one run at a time across tabs: a tab cannot start while another trains', async () => {
    const { a, b } = twoTabs();
    a.actions.setDraft(QUICK);
    b.actions.setDraft(QUICK);
    void a.actions.start();
    await settle();
    expect(await b.actions.start()).toBeNull(); // before any message arrived: the training lock says no
    expect(b.fake.trains).toHaveLength(0);
  });

  it('a failed read of the stored runs writes nothing afterwards, and says so', async () => {
    const stored = { id: 'old', name: 'Run 1', status: 'finished', createdAt: 1, steps: [], evals: [], samples: [] } as unknown as RunRecord;
    const { store, s, actions } = setup({ runs: [stored] });
    s.failRead = true;
    await actions.restore();
    expect(store.getState().storageProblem).toMatch(/could not be read \(the database connection is closing\)\. Nothing is saved from this tab/);
    actions.setDraft(QUICK);
    await actions.start();
    expect(store.getState().runs[0].status).toBe('finished'); // the run itself trains
    expect(s.saves).toBe(0);
    expect(s.runs).toEqual([stored]); // and what was stored is as it was
  });

  it('a failed write says so on the page and is tried again', async () => {
    const { store, s, storage, actions } = (() => {
      const x = setup();
      return { ...x, storage: x.env.storage };
    })();
    const put = storage.put;
    storage.put = async () => {
      throw new DOMException('quota', 'QuotaExceededError');
    };
    actions.setDraft(QUICK);
    await actions.start();
    expect(store.getState().storageProblem).toMatch(/Runs could not be saved in this browser \(the storage quota is full\)/);
    storage.put = put;
    await actions.flush();
    expect(s.runs[0].status).toBe('finished');
    expect(store.getState().storageProblem).toBeNull();
  });

  it('Delete removes the run only once its checkpoints are gone; a failed delete keeps it listed and says so', async () => {
    const done = { id: 'r9', name: 'Run 9', status: 'finished', createdAt: 1, steps: [], evals: [], samples: [], message: null } as unknown as RunRecord;
    const failing = setup({ runs: [done], engine: new FakeTrainEngine() }); // answers no deleteRun
    await failing.actions.restore();
    await failing.actions.remove('r9');
    expect(failing.store.getState().runs[0].message).toMatch(/checkpoints could not be deleted \(the fake engine does not answer deleteRun\): the run stays listed/);
    expect(failing.s.runs.map((r) => r.id)).toEqual(['r9']);
    const working = setup({ runs: [done] });
    await working.actions.restore();
    await working.actions.remove('r9');
    expect(working.store.getState().runs).toEqual([]);
    expect(working.s.runs).toEqual([]);
  });
});

describe('a step that never returns, and a run that will not fit', () => {
  const settle = () => new Promise((r) => setTimeout(r, 0));

  it('the watchdog flags a run quiet for 20 times its usual step time (3 minutes at least), and clears on the next event', async () => {
    vi.useFakeTimers();
    try {
      const fake = new FakeTrainEngine();
      const { store, env, actions } = setup({ engine: fake });
      env.watchEveryMs = 1000; // the fake clock (Date.now) moves with the fake timers
      actions.setDraft(QUICK);
      void actions.start();
      await vi.advanceTimersByTimeAsync(0);
      const id = store.getState().runs[0].id;
      const step = (n: number) => fake.trains[0].hooks.onTrain?.({ type: 'trainStep', requestId: 1, runId: id, metrics: { step: n, totalSteps: 4, loss: 2, lr: 1e-4, gradNorm: 1, tokens: 10, tokensPerSecond: 5, elapsedMs: n * 20_000, etaMs: 0, epoch: 0.1 } });
      await vi.advanceTimersByTimeAsync(10_000);
      step(1); // steps take 20 s: stuck after 400 s of silence
      await vi.advanceTimersByTimeAsync(300_000);
      expect(store.getState().stalled).toBeNull(); // 5 minutes: over the 3-minute floor, under 20 steps
      await vi.advanceTimersByTimeAsync(101_000);
      expect(store.getState().stalled).toMatchObject({ runId: id, typicalMs: 20_000 });
      expect(store.getState().stalled!.quietMs).toBeGreaterThan(400_000);
      step(2);
      expect(store.getState().stalled).toBeNull();
      fake.trains[0].fail(new Error('the engine was restarted')); // what Restart the engine does to the request
      await vi.advanceTimersByTimeAsync(0);
      expect(store.getState().runs[0]).toMatchObject({ status: 'interrupted' });
      expect(store.getState().runs[0].message).toMatch(/Resume continues from the last checkpoint/);
    } finally {
      vi.useRealTimers();
    }
  });

  it('"won\'t fit" blocks Start until the user ticks Try anyway; a change of settings asks again', async () => {
    const { store, env, actions } = setup();
    actions.setDraft(QUICK);
    store.setState({ estimate: { status: 'ready', value: { memory: { verdict: 'wont-fit', reason: 'about 5.2 GB, over the WASM heap' } } as never } });
    expect(startBlocker(store.getState(), env)).toBe('The estimate says this run will not fit (about 5.2 GB, over the WASM heap): change the settings, or tick "Try anyway".');
    actions.setTryAnyway(true);
    expect(startBlocker(store.getState(), env)).toBeNull();
    actions.setDraft({ batchSize: 8 });
    expect(store.getState().tryAnyway).toBe(false);
    await settle();
  });
});
