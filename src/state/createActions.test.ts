import { beforeEach, describe, expect, it } from 'vitest';
import { createStore, type StoreApi } from 'zustand/vanilla';
import {
  CancelledError,
  type BackendInfo,
  type EngineApi,
  type EngineEvent,
  type ModelInfo,
  type ParamsOf,
  type RequestHooks,
  type RequestKind,
  type ResultOf,
} from '../protocol/protocol';
import { createActions } from './createActions';
import { initialState, type StudioState } from './store';

interface Call {
  kind: RequestKind;
  params: unknown;
  hooks: RequestHooks;
  resolve: (r: unknown) => void;
  reject: (e: Error) => void;
}

/** An EngineApi whose replies the test sends by hand. */
class FakeEngine implements EngineApi {
  calls: Call[] = [];
  listeners = new Set<(e: EngineEvent) => void>();
  terminated = false;

  request<K extends RequestKind>(kind: K, params: ParamsOf<K>, hooks: RequestHooks = {}): Promise<ResultOf<K>> {
    return new Promise((resolve, reject) => {
      this.calls.push({ kind, params, hooks, resolve: resolve as (r: unknown) => void, reject });
      hooks.signal?.addEventListener('abort', () => reject(new CancelledError()));
    });
  }
  onEvent(l: (e: EngineEvent) => void) {
    this.listeners.add(l);
    return () => void this.listeners.delete(l);
  }
  terminate() {
    this.terminated = true;
    for (const c of this.calls) c.reject(new Error('the engine was restarted'));
  }
  last(kind: RequestKind): Call {
    const c = this.calls.filter((x) => x.kind === kind).pop();
    if (!c) throw new Error(`no ${kind} request`);
    return c;
  }
}

const backendInfo: BackendInfo = { name: 'wasm', reason: 'asked for', adapter: null, limits: null, wasmThreads: 1, crossOriginIsolated: true };
const modelInfo = { label: 'm', source: 'random', paramCount: 10, deviceBytes: 40, fileBytes: 0, tokenizer: 'bundled', fromCache: false, warnings: [] as string[], fingerprint: 'f' } as ModelInfo;
const flush = () => new Promise((r) => setTimeout(r, 0));

describe('createActions', () => {
  let engines: FakeEngine[];
  let store: StoreApi<StudioState>;
  let actions: ReturnType<typeof createActions>;
  let clock: number;

  beforeEach(async () => {
    engines = [];
    clock = 0;
    store = createStore<StudioState>()(initialState);
    actions = createActions(store, {
      createEngine: () => {
        const e = new FakeEngine();
        engines.push(e);
        return e;
      },
      now: () => clock,
    });
    const started = actions.start({ backend: 'wasm', hubEndpoint: 'http://mirror' });
    expect(store.getState().backend.status).toBe('starting');
    engines[0].last('init').resolve(backendInfo);
    await started;
  });

  const ready = async () => {
    const p = actions.createRandomModel();
    engines.at(-1)!.last('loadModel').resolve(modelInfo);
    await p;
  };

  it('inits with the chosen backend and shows init failures', async () => {
    expect(engines[0].last('init').params).toEqual({ backend: 'wasm' });
    expect(store.getState().backend).toEqual({ status: 'ready', info: backendInfo });
    const p = actions.switchBackend('webgpu');
    engines[1].last('init').reject(new Error('WebGPU unavailable: use wasm'));
    await p;
    expect(store.getState().backend).toEqual({ status: 'failed', message: 'WebGPU unavailable: use wasm' });
  });

  it('sends hub loads to the configured endpoint and tracks progress', async () => {
    store.setState({ modelForm: { ...store.getState().modelForm, repo: ' EleutherAI/pythia-160m ', revision: '' } });
    const p = actions.loadHubRepo();
    const call = engines[0].last('loadModel');
    expect(call.params).toEqual({ source: { kind: 'hub', repo: 'EleutherAI/pythia-160m', revision: 'main', endpoint: 'http://mirror' } });
    call.hooks.onProgress!({ type: 'progress', requestId: 1, stage: 'download', file: 'config.json', loaded: 5, total: 10 });
    expect(store.getState().model).toMatchObject({ status: 'loading', progress: { loaded: 5, total: 10, file: 'config.json' } });
    call.reject(new Error('repo not found: check the id'));
    await flush();
    engines[0].last('loadedModel').resolve(null); // nothing was loaded before
    await p;
    expect(store.getState().model).toEqual({ status: 'failed', message: 'repo not found: check the id' });
  });

  it('a refused or cancelled load leaves the model the engine still holds on the page, with what happened', async () => {
    await ready();
    store.setState({ modelForm: { ...store.getState().modelForm, repo: 'EleutherAI/pythia-160m', revision: '' } });
    const p = actions.loadHubRepo();
    engines[0].last('loadModel').reject(new Error('config.json: num_hidden_layers is 1000000000'));
    await flush();
    engines[0].last('loadedModel').resolve(modelInfo);
    await p;
    expect(store.getState().model).toEqual({ status: 'ready', info: modelInfo, refused: 'EleutherAI/pythia-160m@main did not load: config.json: num_hidden_layers is 1000000000' });

    const q = actions.loadHubPreset();
    actions.cancelLoad();
    await flush();
    engines[0].last('loadedModel').resolve(modelInfo);
    await q;
    expect(store.getState().model).toMatchObject({ status: 'ready', info: modelInfo, refused: expect.stringMatching(/^Loading .* was cancelled\.$/) });

    // A load that failed after the old model was freed (the engine holds none) is a failure.
    const r = actions.loadHubRepo();
    engines[0].last('loadModel').reject(new Error('out of device memory'));
    await flush();
    engines[0].last('loadedModel').resolve(null);
    await r;
    expect(store.getState().model).toEqual({ status: 'failed', message: 'out of device memory' });
  });

  it('an engine that ran out of memory is replaced: the request fails with its message, a new engine starts on the same backend', async () => {
    await ready();
    const p = actions.generate();
    engines[0].last('generate').reject(new Error("out of memory: the WASM backend's 4 GiB heap ran out (Aborted(OOM))."));
    await p;
    await Promise.resolve();
    expect(engines[0].terminated).toBe(true);
    expect(engines).toHaveLength(2);
    expect(engines[1].last('init').params).toEqual({ backend: 'wasm' });
    expect(store.getState().model).toEqual({ status: 'none', note: expect.stringMatching(/ran out of memory and restarted: load the model again/) });
    expect(store.getState().run).toEqual({ status: 'idle' }); // the playground starts over with the new engine; the note says why
  });

  it('cancels a load', async () => {
    const p = actions.loadHubPreset();
    actions.cancelLoad();
    await flush();
    engines[0].last('loadedModel').resolve(null);
    await p;
    expect(store.getState().model).toEqual({ status: 'none', note: 'Loading was cancelled.' });
  });

  it('refuses pickles before reading anything', async () => {
    await actions.loadLocalFiles([
      { path: 'm/config.json', file: new File(['{}'], 'config.json') },
      { path: 'm/pytorch_model.bin', file: new File(['x'], 'pytorch_model.bin') },
    ]);
    expect(engines[0].calls.filter((c) => c.kind === 'loadModel')).toHaveLength(0);
    expect(store.getState().model).toMatchObject({ status: 'failed', message: expect.stringMatching(/pickle/) });
  });

  it('reads local files and sends them by name', async () => {
    const p = actions.loadLocalFiles([
      { path: 'pythia/config.json', file: new File(['{}'], 'config.json') },
      { path: 'pythia/model.safetensors', file: new File(['abcd'], 'model.safetensors') },
      { path: 'pythia/README.md', file: new File(['hi'], 'README.md') },
    ]);
    await flush();
    const call = engines[0].last('loadModel');
    const source = (call.params as ParamsOf<'loadModel'>).source;
    expect(source.kind === 'files' && source.files.map((f) => [f.name, f.data.byteLength])).toEqual([
      ['config.json', 2],
      ['model.safetensors', 4],
    ]);
    expect(store.getState().model).toMatchObject({ status: 'loading', label: 'pythia' });
    expect(store.getState().localPick).toEqual({ send: ['config.json', 'model.safetensors'], ignored: ['README.md'], tokenizer: 'bundled' });
    call.resolve(modelInfo);
    await p;
    expect(store.getState().model).toEqual({ status: 'ready', info: modelInfo });
  });

  it('streams tokens, and keeps the partial text when stopped', async () => {
    await ready();
    store.setState({ sampling: { ...store.getState().sampling, stopStrings: '###' } });
    const p = actions.generate();
    const call = engines[0].last('generate');
    expect(call.params).toMatchObject({ prompt: store.getState().prompt, maxNewTokens: 64, stopStrings: ['###'], useCache: true });
    clock = 500;
    call.hooks.onToken!({ type: 'token', requestId: 2, delta: ' Hello', tokenCount: 1 });
    clock = 1000;
    call.hooks.onToken!({ type: 'token', requestId: 2, delta: ' world', tokenCount: 2 });
    expect(store.getState().run).toMatchObject({ status: 'running', text: ' Hello world', tokens: 2 });
    actions.stopGeneration();
    await p;
    expect(store.getState().run).toMatchObject({ status: 'done', text: ' Hello world', stats: { tokens: 2, tokensPerSecond: 2, reason: 'cancelled' } });
  });

  it('takes the final text and stats from the result', async () => {
    await ready();
    const p = actions.generate();
    engines[0].last('generate').resolve({ text: ' done', tokenIds: [1, 2, 3], reason: 'eos', promptTokens: 4, ms: 100, tokensPerSecond: 30 });
    await p;
    expect(store.getState().run).toEqual({
      status: 'done',
      prompt: store.getState().prompt,
      text: ' done',
      stats: { tokens: 3, tokensPerSecond: 30, reason: 'eos' },
    });
  });

  it('switching the backend unloads the model and ignores the old engine', async () => {
    await ready();
    const p = actions.switchBackend('cpu');
    expect(engines[0].terminated).toBe(true);
    expect(store.getState().model).toEqual({ status: 'none', note: 'The backend changed to cpu: the model was unloaded, load it again.' });
    expect(engines[1].last('init').params).toEqual({ backend: 'cpu' });
    engines[1].last('init').resolve({ ...backendInfo, name: 'cpu' });
    await p;
    expect(store.getState().backendChoice).toBe('cpu');
  });

  it('shows a lost device and restarts on wasm', async () => {
    for (const l of engines[0].listeners) l({ type: 'deviceLost', message: 'GPU device lost: destroyed' });
    expect(store.getState().deviceLost).toBe('GPU device lost: destroyed');
    const p = actions.restartOnWasm();
    expect(store.getState().deviceLost).toBeNull();
    engines[1].last('init').resolve(backendInfo);
    await p;
    expect(engines[1].last('init').params).toEqual({ backend: 'wasm' });
  });
});
