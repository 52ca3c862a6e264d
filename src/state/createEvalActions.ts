/**
 * The Evaluate tab's actions over the engine: side by side, batch evaluation with ratings and
 * exports, the blind arena, and ARC. Every model is named by a ModelChoice, so runs, their best
 * checkpoints and the base are handled alike; the engine runs one request at a time.
 */
import type { StoreApi } from 'zustand';
import type { EvalExample, EvalOutput, EvalSampling } from '../eval/evalTypes';
import type { Similarity } from '../eval/similarity';
import type { TokenizeSettings } from '../data/types';
import type { EngineApi } from '../protocol/protocol';
import { arcActions } from './evalArc';
import { arenaActions } from './evalArena';
import { batchActions } from './evalBatch';
import { createEvalContext } from './evalContext';
import { sideBySideActions } from './evalSideBySide';
import type { ModelChoice } from './modelChoices';
import type { EvalState, SavedEval } from './evalStore';

export interface EvalData {
  /** The test split as prompt/target pairs, in split order. */
  examples: EvalExample[];
  tokenize: TokenizeSettings;
  /** The dataset's canned refusals (see guardrailAnswersOf). */
  guardrails: string[];
}

export interface EvalEnv {
  engine: () => EngineApi | null;
  choices: () => ModelChoice[];
  data: () => EvalData | { problem: string };
  /** A typed prompt in the template `model` trained with (a run's own, else the Data tab's). */
  templated: (text: string, model: ModelChoice) => string;
  /** A test example (from data()) rendered in the template `model` trained with; unchanged where that is the Data tab's. */
  exampleFor: (example: EvalExample, model: ModelChoice) => EvalExample;
  /** The playground's sampling settings, or a reason they are invalid. */
  sampling: () => EvalSampling | { problem: string };
  /** Batch evaluation decodes greedily, so its metrics do not change from one run to the next. */
  batchSampling: (maxNewTokens: number) => EvalSampling;
  similarity: (outputs: string[], targets: string[], signal: AbortSignal) => Promise<Similarity>;
  storage: { load: () => Promise<SavedEval | null>; save: (s: SavedEval) => Promise<void> };
  /** Offers a file to the user (a download). */
  download: (name: string, text: string) => void;
  /** Loads a preference dataset (JSONL) into the Data tab and sets the Train tab up for DPO on it. */
  trainOnPairs: (name: string, jsonl: string) => Promise<void>;
  random?: () => number;
}

/** Why comparing cannot start, or null. */
export function compareBlocker(s: Pick<EvalState, 'selected'>, env: Pick<EvalEnv, 'engine' | 'choices'>, need = 1): string | null {
  if (!env.engine()) return 'The compute engine is starting.';
  const choices = env.choices();
  if (choices.length === 0) return 'Load a model first (Model & playground tab).';
  const chosen = s.selected.filter((id) => choices.some((c) => c.id === id));
  if (chosen.length < need) return need === 1 ? 'Choose at least one model to compare.' : `Choose at least ${need} models.`;
  return null;
}

/**
 * The tab's actions: the model choice and restore here, each feature in its own module over one
 * shared context (evalContext.ts: one job at a time on the engine, a patch helper).
 */
export function createEvalActions(store: Pick<StoreApi<EvalState>, 'getState' | 'setState'>, env: EvalEnv) {
  const ctx = createEvalContext(store, env);
  const { get, set } = ctx;
  return {
    async restore(): Promise<void> {
      const saved = await env.storage.load().catch(() => null);
      if (!saved) return;
      // A batch or ARC run cut short by a reload cannot continue: it shows what it had.
      const cut = (s: EvalState['batch']['status']) => (s === 'running' ? 'cancelled' : s);
      set({
        batch: { ...saved.batch, status: cut(saved.batch.status) },
        ratings: saved.ratings,
        arena: { ...saved.arena, match: null, pairs: saved.arena.pairs ?? [] }, // saved before pairs were kept: none
        arc: { ...saved.arc, status: cut(saved.arc.status), progress: null },
      });
    },

    /** The course's before/after, until the person picks: the base and the newest run. */
    selectDefault(choices: readonly ModelChoice[]): void {
      if (get().selectedByUser || choices.length === 0) return;
      const ids = choices.length > 1 ? [choices[0].id, choices[choices.length - 1].id] : [choices[0].id];
      if (ids.join() !== get().selected.join()) set({ selected: ids });
    },

    setSelected(ids: string[]): void {
      set({ selected: ids, selectedByUser: true });
    },

    toggleSelected(id: string): void {
      const s = get().selected;
      set({ selected: s.includes(id) ? s.filter((x) => x !== id) : [...s, id], selectedByUser: true });
    },

    /** Stops whatever evaluation job runs (side by side, batch, arena generation, ARC). */
    cancel: ctx.cancel,

    ...sideBySideActions(ctx),
    ...batchActions(ctx),
    ...arenaActions(ctx),
    ...arcActions(ctx),
  };
}

export type EvalActions = ReturnType<typeof createEvalActions>;

/** The outputs of one model in a finished or partial batch, with their examples (nulls dropped). */
export function modelRows(batch: EvalState['batch'], model: number): { example: EvalExample; output: EvalOutput }[] {
  return batch.examples.flatMap((example, i) => {
    const output = batch.outputs[model]?.[i];
    return output ? [{ example, output }] : [];
  });
}
