/**
 * The Evaluate tab's actions over the engine: side by side, batch evaluation with ratings and
 * exports, the blind arena, and ARC. Every model is named by a ModelChoice, so runs, their best
 * checkpoints and the base are handled alike; the engine runs one request at a time.
 */
import type { StoreApi } from 'zustand';
import type { ArcDoc } from '../eval/arcDocs';
import { parseArc } from '../eval/arcDocs';
import type { EvalExample, EvalOutput, EvalSampling } from '../eval/evalTypes';
import { pickPair, type Vote } from '../eval/elo';
import type { Similarity } from '../eval/similarity';
import type { TokenizeSettings } from '../data/types';
import type { EngineApi } from '../protocol/protocol';
import { CancelledError } from '../protocol/protocol';
import type { ModelChoice } from './modelChoices';
import { emptyBatch, type ArenaMatch, type Column, type EvalState, type NamedModel, type RowRating, type SavedEval } from './evalStore';

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
  /** The playground's sampling settings, or a reason they are invalid. */
  sampling: () => EvalSampling | { problem: string };
  /** Batch evaluation decodes greedily, so its metrics do not change from one run to the next. */
  batchSampling: (maxNewTokens: number) => EvalSampling;
  similarity: (outputs: string[], targets: string[], signal: AbortSignal) => Promise<Similarity>;
  storage: { load: () => Promise<SavedEval | null>; save: (s: SavedEval) => Promise<void> };
  random?: () => number;
}

const named = (c: ModelChoice): NamedModel => ({ id: c.id, label: c.label });

/** Why comparing cannot start, or null. */
export function compareBlocker(s: Pick<EvalState, 'selected'>, env: Pick<EvalEnv, 'engine' | 'choices'>, need = 1): string | null {
  if (!env.engine()) return 'The compute engine is starting.';
  const choices = env.choices();
  if (choices.length === 0) return 'Load a model first (Model & playground tab).';
  const chosen = s.selected.filter((id) => choices.some((c) => c.id === id));
  if (chosen.length < need) return need === 1 ? 'Choose at least one model to compare.' : `Choose at least ${need} models.`;
  return null;
}

export function createEvalActions(store: Pick<StoreApi<EvalState>, 'getState' | 'setState'>, env: EvalEnv) {
  const set = store.setState;
  const get = store.getState;
  const random = env.random ?? Math.random;
  let job: AbortController | null = null;
  /** Counts batches started: a batch cut short by a newer one must not write over it. */
  let batchRun = 0;

  const selectedChoices = (): ModelChoice[] => {
    const choices = env.choices();
    return get()
      .selected.map((id) => choices.find((c) => c.id === id))
      .filter((c): c is ModelChoice => c !== undefined);
  };

  function save(): void {
    const { batch, ratings, arena, arc } = get();
    void env.storage.save({ batch, ratings, arena: { ...arena, match: null }, arc }).catch(() => {});
  }

  function startJob(): AbortController {
    job?.abort();
    job = new AbortController();
    return job;
  }

  const failure = (e: unknown) => (e instanceof CancelledError ? 'Cancelled.' : (e as Error).message);

  function patchColumn(i: number, patch: Partial<Column>): void {
    const sb = get().sideBySide;
    set({ sideBySide: { ...sb, columns: sb.columns.map((c, j) => (j === i ? { ...c, ...patch } : c)) } });
  }

  return {
    async restore(): Promise<void> {
      const saved = await env.storage.load().catch(() => null);
      if (!saved) return;
      // A batch or ARC run cut short by a reload cannot continue: it shows what it had.
      const cut = (s: EvalState['batch']['status']) => (s === 'running' ? 'cancelled' : s);
      set({
        batch: { ...saved.batch, status: cut(saved.batch.status) },
        ratings: saved.ratings,
        arena: { ...saved.arena, match: null },
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

    setPrompt(prompt: string): void {
      set({ sideBySide: { ...get().sideBySide, prompt } });
    },

    setRaw(raw: boolean): void {
      set({ sideBySide: { ...get().sideBySide, raw } });
    },

    /** Fills the prompt with a random test example (already in the template) and shows its answer. */
    pickFromTest(): string | null {
      const d = env.data();
      if ('problem' in d) return d.problem;
      if (d.examples.length === 0) return 'The test split is empty: raise the test share in the Data tab.';
      const ex = d.examples[Math.floor(random() * d.examples.length)];
      set({ sideBySide: { ...get().sideBySide, prompt: ex.prompt, raw: true, picked: ex } });
      return null;
    },

    clearPicked(): void {
      set({ sideBySide: { ...get().sideBySide, picked: null } });
    },

    /** One prompt to every chosen model in turn, streaming into its column, same sampling for all. */
    async runSideBySide(): Promise<void> {
      const engine = env.engine();
      const models = selectedChoices();
      const sampling = env.sampling();
      if (!engine || models.length === 0 || 'problem' in sampling) return;
      const sb = get().sideBySide;
      // Each model gets the prompt in its own run's template (runs trained on different templates differ).
      const prompts = models.map((m) => (sb.raw ? sb.prompt : env.templated(sb.prompt, m)));
      const controller = startJob();
      set({
        sideBySide: {
          ...sb,
          sent: [...new Set(prompts)].join('\n\n— and, for the runs trained on another template —\n\n'),
          columns: models.map((m) => ({ ...named(m), status: 'waiting', text: '', tokens: 0, tokensPerSecond: null, error: null })),
        },
      });
      for (let i = 0; i < models.length; i++) {
        if (controller.signal.aborted) {
          patchColumn(i, { status: 'cancelled' });
          continue;
        }
        patchColumn(i, { status: 'running' });
        try {
          const r = await engine.request(
            'generate',
            { ...sampling, prompt: prompts[i], useCache: true, model: models[i].ref },
            {
              signal: controller.signal,
              onToken: (e) => {
                const c = get().sideBySide.columns[i];
                patchColumn(i, { text: c.text + e.delta, tokens: e.tokenCount });
              },
            },
          );
          patchColumn(i, { status: 'done', text: r.text, tokens: r.tokenIds.length, tokensPerSecond: r.tokensPerSecond });
        } catch (e) {
          patchColumn(i, { status: e instanceof CancelledError ? 'cancelled' : 'failed', error: failure(e) });
        }
      }
      if (job === controller) job = null;
    },

    /** Stops whatever evaluation job runs (side by side, batch, arena generation, ARC). */
    cancel(): void {
      job?.abort();
    },

    /** Generates for the first `limit` test examples (all when null) with every chosen model. */
    async runBatch(limit: number | null, maxNewTokens: number): Promise<void> {
      const engine = env.engine();
      const models = selectedChoices();
      const d = env.data();
      const sampling = env.batchSampling(maxNewTokens);
      if (!engine || models.length === 0) return;
      const run = ++batchRun;
      const mine = () => run === batchRun;
      if ('problem' in d) {
        set({ batch: { ...emptyBatch(), status: 'failed', message: d.problem } });
        return;
      }
      const examples = limit === null ? d.examples : d.examples.slice(0, limit);
      if (examples.length === 0) {
        set({ batch: { ...emptyBatch(), status: 'failed', message: 'The test split is empty: raise the test share in the Data tab.' } });
        return;
      }
      const controller = startJob();
      set({
        batch: {
          status: 'running',
          message: null,
          models: models.map(named),
          examples,
          outputs: models.map(() => examples.map(() => null)),
          similarity: models.map(() => null),
          guardrails: d.guardrails,
          finishedAt: null,
        },
        ratings: {},
      });
      try {
        await engine.request(
          'evaluate',
          { examples, models: models.map((m) => m.ref), sampling, tokenize: d.tokenize },
          {
            signal: controller.signal,
            onEval: (e) => {
              if (e.type !== 'evalRow' || !mine()) return;
              const b = get().batch;
              const outputs = b.outputs.map((row, m) => (m === e.model ? row.map((o, i) => (i === e.index ? e.output : o)) : row));
              set({ batch: { ...b, outputs } });
            },
          },
        );
        if (!mine()) return;
        set({ batch: { ...get().batch, status: 'done', finishedAt: Date.now() } });
        save();
        // Similarity needs an embedding model from the Hub: measured after, and shown as unavailable offline.
        const targets = examples.map((x) => x.target);
        const similarity: EvalState['batch']['similarity'] = [];
        for (const outs of get().batch.outputs) {
          similarity.push(await env.similarity(outs.map((o) => o?.text ?? ''), targets, controller.signal));
          if (!mine()) return;
          set({ batch: { ...get().batch, similarity: [...similarity, ...get().batch.similarity.slice(similarity.length)] } });
        }
      } catch (e) {
        if (!mine()) return;
        const b = get().batch;
        set({ batch: { ...b, status: b.status === 'done' ? 'done' : e instanceof CancelledError ? 'cancelled' : 'failed', message: b.status === 'done' ? b.message : failure(e) } });
      } finally {
        if (job === controller) job = null;
        save();
      }
    },

    rate(exampleId: string, modelId: string, verdict: 'good' | 'bad' | null): void {
      const r: RowRating = get().ratings[exampleId] ?? { verdicts: {}, better: null };
      const verdicts = { ...r.verdicts };
      if (verdict) verdicts[modelId] = verdict;
      else delete verdicts[modelId];
      set({ ratings: { ...get().ratings, [exampleId]: { ...r, verdicts } } });
      save();
    },

    rateBetter(exampleId: string, better: string | null): void {
      const r: RowRating = get().ratings[exampleId] ?? { verdicts: {}, better: null };
      set({ ratings: { ...get().ratings, [exampleId]: { ...r, better } } });
      save();
    },

    setFilter(patch: Partial<EvalState['filter']>): void {
      set({ filter: { ...get().filter, ...patch } });
    },

    /** A random test prompt to two random models of those on offer, shown as A and B. */
    async nextMatch(): Promise<void> {
      const engine = env.engine();
      const choices = env.choices();
      const d = env.data();
      const sampling = env.sampling();
      if (!engine || choices.length < 2 || 'problem' in d || 'problem' in sampling || d.examples.length === 0) return;
      const [idA, idB] = pickPair(
        choices.map((c) => c.id),
        random,
      );
      const a = choices.find((c) => c.id === idA)!;
      const b = choices.find((c) => c.id === idB)!;
      const example = d.examples[Math.floor(random() * d.examples.length)];
      const controller = startJob();
      const arena = () => get().arena;
      const match: ArenaMatch = { example, a: named(a), b: named(b), outA: null, outB: null, status: 'generating', error: null };
      set({ arena: { ...arena(), match } });
      // A skip (a newer match) or a reset replaces this match: its answers then go nowhere.
      const mine = () => arena().match === match;
      try {
        const gen = async (c: ModelChoice) => (await engine.request('generate', { ...sampling, prompt: example.prompt, useCache: true, model: c.ref }, { signal: controller.signal })).text;
        const outA = await gen(a);
        const outB = await gen(b);
        if (mine()) set({ arena: { ...arena(), match: { ...match, outA, outB, status: 'ready' } } });
      } catch (e) {
        if (mine()) set({ arena: { ...arena(), match: { ...match, status: 'failed', error: failure(e) } } });
      } finally {
        if (job === controller) job = null;
      }
    },

    /** Records the vote for the match on screen; ratings are rebuilt from the votes (see elo.ts). */
    vote(winner: Vote['winner']): void {
      const { match, votes, labels } = get().arena;
      if (!match || match.status !== 'ready') return;
      set({
        arena: {
          votes: [...votes, { a: match.a.id, b: match.b.id, winner }],
          labels: { ...labels, [match.a.id]: match.a.label, [match.b.id]: match.b.label },
          match: null,
        },
      });
      save();
    },

    resetArena(): void {
      set({ arena: { votes: [], labels: {}, match: null } });
      save();
    },

    /** An ai2_arc JSONL: bad lines are listed and the file is refused (skipping would change what accuracy means). */
    loadArcText(name: string, text: string): void {
      const { docs, problems } = parseArc(text);
      const message = problems.length ? `${problems.length} bad line(s) in ${name}, the first ${problems[0]}: fix or remove them` : docs.length === 0 ? `${name} has no ARC questions` : null;
      set({ arc: { ...get().arc, status: message ? 'failed' : 'idle', message, source: message ? null : { name, docs, problems }, results: [] } });
    },

    loadArcDocs(name: string, docs: ArcDoc[]): void {
      set({ arc: { ...get().arc, status: 'idle', message: null, source: { name, docs, problems: [] }, results: [] } });
    },

    arcFailed(message: string): void {
      set({ arc: { ...get().arc, status: 'failed', message } });
    },

    /** Scores the loaded ARC questions with every chosen model. */
    async runArc(limit: number | null): Promise<void> {
      const engine = env.engine();
      const models = selectedChoices();
      const source = get().arc.source;
      if (!engine || models.length === 0 || !source) return;
      const docs = limit === null ? source.docs : source.docs.slice(0, limit);
      const controller = startJob();
      set({ arc: { ...get().arc, status: 'running', message: null, progress: { model: 0, done: 0, total: docs.length }, results: [] } });
      try {
        const { results } = await engine.request(
          'arc',
          { docs, models: models.map((m) => m.ref) },
          {
            signal: controller.signal,
            onEval: (e) => {
              if (e.type === 'arcProgress') set({ arc: { ...get().arc, progress: { model: e.model, done: e.done, total: e.total } } });
            },
          },
        );
        set({ arc: { ...get().arc, status: 'done', progress: null, results: results.map((r, i) => ({ ...named(models[i]), ...r })) } });
      } catch (e) {
        set({ arc: { ...get().arc, status: e instanceof CancelledError ? 'cancelled' : 'failed', progress: null, message: failure(e) } });
      } finally {
        if (job === controller) job = null;
        save();
      }
    },
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
