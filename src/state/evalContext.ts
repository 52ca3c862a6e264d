/**
 * What the Evaluate tab's features share (evalSideBySide, evalBatch, evalArena, evalArc): the store,
 * the environment, one job at a time on the engine, and small helpers. Built once by
 * createEvalActions and handed to each feature.
 */
import type { StoreApi } from 'zustand';
import { CancelledError } from '../protocol/protocol';
import type { EvalEnv } from './createEvalActions';
import type { EvalState, NamedModel } from './evalStore';
import type { ModelChoice } from './modelChoices';

/** A job of one feature: its abort signal, and whether no newer job of that feature has started since. */
export interface Job {
  signal: AbortSignal;
  isCurrent: () => boolean;
  /** Call when the job ends (in a finally): it is no longer the one Cancel stops. */
  end: () => void;
}

export type Feature = 'sideBySide' | 'batch' | 'arena' | 'arc';

export interface EvalContext {
  env: EvalEnv;
  get: () => EvalState;
  set: (partial: Partial<EvalState>) => void;
  /** One slice's fields replaced, the rest kept: patch('arc', { status: 'done' }). */
  patch: <K extends 'sideBySide' | 'batch' | 'arena' | 'arc' | 'filter'>(key: K, partial: Partial<EvalState[K]>) => void;
  random: () => number;
  /**
   * Starts a job of `feature`. The engine runs one request at a time, so any job still running is
   * aborted; a feature's own older job learns from isCurrent() that its results go nowhere.
   */
  startJob: (feature: Feature) => Job;
  /** Makes the feature's running job stale without starting another (the arena's reset). */
  invalidate: (feature: Feature) => void;
  /** Aborts whatever job runs. */
  cancel: () => void;
  /** The chosen models that are still on offer, in the order chosen. */
  selectedChoices: () => ModelChoice[];
  /** Stores what the tab keeps (the batch, ratings, arena votes, ARC results). */
  save: () => void;
}

export const named = (c: ModelChoice): NamedModel => ({ id: c.id, label: c.label });

/** A failed job's message for the panel. */
export const failure = (e: unknown): string => (e instanceof CancelledError ? 'Cancelled.' : (e as Error).message);

export function createEvalContext(store: Pick<StoreApi<EvalState>, 'getState' | 'setState'>, env: EvalEnv): EvalContext {
  const get = store.getState;
  const set = store.setState;
  let running: AbortController | null = null;
  const latest = new Map<Feature, object>();
  return {
    env,
    get,
    set,
    patch: (key, partial) => set({ [key]: { ...get()[key], ...partial } } as Partial<EvalState>),
    random: env.random ?? Math.random,
    startJob(feature) {
      running?.abort();
      const controller = new AbortController();
      running = controller;
      const token = {};
      latest.set(feature, token);
      return {
        signal: controller.signal,
        isCurrent: () => latest.get(feature) === token,
        end: () => {
          if (running === controller) running = null;
        },
      };
    },
    invalidate: (feature) => void latest.delete(feature),
    cancel: () => running?.abort(),
    selectedChoices() {
      const choices = env.choices();
      return get()
        .selected.map((id) => choices.find((c) => c.id === id))
        .filter((c): c is ModelChoice => c !== undefined);
    },
    save() {
      const { batch, ratings, arena, arc } = get();
      void env.storage.save({ batch, ratings, arena: { ...arena, match: null }, arc }).catch(() => {});
    },
  };
}
