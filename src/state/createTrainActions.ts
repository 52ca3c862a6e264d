/**
 * The Train panel's actions over the engine: start, pause, resume, stop, estimate, forget.
 *
 * Every event of a live run lands on its RunRecord, and the records are saved (throttled) to
 * IndexedDB, so a closed tab leaves the run listed with its curves; it is then 'interrupted' and
 * resumes from its last checkpoint.
 */
import type { StoreApi } from 'zustand';
import { isOutOfMemory } from '../backend/outOfMemory';
import type { EngineApi, TrainData, TrainEvent } from '../protocol/protocol';
import { CancelledError } from '../protocol/protocol';
import { TRAIN_PRESETS, checkTrainConfig } from '../train/presets';
import type { TrainConfig } from '../train/types';
import { LOCKS, soloTabs, type TabMessage, type Tabs } from './tabs';
import { isLive, resumeBlocker, sweepCount, type RunRecord, type RunStatus, type TrainState } from './trainStore';

const messageOf = (e: unknown): string => ((e as Error)?.name === 'QuotaExceededError' ? 'the storage quota is full' : ((e as Error)?.message ?? String(e)));

/** A run whose tab went away while it was live or paused: it resumes from its last checkpoint. */
const interrupted = (r: RunRecord, why: string): RunRecord => ({ ...r, status: 'interrupted', message: `${why} Resume continues from the last checkpoint.` });

/** The data a run trains on: a sweep run keeps its share of the train split (the split's order is already shuffled). */
function runData(run: Pick<RunRecord, 'sweep'>, data: TrainData): TrainData {
  if (!run.sweep) return data;
  const n = sweepCount(data.train.length, run.sweep.fraction);
  return { ...data, train: data.train.slice(0, n), ...(data.rejected ? { rejected: { ...data.rejected, train: data.rejected.train.slice(0, n) } } : {}) };
}

export interface RunStorage {
  /** Every stored run. Throws when the store cannot be read: the actions then write nothing (see restore). */
  load(): Promise<RunRecord[]>;
  /** One run as stored now, or null. */
  get(id: string): Promise<RunRecord | null>;
  /** Stores one run under its own key, so tabs writing different runs never overwrite each other. */
  put(run: RunRecord): Promise<void>;
  delete(id: string): Promise<void>;
  /** The settings being edited, so a reload keeps them. */
  loadDraft(): Promise<{ draft: TrainConfig; presetId: string | null } | null>;
  saveDraft(d: { draft: TrainConfig; presetId: string | null }): Promise<void>;
}

export interface TrainEnv {
  engine: () => EngineApi | null;
  /** The loaded model's label, or null when none is ready. */
  model: () => string | null;
  /** The loaded model's fingerprint (ModelInfo.fingerprint), or null. */
  fingerprint?: () => string | null;
  /** The Data tab's dataset, rendered and split, with its template; a reason when it cannot train. */
  data: () => { name: string; data: TrainData; template?: RunRecord['template'] } | { problem: string };
  storage: RunStorage;
  /** The other tabs of the studio (default: none). */
  tabs?: Tabs;
  /** Asks the browser to keep this origin's storage under pressure (checkpoints are large): called when a run starts. */
  persist?: () => void;
  newId?: () => string;
  now?: () => number;
  /** Milliseconds between saves of a live run's records. */
  saveEveryMs?: number;
  /** Milliseconds between the watchdog's looks at a live run (default 5 s). */
  watchEveryMs?: number;
}

/**
 * The watchdog's patience: a run is called stuck after this many times its usual step time, and
 * never before STALL_MIN_MS (a first step compiles kernels; an eval or a checkpoint sends no step).
 */
export const STALL_FACTOR = 20;
export const STALL_MIN_MS = 3 * 60_000;

/** Where training is blocked, in words for the Start button's tooltip; null when it can start. */
export function startBlocker(s: TrainState, env: Pick<TrainEnv, 'model' | 'data' | 'engine'>): string | null {
  if (!env.engine()) return 'The compute engine is starting.';
  if (!env.model()) return 'Load a model first (Model & playground tab).';
  const d = env.data();
  if ('problem' in d) return d.problem;
  if (s.draft.objective === 'dpo' && !d.data.rejected) return 'DPO trains on preference pairs: load a dataset with prompt / chosen / rejected answers in the Data tab (or export your arena votes), or choose SFT.';
  if (s.runs.some((r) => isLive(r.status) && s.elsewhere.includes(r.id))) return 'A run is in progress in another tab of the studio: wait for it to end, or pause it there.';
  if (s.runs.some((r) => isLive(r.status))) return 'A run is in progress: pause or stop it first.';
  const errors = Object.values(checkTrainConfig(s.draft));
  if (errors.length) return `Fix the settings: ${errors[0]}`;
  if (s.estimate.status === 'ready' && s.estimate.value.memory.verdict === 'wont-fit' && !s.tryAnyway) {
    return `The estimate says this run will not fit (${s.estimate.value.memory.reason}): change the settings, or tick "Try anyway".`;
  }
  return null;
}

export function createTrainActions(store: Pick<StoreApi<TrainState>, 'getState' | 'setState'>, env: TrainEnv) {
  const set = store.setState;
  const get = store.getState;
  const now = env.now ?? (() => Date.now());
  const newId = env.newId ?? (() => `run-${now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`);
  const tabs = env.tabs ?? soloTabs();
  let saveTimer: ReturnType<typeof setTimeout> | null = null;
  /** Runs changed here and not stored yet. */
  const dirty = new Set<string>();
  /** True once the stored runs could not be read: nothing is written, so nothing stored is lost. */
  let readOnly = false;
  /** The runs this tab owns (driving, or paused in its engine), with their lock's release. */
  const owned = new Map<string, () => void>();
  /** Runs another tab owns whose lock this tab is waiting on. */
  const watching = new Set<string>();

  function patchRun(id: string, patch: Partial<RunRecord> | ((r: RunRecord) => Partial<RunRecord>)): void {
    set({ runs: get().runs.map((r) => (r.id === id ? { ...r, ...(typeof patch === 'function' ? patch(r) : patch) } : r)) });
    dirty.add(id);
    scheduleSave();
  }

  function scheduleSave(): void {
    if (saveTimer) return;
    saveTimer = setTimeout(() => {
      saveTimer = null;
      void flush().catch(() => {});
    }, env.saveEveryMs ?? 1000);
  }

  function saveDraft(): void {
    const { draft, presetId } = get();
    void env.storage.saveDraft({ draft, presetId }).catch(() => {});
  }

  /** Stores the runs changed here (each under its own key) and tells the other tabs. */
  async function flush(): Promise<void> {
    if (saveTimer) clearTimeout(saveTimer);
    saveTimer = null;
    if (readOnly) return;
    const ids = [...dirty];
    dirty.clear();
    for (const id of ids) {
      const run = get().runs.find((r) => r.id === id);
      if (!run) continue;
      try {
        await env.storage.put(run);
      } catch (e) {
        dirty.add(id); // tried again at the next save
        set({ storageProblem: `Runs could not be saved in this browser (${messageOf(e)}). They stay on this page until it closes; free some space (delete old runs or models) to save again.` });
        throw e;
      }
      tabs.post({ kind: 'run', run });
    }
    if (get().storageProblem?.startsWith('Runs could not be saved')) set({ storageProblem: null });
  }

  /** Releases this tab's hold on a run once it is neither live nor paused in its engine. */
  function releaseIfDone(id: string): void {
    const run = get().runs.find((r) => r.id === id);
    if (run && (isLive(run.status) || run.status === 'paused')) return;
    owned.get(id)?.();
    owned.delete(id);
  }

  /** Waits for another tab's hold on a run to end; if that tab went away mid-run, the run is interrupted. */
  function watch(id: string): void {
    if (watching.has(id)) return;
    watching.add(id);
    tabs.whenFree(LOCKS.run(id), async () => {
      watching.delete(id);
      // The owner stores its last record before it lets go: what is stored now is the truth.
      const stored = readOnly ? null : await env.storage.get(id).catch(() => null);
      set({ elsewhere: get().elsewhere.filter((x) => x !== id) });
      if (!stored) return;
      const gone = isLive(stored.status) || stored.status === 'paused';
      set({ runs: get().runs.map((r) => (r.id === id ? (gone ? interrupted(stored, 'The tab running it was closed.') : stored) : r)) });
      if (gone) {
        dirty.add(id);
        await flush().catch(() => {});
      }
    });
  }

  function onTabMessage(m: TabMessage): void {
    if (m.kind === 'run') {
      if (owned.has(m.run.id)) return; // this tab's own run: its record here is the newer one
      const runs = get().runs;
      const mine = isLive(m.run.status) || m.run.status === 'paused';
      set({
        runs: runs.some((r) => r.id === m.run.id) ? runs.map((r) => (r.id === m.run.id ? m.run : r)) : [...runs, m.run],
        elsewhere: mine ? [...new Set([...get().elsewhere, m.run.id])] : get().elsewhere.filter((x) => x !== m.run.id),
      });
      if (mine) watch(m.run.id);
    } else if (m.kind === 'run-deleted') {
      set({ runs: get().runs.filter((r) => r.id !== m.id), compare: get().compare.filter((c) => c !== m.id), elsewhere: get().elsewhere.filter((x) => x !== m.id) });
    }
  }
  tabs.listen(onTabMessage);

  /**
   * A step that never returns (an out-of-memory in threaded WASM can hang one: tfjs-wasm does not
   * check malloc) sends no error: the page notices the silence and offers to restart the engine.
   */
  let lastProgressAt = 0;
  function startWatchdog(id: string): () => void {
    lastProgressAt = now();
    const timer = setInterval(() => {
      const run = get().runs.find((r) => r.id === id);
      if (!run || !isLive(run.status)) return;
      const last = run.steps.at(-1);
      const typicalMs = last && last.step > 0 && last.elapsedMs > 0 ? last.elapsedMs / last.step : null;
      const quietMs = now() - lastProgressAt;
      const stuck = quietMs > Math.max(STALL_MIN_MS, STALL_FACTOR * (typicalMs ?? 0));
      if (stuck) set({ stalled: { runId: id, quietMs, typicalMs } });
      else if (get().stalled) set({ stalled: null });
    }, env.watchEveryMs ?? 5000);
    return () => {
      clearInterval(timer);
      if (get().stalled?.runId === id) set({ stalled: null });
    };
  }

  function onEvent(id: string, e: TrainEvent): void {
    lastProgressAt = now();
    if (get().stalled) set({ stalled: null });
    if (e.type === 'trainStep') patchRun(id, (r) => ({ steps: [...r.steps, e.metrics], totalSteps: e.metrics.totalSteps }));
    else if (e.type === 'trainEval') patchRun(id, (r) => ({ evals: [...r.evals, e.metrics], bestEval: e.best ? e.metrics : r.bestEval }));
    else if (e.type === 'trainSample') patchRun(id, (r) => ({ samples: [...r.samples, { step: e.step, text: e.text }], samplePrompt: e.prompt }));
    else if (e.type === 'trainCheckpoint') {
      patchRun(id, (r) => ({
        lastCheckpoint: e.kind === 'last' && !e.error ? { step: e.step, bytes: e.bytes } : r.lastCheckpoint,
        message: e.error ? `Checkpoint at step ${e.step} not saved: ${e.error}` : r.message,
      }));
    }
  }

  /**
   * Sends the run to the engine and follows it to its end, holding the training lock (one run at
   * a time across tabs) and the run's own (kept while it is paused in this tab's engine).
   */
  async function drive(run: RunRecord, data: TrainData, resume: boolean, training: () => void): Promise<void> {
    const engine = env.engine();
    if (!engine) return training();
    patchRun(run.id, { status: 'running', message: null });
    const stopWatching = startWatchdog(run.id);
    try {
      const result = await engine.request('train', { runId: run.id, config: run.config, data, resume }, { onTrain: (e) => onEvent(run.id, e) });
      const status: RunStatus = result.reason;
      patchRun(run.id, (r) => ({ status, totalSteps: result.totalSteps, message: result.checkpointError ? `The last checkpoint was not saved: ${result.checkpointError}` : r.message }));
      set({ trainedRunId: run.id });
    } catch (e) {
      const message = e instanceof CancelledError ? 'Cancelled.' : (e as Error).message;
      // A restarted engine or a lost device ends the run mid-way: it can resume from its checkpoint.
      const oom = isOutOfMemory(e); // its message already says the run resumes from its checkpoint
      const interrupted = oom || /engine was restarted|crashed|device/i.test(message);
      patchRun(run.id, { status: interrupted ? 'interrupted' : 'failed', message: interrupted && !oom ? `${message}. Resume continues from the last checkpoint.` : message });
      if (!interrupted) set({ trainedRunId: run.id });
    } finally {
      stopWatching();
      await flush().catch(() => {});
      training();
      releaseIfDone(run.id);
    }
  }

  /** Takes the training lock and the run's; null (and nothing held) when another tab has either. */
  async function holdFor(id: string): Promise<(() => void) | null> {
    const training = await tabs.tryHold(LOCKS.training);
    if (!training) return null;
    if (!owned.has(id)) {
      const release = await tabs.tryHold(LOCKS.run(id));
      if (!release) {
        training();
        return null;
      }
      owned.set(id, release);
    }
    return training;
  }

  async function startRun(sweep?: RunRecord['sweep']): Promise<RunRecord | null> {
    if (startBlocker(get(), env)) return null;
    const d = env.data();
    if ('problem' in d) return null;
    const data = runData({ sweep }, d.data);
    const n = get().runs.length + 1;
    const run: RunRecord = {
      id: newId(),
      name: sweep ? `Run ${n} (${Math.round(sweep.fraction * 100)}% of the data)` : `Run ${n}`,
      createdAt: now(),
      model: env.model()!,
      ...(env.fingerprint?.() ? { baseFingerprint: env.fingerprint()! } : {}),
      dataset: { name: d.name, train: data.train.length, test: data.test.length },
      ...(d.template ? { template: d.template } : {}),
      config: get().draft,
      tokenize: d.data.tokenize,
      status: 'running',
      steps: [],
      evals: [],
      samples: [],
      samplePrompt: get().draft.samplePrompt,
      totalSteps: 0,
      lastCheckpoint: null,
      bestEval: null,
      message: null,
      ...(sweep ? { sweep } : {}),
    };
    const training = await holdFor(run.id);
    if (!training) return null; // another tab started training a moment ago: its run arrives by message
    env.persist?.();
    set({ runs: [...get().runs, run] });
    await drive(run, data, false, training);
    return run;
  }

  return {
    /**
     * Lists the stored runs. One that was live or paused when its tab went away is now
     * 'interrupted'; one another open tab still owns stays as it is, listed as in that tab. When
     * the store cannot be read, this tab writes no run at all (so nothing stored is overwritten) and says so.
     */
    async restore(): Promise<void> {
      let runs: RunRecord[] = [];
      try {
        runs = await env.storage.load();
      } catch (e) {
        readOnly = true;
        set({ storageProblem: `The runs saved in this browser could not be read (${messageOf(e)}). Nothing is saved from this tab, so they are not overwritten: reload the page to try again.` });
      }
      const saved = await env.storage.loadDraft().catch(() => null);
      // A draft from an older studio may lack fields: the defaults fill them.
      if (saved) set({ draft: { ...get().draft, ...saved.draft }, presetId: saved.presetId });
      const held = await tabs.held();
      const elsewhere: string[] = [];
      const restored = runs.map((r) => {
        if (!(isLive(r.status) || r.status === 'paused')) return r;
        if (held.has(LOCKS.run(r.id))) {
          elsewhere.push(r.id);
          return r;
        }
        dirty.add(r.id);
        return interrupted(r, 'The page was closed during this run.');
      });
      // Runs another tab listed meanwhile (by message) are kept.
      const known = new Set(restored.map((r) => r.id));
      set({ runs: [...restored, ...get().runs.filter((r) => !known.has(r.id))], elsewhere: [...new Set([...get().elsewhere, ...elsewhere])] });
      for (const id of elsewhere) watch(id);
      if (dirty.size) await flush().catch(() => {});
    },

    setDraft(patch: Partial<TrainConfig>): void {
      set({ draft: { ...get().draft, ...patch }, presetId: null, tryAnyway: false });
      saveDraft();
    },

    /** Start even though the estimate says the run will not fit (until the settings change). */
    setTryAnyway(on: boolean): void {
      set({ tryAnyway: on });
    },

    applyPreset(id: string): void {
      const p = TRAIN_PRESETS.find((x) => x.id === id);
      if (!p) return;
      set({ draft: { ...p.config, samplePrompt: get().draft.samplePrompt }, presetId: id, tryAnyway: false });
      saveDraft();
    },

    async estimate(trainExamples: number, seqLen: number): Promise<void> {
      const engine = env.engine();
      if (!engine || !env.model()) {
        set({ estimate: { status: 'idle', reason: 'Load a model to see the memory estimate.' } });
        return;
      }
      if (Object.keys(checkTrainConfig(get().draft)).length) return;
      set({ estimate: { status: 'loading' } });
      try {
        const value = await engine.request('estimateTraining', { config: get().draft, trainExamples, seqLen });
        set({ estimate: { status: 'ready', value } });
      } catch (e) {
        set({ estimate: { status: 'failed', message: (e as Error).message } });
      }
    },

    start: (): Promise<RunRecord | null> => startRun(),

    /**
     * The course's "vary the amount of data": the same settings on each fraction of the train split,
     * one run after another. A run that does not finish (stopped, failed) ends the sweep.
     */
    async startSweep(fractions: readonly number[]): Promise<void> {
      const id = `sweep-${newId()}`;
      for (const fraction of [...fractions].sort((a, b) => a - b)) {
        const run = await startRun({ id, fraction });
        const status = run && get().runs.find((r) => r.id === run.id)?.status;
        if (status !== 'finished' && status !== 'early-stop') break;
      }
    },

    async control(id: string, action: 'pause' | 'stop'): Promise<void> {
      const engine = env.engine();
      const run = get().runs.find((r) => r.id === id);
      if (!engine || !run || run.status !== 'running') return;
      patchRun(id, { status: action === 'pause' ? 'pausing' : 'stopping' });
      const { accepted } = await engine.request('controlTraining', { runId: id, action });
      if (!accepted) patchRun(id, { status: 'running' });
    },

    /** Continues a paused, stopped or interrupted run with the Data tab's current data. */
    async resume(id: string): Promise<void> {
      const run = get().runs.find((r) => r.id === id);
      if (!run) return;
      const d = env.data();
      const why = resumeBlocker(run, {
        engineReady: env.engine() !== null,
        model: env.model(),
        dataProblem: 'problem' in d ? d.problem : null,
        anyLive: get().runs.some((r) => isLive(r.status)),
        elsewhere: get().elsewhere,
        fingerprint: env.fingerprint?.() ?? null,
      });
      if (why || 'problem' in d) {
        if (why && !get().elsewhere.includes(id)) patchRun(id, { message: why });
        return;
      }
      const training = await holdFor(id);
      if (!training) return;
      await drive(run, runData(run, d.data), true, training);
    },

    /** Deletes a run and its checkpoints; refused while any tab has it live or paused. */
    async remove(id: string): Promise<void> {
      const run = get().runs.find((r) => r.id === id);
      if (!run || isLive(run.status) || get().elsewhere.includes(id)) return;
      const mine = owned.get(id);
      const release = mine ?? (await tabs.tryHold(LOCKS.run(id)));
      if (!release) return; // another tab took it up a moment ago
      try {
        // The checkpoints go first: a run whose files could not be deleted stays listed, so none is orphaned.
        const engine = env.engine();
        if (!engine) return patchRun(id, { message: 'The compute engine is starting: delete this run once it is ready.' });
        try {
          await engine.request('deleteRun', { runId: id });
        } catch (e) {
          return patchRun(id, { message: `Its checkpoints could not be deleted (${messageOf(e)}): the run stays listed; try Delete again.` });
        }
        set({ runs: get().runs.filter((r) => r.id !== id), compare: get().compare.filter((c) => c !== id), trainedRunId: get().trainedRunId === id ? null : get().trainedRunId });
        dirty.delete(id);
        if (!readOnly) {
          await env.storage.delete(id).catch(() => {});
          tabs.post({ kind: 'run-deleted', id });
        }
      } finally {
        owned.delete(id);
        release();
      }
    },

    /** Lists a run made outside training (an imported adapter) and keeps it. */
    async addRun(run: RunRecord): Promise<void> {
      set({ runs: [...get().runs, run] });
      dirty.add(run.id);
      await flush().catch(() => {});
    },

    toggleCompare(id: string): void {
      const c = get().compare;
      set({ compare: c.includes(id) ? c.filter((x) => x !== id) : [...c, id] });
    },

    /** The model changed or the engine restarted: no run's weights are in memory any more. */
    forgetTrained(): void {
      set({ trainedRunId: null });
    },

    flush,
  };
}

export type TrainActions = ReturnType<typeof createTrainActions>;
