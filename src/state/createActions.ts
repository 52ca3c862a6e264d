/**
 * The studio's actions over one EngineApi. The engine is created here and nowhere else;
 * switching backends terminates it and makes a new one. Every async step checks the
 * engine generation (`epoch`) it started on, so a reply from a terminated engine never
 * lands in the store of a new one.
 *
 * Built from a factory so tests can drive it with a fake engine (see actions.ts for the app's wiring).
 */
import type { BackendChoice, EngineApi, ModelRef, ModelSource, ProgressEvent } from '../protocol/protocol';
import { isOutOfMemory } from '../backend/outOfMemory';
import { checkLocalFiles } from './localFiles';
import { findHubPreset, RANDOM_PRESETS } from './presets';
import { checkSamplingDraft, type SamplingDraft } from './samplingDraft';
import { selectChatMode, selectGenerateBlocker, selectLoadBlocker } from './selectors';
import type { StoreApi } from 'zustand';
import type { LoadProgress, ModelForm, RunState, StudioState } from './store';

export interface ActionEnv {
  createEngine: () => EngineApi;
  /** Milliseconds, for tokens/s of a stopped run. */
  now?: () => number;
  /** Told about each backend choice (the app writes it into the URL so a reload keeps it). */
  onBackendChosen?: (choice: BackendChoice) => void;
}

/** A local file and where it sat in a dropped or picked folder (for messages). */
export interface LocalFileInput {
  path: string;
  file: File;
}

/** An EngineApi that calls `restart` once, after the first request that failed for want of memory. */
function restartAfterOutOfMemory(e: EngineApi, restart: () => void): EngineApi {
  let restarted = false;
  return {
    request: (kind, params, hooks) =>
      e.request(kind, params, hooks).catch((err: unknown) => {
        if (!restarted && isOutOfMemory(err)) {
          restarted = true;
          queueMicrotask(restart); // after this rejection reaches its caller (a run then ends as interrupted)
        }
        throw err;
      }),
    onEvent: (l) => e.onEvent(l),
    terminate: () => e.terminate(),
  };
}

export function createActions(store: Pick<StoreApi<StudioState>, 'getState' | 'setState'>, env: ActionEnv) {
  const now = env.now ?? (() => performance.now());
  const set = store.setState;
  const get = store.getState;

  let engine: EngineApi | null = null;
  let unsubscribe: (() => void) | null = null;
  let epoch = 0;
  let loadAbort: AbortController | null = null;
  let runAbort: AbortController | null = null;

  /** Terminates the current engine (rejecting its pending requests) and starts a new one. */
  async function startEngine(choice: BackendChoice, modelNote: string | null): Promise<void> {
    const mine = ++epoch;
    loadAbort?.abort();
    runAbort?.abort();
    loadAbort = runAbort = null;
    unsubscribe?.();
    unsubscribe = null;
    engine?.terminate();
    engine = null;
    set({ backendChoice: choice, backend: { status: 'starting' }, deviceLost: null, model: { status: 'none', note: modelNote }, run: { status: 'idle' } });
    try {
      // An engine that ran out of memory is not trusted again (a WASM abort leaves its module
      // broken): the request fails with the engine's message, and a fresh engine starts.
      const e = restartAfterOutOfMemory(env.createEngine(), () => {
        if (mine === epoch) void startEngine(choice, 'The engine ran out of memory and restarted: load the model again (the Train tab\'s estimate says what fits).');
      });
      engine = e;
      unsubscribe = e.onEvent((ev) => {
        if (mine === epoch && ev.type === 'deviceLost') set({ deviceLost: ev.message });
      });
      const info = await e.request('init', { backend: choice });
      if (mine === epoch) set({ backend: { status: 'ready', info } });
    } catch (err) {
      if (mine === epoch) set({ backend: { status: 'failed', message: messageOf(err) } });
    }
  }

  /** The model is gone with the old engine; say so instead of silently emptying the card. */
  function noteForSwitch(s: StudioState, choice: BackendChoice): string | null {
    const had = s.model.status === 'ready' || s.model.status === 'loading';
    return had ? `The backend changed to ${choice}: the model was unloaded, load it again.` : null;
  }

  /** Marks the model as loading under a new AbortController; the load belongs to this engine generation. */
  function beginLoad(label: string, progress: LoadProgress | null) {
    const job = { mine: epoch, controller: new AbortController(), label };
    loadAbort = job.controller;
    set({ model: { status: 'loading', label, progress } });
    return job;
  }

  type LoadJob = ReturnType<typeof beginLoad>;
  const isCurrent = (job: LoadJob) => job.mine === epoch && loadAbort === job.controller && !job.controller.signal.aborted;

  /**
   * Ends a load that failed or was cancelled before or during the engine request. The engine frees
   * the old model only after every check that can refuse the new one, so where it still holds one,
   * that model stays on the page (ready), with what happened to the new one.
   */
  async function endLoad(job: LoadJob, err: unknown, prefix = ''): Promise<void> {
    if (job.mine !== epoch) return;
    if (loadAbort === job.controller) loadAbort = null;
    const cancelled = job.controller.signal.aborted;
    const message = cancelled ? 'Loading was cancelled.' : prefix + messageOf(err);
    const still = await engine?.request('loadedModel', {}).catch(() => null);
    if (job.mine !== epoch || loadAbort !== null) return; // the engine restarted, or another load began
    if (still) set({ model: { status: 'ready', info: still, refused: cancelled ? `Loading ${job.label} was cancelled.` : `${job.label} did not load: ${message}` } });
    else set({ model: cancelled ? { status: 'none', note: message } : { status: 'failed', message } });
  }

  async function requestLoad(e: EngineApi, source: ModelSource, job: LoadJob): Promise<void> {
    const onProgress = (p: ProgressEvent) => {
      if (!isCurrent(job)) return;
      set({ model: { status: 'loading', label: job.label, progress: { stage: p.stage, file: p.file, loaded: p.loaded, total: p.total } } });
    };
    try {
      const info = await e.request('loadModel', { source }, { signal: job.controller.signal, onProgress });
      if (job.mine !== epoch) return;
      if (loadAbort === job.controller) loadAbort = null;
      set({ model: { status: 'ready', info } });
      if (source.kind === 'hub' && get().cachedModels.status !== 'idle') void refreshCachedModels(); // the list, if shown, has one more
    } catch (err) {
      await endLoad(job, err);
    }
  }

  /** Lists the models in the browser's Hub cache, with their sizes and the site's storage use. */
  async function refreshCachedModels(): Promise<void> {
    const e = engine;
    if (!e) return;
    const mine = epoch;
    if (get().cachedModels.status !== 'ready') set({ cachedModels: { status: 'loading' } });
    try {
      const r = await e.request('listCachedModels', {});
      if (mine === epoch) set({ cachedModels: { status: 'ready', models: r.models, usage: r.usage } });
    } catch (err) {
      if (mine === epoch) set({ cachedModels: { status: 'failed', message: `The cached models could not be listed: ${messageOf(err)}` } });
    }
  }

  async function loadModel(source: ModelSource, label: string): Promise<void> {
    const e = engine;
    if (!e || selectLoadBlocker(get())) return;
    await requestLoad(e, source, beginLoad(label, null));
  }

  /** Checks the names, reads the files on this thread (reporting bytes read), then sends the buffers. */
  async function loadLocalFiles(inputs: LocalFileInput[]): Promise<void> {
    const e = engine;
    if (!e || selectLoadBlocker(get())) return;
    const check = checkLocalFiles(inputs.map((f) => ({ name: f.file.name, path: f.path })));
    if (!check.ok) {
      set({ localPick: null, model: { status: 'failed', message: check.message } });
      return;
    }
    set({ localPick: check.pick });
    const chosen = inputs.filter((f) => check.pick.send.includes(f.file.name));
    const total = chosen.reduce((n, f) => n + f.file.size, 0);
    // A dropped folder names the model ("pythia-70m/config.json" → "pythia-70m").
    const label = chosen.find((f) => f.file.name === 'config.json')?.path.split('/').slice(-2, -1)[0] || 'local files';
    const job = beginLoad(label, { stage: 'read', file: null, loaded: 0, total });
    const files: { name: string; data: ArrayBuffer }[] = [];
    let loaded = 0;
    try {
      for (const f of chosen) {
        if (!isCurrent(job)) throw new Error('cancelled');
        set({ model: { status: 'loading', label, progress: { stage: 'read', file: f.file.name, loaded, total } } });
        files.push({ name: f.file.name, data: await f.file.arrayBuffer() });
        loaded += f.file.size;
      }
      if (!isCurrent(job)) throw new Error('cancelled');
    } catch (err) {
      await endLoad(job, err, 'Could not read the files: pick them again. ');
      return;
    }
    await requestLoad(e, { kind: 'files', files }, job);
  }

  async function generate(): Promise<void> {
    const s = get();
    const e = engine;
    const draft = checkSamplingDraft(s.sampling);
    if (!e || selectGenerateBlocker(s) || !draft.ok) return;
    const mine = epoch;
    const controller = new AbortController();
    runAbort = controller;
    const prompt = s.prompt;
    const startedAt = now();
    set({ run: { status: 'running', prompt, text: '', tokens: 0, startedAt, lastTokenAt: startedAt } });
    const onToken = (ev: { delta: string; tokenCount: number }) => {
      const run = get().run;
      if (mine !== epoch || runAbort !== controller || run.status !== 'running') return;
      set({ run: { ...run, text: run.text + ev.delta, tokens: ev.tokenCount, lastTokenAt: now() } });
    };
    try {
      const chat = selectChatMode(s);
      const result = await e.request('generate', { ...draft.params, prompt, useCache: s.useCache, model: s.generateWith, chat }, { signal: controller.signal, onToken });
      if (mine !== epoch) return;
      set({
        run: {
          status: 'done',
          prompt,
          // The result's text is authoritative (e.g. a matched stop string is cut off).
          text: result.text,
          stats: { tokens: result.tokenIds.length, tokensPerSecond: result.tokensPerSecond, reason: result.reason },
        },
      });
    } catch (err) {
      if (mine !== epoch) return;
      const run = get().run;
      const partial = run.status === 'running' ? run : null;
      set({ run: controller.signal.aborted && partial ? stoppedRun(partial) : { status: 'failed', prompt, text: partial?.text ?? '', message: messageOf(err) } });
    } finally {
      if (runAbort === controller) runAbort = null;
    }
  }

  return {
    /** The running engine (training drives it too); null while none is started. */
    engine: (): EngineApi | null => engine,

    /** Called once by main.tsx with the URL's options. */
    start(options: { backend: BackendChoice; hubEndpoint: string }): Promise<void> {
      set({ hubEndpoint: options.hubEndpoint });
      return startEngine(options.backend, null);
    },

    switchBackend(choice: BackendChoice): Promise<void> {
      env.onBackendChosen?.(choice);
      return startEngine(choice, noteForSwitch(get(), choice));
    },

    /**
     * A new engine on the same backend, for an engine that stopped answering (the training
     * watchdog offers it): a run in progress ends as interrupted and resumes from its checkpoint.
     */
    restartEngine(): Promise<void> {
      const had = get().model.status === 'ready' || get().model.status === 'loading';
      return startEngine(get().backendChoice, had ? 'The engine was restarted: load the model again.' : null);
    },

    /** After a lost GPU device: WASM runs on the CPU, so it cannot be lost the same way. */
    restartOnWasm(): Promise<void> {
      env.onBackendChosen?.('wasm');
      return startEngine('wasm', get().model.status === 'ready' ? 'The engine restarted on WASM after the GPU was lost: load the model again.' : null);
    },

    refreshCachedModels,

    /** Deletes a model from the browser's Hub cache (it downloads again next time), then lists again. */
    async deleteCachedModel(key: string): Promise<void> {
      const e = engine;
      if (!e) return;
      try {
        await e.request('deleteCachedModel', { key });
      } catch (err) {
        set({ cachedModels: { status: 'failed', message: `The cached model could not be deleted: ${messageOf(err)}` } });
        return;
      }
      await refreshCachedModels();
    },

    setModelForm(patch: Partial<ModelForm>): void {
      set({ modelForm: { ...get().modelForm, ...patch } });
    },

    loadHubPreset(): Promise<void> {
      const { preset } = get().modelForm;
      if (!findHubPreset(preset)) return Promise.resolve();
      return loadModel({ kind: 'hub', repo: preset, revision: 'main', endpoint: get().hubEndpoint }, preset);
    },

    loadHubRepo(): Promise<void> {
      const { repo, revision } = get().modelForm;
      const rev = revision.trim() || 'main';
      // The engine validates the id (and accepts pasted Hub URLs); we only trim it.
      return loadModel({ kind: 'hub', repo: repo.trim(), revision: rev, endpoint: get().hubEndpoint }, `${repo.trim()}@${rev}`);
    },

    createRandomModel(): Promise<void> {
      const { randomPreset, randomSeed } = get().modelForm;
      const seed = Number(randomSeed);
      if (!Number.isInteger(seed) || seed < 0) {
        set({ model: { status: 'failed', message: 'The seed must be a whole number, 0 or more.' } });
        return Promise.resolve();
      }
      return loadModel({ kind: 'random', spec: { ...RANDOM_PRESETS[randomPreset], seed } }, `random ${randomPreset} (seed ${seed})`);
    },

    loadLocalFiles,

    cancelLoad(): void {
      loadAbort?.abort();
    },

    setPrompt(prompt: string): void {
      set({ prompt });
    },

    setSampling(patch: Partial<SamplingDraft>): void {
      set({ sampling: { ...get().sampling, ...patch } });
    },

    setChat(chat: boolean): void {
      set({ chat });
    },

    setUseCache(useCache: boolean): void {
      set({ useCache });
    },

    setGenerateWith(generateWith: ModelRef): void {
      set({ generateWith });
    },

    generate,

    /** Aborts the run; the text so far stays on screen. */
    stopGeneration(): void {
      runAbort?.abort();
    },
  };

  function stoppedRun(run: Extract<RunState, { status: 'running' }>): RunState {
    const seconds = (run.lastTokenAt - run.startedAt) / 1000;
    return {
      status: 'done',
      prompt: run.prompt,
      text: run.text,
      stats: { tokens: run.tokens, tokensPerSecond: seconds > 0 ? run.tokens / seconds : 0, reason: 'cancelled' },
    };
  }
}

export type Actions = ReturnType<typeof createActions>;

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
