/** Side by side: one prompt to every chosen model in turn, each in its own run's template, streamed into columns. */
import { CancelledError } from '../protocol/protocol';
import { failure, named, type EvalContext } from './evalContext';
import type { Column } from './evalStore';

export function sideBySideActions(ctx: EvalContext) {
  const { env, get, patch } = ctx;
  const patchColumn = (i: number, p: Partial<Column>) => patch('sideBySide', { columns: get().sideBySide.columns.map((c, j) => (j === i ? { ...c, ...p } : c)) });

  return {
    setPrompt: (prompt: string): void => patch('sideBySide', { prompt }),
    setRaw: (raw: boolean): void => patch('sideBySide', { raw }),

    /** Fills the prompt with a random test example (already in the template) and shows its answer. */
    pickFromTest(): string | null {
      const d = env.data();
      if ('problem' in d) return d.problem;
      if (d.examples.length === 0) return 'The test split is empty: raise the test share in the Data tab.';
      const ex = d.examples[Math.floor(ctx.random() * d.examples.length)];
      patch('sideBySide', { prompt: ex.prompt, raw: true, picked: ex });
      return null;
    },

    clearPicked: (): void => patch('sideBySide', { picked: null }),

    /** One prompt to every chosen model in turn, streaming into its column, same sampling for all. */
    async runSideBySide(): Promise<void> {
      const engine = env.engine();
      const models = ctx.selectedChoices();
      const sampling = env.sampling();
      if (!engine || models.length === 0 || 'problem' in sampling) return;
      const sb = get().sideBySide;
      // Each model gets the prompt in its own run's template (runs trained on different templates differ).
      const prompts = models.map((m) => (sb.raw ? sb.prompt : env.templated(sb.prompt, m)));
      const job = ctx.startJob('sideBySide');
      patch('sideBySide', {
        sent: [...new Set(prompts)].join('\n\n— and, for the runs trained on another template —\n\n'),
        columns: models.map((m) => ({ ...named(m), status: 'waiting', text: '', tokens: 0, tokensPerSecond: null, error: null })),
      });
      try {
        for (let i = 0; i < models.length; i++) {
          if (!job.isCurrent()) return; // a newer side by side owns the columns
          if (job.signal.aborted) {
            patchColumn(i, { status: 'cancelled' });
            continue;
          }
          patchColumn(i, { status: 'running' });
          try {
            const r = await engine.request(
              'generate',
              { ...sampling, prompt: prompts[i], useCache: true, model: models[i].ref },
              { signal: job.signal, onToken: (e) => job.isCurrent() && patchColumn(i, { text: get().sideBySide.columns[i].text + e.delta, tokens: e.tokenCount }) },
            );
            if (job.isCurrent()) patchColumn(i, { status: 'done', text: r.text, tokens: r.tokenIds.length, tokensPerSecond: r.tokensPerSecond });
          } catch (e) {
            if (job.isCurrent()) patchColumn(i, { status: e instanceof CancelledError ? 'cancelled' : 'failed', error: failure(e) });
          }
        }
      } finally {
        job.end();
      }
    },
  };
}
