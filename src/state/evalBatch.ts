/** Batch evaluation: every chosen model on the test split (in its own run's template), the outputs, their similarity to the targets, and the person's ratings. */
import { CancelledError } from '../protocol/protocol';
import { failure, named, type EvalContext } from './evalContext';
import { emptyBatch, type EvalState, type RowRating } from './evalStore';

export function batchActions(ctx: EvalContext) {
  const { env, get, set, patch } = ctx;
  const rating = (exampleId: string): RowRating => get().ratings[exampleId] ?? { verdicts: {}, better: null };

  return {
    /** Generates for the first `limit` test examples (all when null) with every chosen model. */
    async runBatch(limit: number | null, maxNewTokens: number): Promise<void> {
      const engine = env.engine();
      const models = ctx.selectedChoices();
      const d = env.data();
      const sampling = env.batchSampling(maxNewTokens);
      if (!engine || models.length === 0) return;
      if ('problem' in d) return set({ batch: { ...emptyBatch(), status: 'failed', message: d.problem } });
      const examples = limit === null ? d.examples : d.examples.slice(0, limit);
      if (examples.length === 0) return set({ batch: { ...emptyBatch(), status: 'failed', message: 'The test split is empty: raise the test share in the Data tab.' } });
      const job = ctx.startJob('batch');
      set({
        batch: { status: 'running', message: null, models: models.map(named), examples, outputs: models.map(() => examples.map(() => null)), similarity: models.map(() => null), guardrails: d.guardrails, finishedAt: null },
        ratings: {},
      });
      try {
        // Each model is asked in the template it trained with: models that share one share a request.
        const own = models.map((m) => examples.map((x) => env.exampleFor(x, m)));
        const groups = new Map<string, { examples: typeof examples; models: number[] }>();
        models.forEach((_, i) => {
          const key = JSON.stringify(own[i]);
          const g = groups.get(key) ?? { examples: own[i], models: [] };
          g.models.push(i);
          groups.set(key, g);
        });
        for (const g of groups.values()) {
          await engine.request(
            'evaluate',
            { examples: g.examples, models: g.models.map((i) => models[i].ref), sampling, tokenize: d.tokenize },
            {
              signal: job.signal,
              onEval: (e) => {
                if (e.type !== 'evalRow' || !job.isCurrent()) return;
                const model = g.models[e.model];
                patch('batch', { outputs: get().batch.outputs.map((row, m) => (m === model ? row.map((o, i) => (i === e.index ? e.output : o)) : row)) });
              },
            },
          );
          if (!job.isCurrent()) return;
        }
        patch('batch', { status: 'done', finishedAt: Date.now() });
        ctx.save();
        // Similarity needs an embedding model from the Hub: measured after, and shown as unavailable offline.
        const similarity: EvalState['batch']['similarity'] = [];
        for (const [m, outs] of get().batch.outputs.entries()) {
          const targets = own[m].map((x) => x.target);
          similarity.push(await env.similarity(outs.map((o) => o?.text ?? ''), targets, job.signal));
          if (!job.isCurrent()) return;
          patch('batch', { similarity: [...similarity, ...get().batch.similarity.slice(similarity.length)] });
        }
      } catch (e) {
        if (!job.isCurrent()) return;
        const b = get().batch;
        patch('batch', b.status === 'done' ? {} : { status: e instanceof CancelledError ? 'cancelled' : 'failed', message: failure(e) });
      } finally {
        job.end();
        ctx.save();
      }
    },

    rate(exampleId: string, modelId: string, verdict: 'good' | 'bad' | null): void {
      const r = rating(exampleId);
      const verdicts = { ...r.verdicts };
      if (verdict) verdicts[modelId] = verdict;
      else delete verdicts[modelId];
      set({ ratings: { ...get().ratings, [exampleId]: { ...r, verdicts } } });
      ctx.save();
    },

    rateBetter(exampleId: string, better: string | null): void {
      set({ ratings: { ...get().ratings, [exampleId]: { ...rating(exampleId), better } } });
      ctx.save();
    },

    setFilter: (p: Partial<EvalState['filter']>): void => patch('filter', p),
  };
}
