/**
 * The Train panel's actions over the engine: start, pause, resume, stop, estimate, forget.
 *
 * Every event of a live run lands on its RunRecord, and the records are saved (throttled) to
 * IndexedDB, so a closed tab leaves the run listed with its curves; it is then 'interrupted' and
 * resumes from its last checkpoint.
 */
import type { StoreApi } from 'zustand';
import type { EngineApi, TrainData, TrainEvent } from '../protocol/protocol';
import { CancelledError } from '../protocol/protocol';
import { TRAIN_PRESETS, checkTrainConfig } from '../train/presets';
import type { TrainConfig } from '../train/types';
import { isLive, resumeBlocker, sweepCount, type RunRecord, type RunStatus, type TrainState } from './trainStore';

/** The data a run trains on: a sweep run keeps its share of the train split (the split's order is already shuffled). */
function runData(run: Pick<RunRecord, 'sweep'>, data: TrainData): TrainData {
  return run.sweep ? { ...data, train: data.train.slice(0, sweepCount(data.train.length, run.sweep.fraction)) } : data;
}

export interface RunStorage {
  load(): Promise<RunRecord[]>;
  save(runs: RunRecord[]): Promise<void>;
  /** The settings being edited, so a reload keeps them. */
  loadDraft(): Promise<{ draft: TrainConfig; presetId: string | null } | null>;
  saveDraft(d: { draft: TrainConfig; presetId: string | null }): Promise<void>;
}

export interface TrainEnv {
  engine: () => EngineApi | null;
  /** The loaded model's label, or null when none is ready. */
  model: () => string | null;
  /** The Data tab's dataset, rendered and split; null with a reason when it cannot train. */
  data: () => { name: string; data: TrainData } | { problem: string };
  storage: RunStorage;
  newId?: () => string;
  now?: () => number;
  /** Milliseconds between saves of a live run's records. */
  saveEveryMs?: number;
}

/** Where training is blocked, in words for the Start button's tooltip; null when it can start. */
export function startBlocker(s: TrainState, env: Pick<TrainEnv, 'model' | 'data' | 'engine'>): string | null {
  if (!env.engine()) return 'The compute engine is starting.';
  if (!env.model()) return 'Load a model first (Model & playground tab).';
  const d = env.data();
  if ('problem' in d) return d.problem;
  if (s.runs.some((r) => isLive(r.status))) return 'A run is in progress: pause or stop it first.';
  const errors = Object.values(checkTrainConfig(s.draft));
  if (errors.length) return `Fix the settings: ${errors[0]}`;
  return null;
}

export function createTrainActions(store: Pick<StoreApi<TrainState>, 'getState' | 'setState'>, env: TrainEnv) {
  const set = store.setState;
  const get = store.getState;
  const now = env.now ?? (() => Date.now());
  const newId = env.newId ?? (() => `run-${now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`);
  let saveTimer: ReturnType<typeof setTimeout> | null = null;

  function patchRun(id: string, patch: Partial<RunRecord> | ((r: RunRecord) => Partial<RunRecord>)): void {
    set({ runs: get().runs.map((r) => (r.id === id ? { ...r, ...(typeof patch === 'function' ? patch(r) : patch) } : r)) });
    scheduleSave();
  }

  function scheduleSave(): void {
    if (saveTimer) return;
    saveTimer = setTimeout(() => {
      saveTimer = null;
      void env.storage.save(get().runs).catch(() => {});
    }, env.saveEveryMs ?? 1000);
  }

  function saveDraft(): void {
    const { draft, presetId } = get();
    void env.storage.saveDraft({ draft, presetId }).catch(() => {});
  }

  async function flush(): Promise<void> {
    if (saveTimer) clearTimeout(saveTimer);
    saveTimer = null;
    await env.storage.save(get().runs);
  }

  function onEvent(id: string, e: TrainEvent): void {
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

  /** Sends the run to the engine and follows it to its end. */
  async function drive(run: RunRecord, data: TrainData, resume: boolean): Promise<void> {
    const engine = env.engine();
    if (!engine) return;
    patchRun(run.id, { status: 'running', message: null });
    try {
      const result = await engine.request('train', { runId: run.id, config: run.config, data, resume }, { onTrain: (e) => onEvent(run.id, e) });
      const status: RunStatus = result.reason;
      patchRun(run.id, (r) => ({ status, totalSteps: result.totalSteps, message: result.checkpointError ? `The last checkpoint was not saved: ${result.checkpointError}` : r.message }));
      set({ trainedRunId: run.id });
    } catch (e) {
      const message = e instanceof CancelledError ? 'Cancelled.' : (e as Error).message;
      // A restarted engine or a lost device ends the run mid-way: it can resume from its checkpoint.
      const interrupted = /engine was restarted|crashed|device/i.test(message);
      patchRun(run.id, { status: interrupted ? 'interrupted' : 'failed', message: interrupted ? `${message}. Resume continues from the last checkpoint.` : message });
      if (!interrupted) set({ trainedRunId: run.id });
    } finally {
      await flush().catch(() => {});
    }
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
      dataset: { name: d.name, train: data.train.length, test: data.test.length },
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
    set({ runs: [...get().runs, run] });
    await drive(run, data, false);
    return run;
  }

  return {
    /** Lists the saved runs; one that was live when the page went away is now 'interrupted'. */
    async restore(): Promise<void> {
      const runs = await env.storage.load().catch(() => []);
      const saved = await env.storage.loadDraft().catch(() => null);
      // A draft from an older studio may lack fields: the defaults fill them.
      if (saved) set({ draft: { ...get().draft, ...saved.draft }, presetId: saved.presetId });
      set({
        runs: runs.map((r) =>
          isLive(r.status) || r.status === 'paused' ? { ...r, status: 'interrupted' as const, message: 'The page was closed during this run. Resume continues from the last checkpoint.' } : r,
        ),
      });
    },

    setDraft(patch: Partial<TrainConfig>): void {
      set({ draft: { ...get().draft, ...patch }, presetId: null });
      saveDraft();
    },

    applyPreset(id: string): void {
      const p = TRAIN_PRESETS.find((x) => x.id === id);
      if (!p) return;
      set({ draft: { ...p.config, samplePrompt: get().draft.samplePrompt }, presetId: id });
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
      });
      if (why || 'problem' in d) {
        if (why) patchRun(id, { message: why });
        return;
      }
      await drive(run, runData(run, d.data), true);
    },

    async remove(id: string): Promise<void> {
      const run = get().runs.find((r) => r.id === id);
      if (!run || isLive(run.status)) return;
      await env.engine()?.request('deleteRun', { runId: id }).catch(() => null);
      set({ runs: get().runs.filter((r) => r.id !== id), compare: get().compare.filter((c) => c !== id), trainedRunId: get().trainedRunId === id ? null : get().trainedRunId });
      await flush().catch(() => {});
    },

    /** Lists a run made outside training (an imported adapter) and keeps it. */
    async addRun(run: RunRecord): Promise<void> {
      set({ runs: [...get().runs, run] });
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
