/** ARC: multiple-choice questions scored by log-likelihood with every chosen model. */
import type { ArcDoc } from '../eval/arcDocs';
import { parseArc } from '../eval/arcDocs';
import { CancelledError } from '../protocol/protocol';
import { failure, named, type EvalContext } from './evalContext';

export function arcActions(ctx: EvalContext) {
  const { env, get, patch } = ctx;

  return {
    /** An ai2_arc JSONL: bad lines are listed and the file is refused (skipping would change what accuracy means). */
    loadArcText(name: string, text: string): void {
      const { docs, problems } = parseArc(text);
      const message = problems.length ? `${problems.length} bad line(s) in ${name}, the first ${problems[0]}: fix or remove them` : docs.length === 0 ? `${name} has no ARC questions` : null;
      patch('arc', { status: message ? 'failed' : 'idle', message, source: message ? null : { name, docs, problems }, results: [] });
    },

    loadArcDocs: (name: string, docs: ArcDoc[]): void => patch('arc', { status: 'idle', message: null, source: { name, docs, problems: [] }, results: [] }),

    arcFailed: (message: string): void => patch('arc', { status: 'failed', message }),

    /** Scores the loaded ARC questions with every chosen model. */
    async runArc(limit: number | null): Promise<void> {
      const engine = env.engine();
      const models = ctx.selectedChoices();
      const source = get().arc.source;
      if (!engine || models.length === 0 || !source) return;
      const docs = limit === null ? source.docs : source.docs.slice(0, limit);
      const job = ctx.startJob('arc');
      patch('arc', { status: 'running', message: null, progress: { model: 0, done: 0, total: docs.length }, results: [] });
      try {
        const { results } = await engine.request(
          'arc',
          { docs, models: models.map((m) => m.ref) },
          { signal: job.signal, onEval: (e) => e.type === 'arcProgress' && job.isCurrent() && patch('arc', { progress: { model: e.model, done: e.done, total: e.total } }) },
        );
        if (job.isCurrent()) patch('arc', { status: 'done', progress: null, results: results.map((r, i) => ({ ...named(models[i]), ...r })) });
      } catch (e) {
        if (job.isCurrent()) patch('arc', { status: e instanceof CancelledError ? 'cancelled' : 'failed', progress: null, message: failure(e) });
      } finally {
        job.end();
        ctx.save();
      }
    },
  };
}
