/** The blind arena: a random test prompt to two random models, shown as A and B; the votes make ratings (eval/elo.ts). */
import { pickPair, type Vote } from '../eval/elo';
import { MIN_PREFERENCE_PAIRS, preferenceJsonl, type PreferencePair } from '../eval/preferenceVotes';
import { failure, named, type EvalContext } from './evalContext';
import type { ArenaMatch } from './evalStore';
import type { ModelChoice } from './modelChoices';

export function arenaActions(ctx: EvalContext) {
  const { env, get, set, patch } = ctx;

  return {
    /** A random test prompt to two random models of those on offer (each in its own run's template), shown as A and B. */
    async nextMatch(): Promise<void> {
      const engine = env.engine();
      const choices = env.choices();
      const d = env.data();
      const sampling = env.sampling();
      if (!engine || choices.length < 2 || 'problem' in d || 'problem' in sampling || d.examples.length === 0) return;
      const [idA, idB] = pickPair(
        choices.map((c) => c.id),
        ctx.random,
      );
      const a = choices.find((c) => c.id === idA)!;
      const b = choices.find((c) => c.id === idB)!;
      const example = d.examples[Math.floor(ctx.random() * d.examples.length)];
      // A skip (a newer match) or a reset makes this job stale: its answers then go nowhere.
      const job = ctx.startJob('arena');
      const match: ArenaMatch = { example, a: named(a), b: named(b), outA: null, outB: null, status: 'generating', error: null };
      patch('arena', { match });
      try {
        const gen = async (c: ModelChoice) => (await engine.request('generate', { ...sampling, prompt: env.exampleFor(example, c).prompt, useCache: true, model: c.ref }, { signal: job.signal })).text;
        const outA = await gen(a);
        const outB = await gen(b);
        if (job.isCurrent()) patch('arena', { match: { ...match, outA, outB, status: 'ready' } });
      } catch (e) {
        if (job.isCurrent()) patch('arena', { match: { ...match, status: 'failed', error: failure(e) } });
      } finally {
        job.end();
      }
    },

    /** Records the vote for the match on screen; ratings are rebuilt from the votes (see elo.ts). */
    vote(winner: Vote['winner']): void {
      const { match, votes, labels, pairs } = get().arena;
      if (!match || match.status !== 'ready') return;
      const pair = winner === 'tie' ? [] : [preferencePair(match, winner)];
      set({ arena: { votes: [...votes, { a: match.a.id, b: match.b.id, winner }], labels: { ...labels, [match.a.id]: match.a.label, [match.b.id]: match.b.label }, match: null, pairs: [...pairs, ...pair] } });
      ctx.save();
    },

    resetArena(): void {
      ctx.invalidate('arena');
      set({ arena: { votes: [], labels: {}, match: null, pairs: [] } });
      ctx.save();
    },

    /** Downloads the decided votes as a preference dataset (prompt / chosen / rejected JSONL). */
    exportPreferences(): void {
      const { pairs } = get().arena;
      if (pairs.length) env.download('arena-votes.preference.jsonl', preferenceJsonl(pairs));
    },

    /** Loads the decided votes into the Data tab as preference pairs and sets the Train tab to DPO on them. */
    async trainOnVotes(): Promise<void> {
      const { pairs } = get().arena;
      if (pairs.length >= MIN_PREFERENCE_PAIRS) await env.trainOnPairs('arena-votes.jsonl', preferenceJsonl(pairs));
    },
  };
}

/** A decided match as a preference pair: the prompt as the Data tab renders it, the winner's answer chosen. */
function preferencePair(m: ArenaMatch, winner: 'a' | 'b'): PreferencePair {
  const [win, lose] = winner === 'a' ? [m.a, m.b] : [m.b, m.a];
  const [chosen, rejected] = winner === 'a' ? [m.outA!, m.outB!] : [m.outB!, m.outA!];
  return { prompt: m.example.prompt, chosen, rejected, chosenModel: win.label, rejectedModel: lose.label };
}
