/**
 * Elo ratings for the blind A/B arena. Pure and replayable: the vote history is the source of
 * truth and ratings can always be rebuilt from it with {@link ratingsFrom}.
 */

export interface Vote {
  a: string;
  b: string;
  winner: 'a' | 'b' | 'tie';
}

export interface EloState {
  ratings: Record<string, number>;
  /** Votes each model took part in. */
  votes: Record<string, number>;
  history: Vote[];
}

/** Rating every model starts at, the conventional chess value. */
export const ELO_START = 1000;
/** Update step: 32 moves ratings fast enough for the few dozen votes a person casts by hand. */
export const ELO_K = 32;

/** Expected score of a player rated `ra` against one rated `rb`: 1 / (1 + 10^((rb − ra)/400)). */
export function expectedScore(ra: number, rb: number): number {
  return 1 / (1 + 10 ** ((rb - ra) / 400));
}

/** A fresh state with every model at ELO_START and no votes. */
export function initialState(models: readonly string[]): EloState {
  const ratings: Record<string, number> = {};
  const votes: Record<string, number> = {};
  for (const m of models) {
    ratings[m] = ELO_START;
    votes[m] = 0;
  }
  return { ratings, votes, history: [] };
}

/**
 * Applies one vote and returns a new state (the input is not modified). Models not yet rated
 * start at ELO_START, so a vote for a newly added model needs no set-up. Ratings stay unrounded;
 * rounding is for display. Both sides move by the same amount, so the rating total is conserved.
 */
export function applyVote(s: EloState, v: Vote): EloState {
  if (v.a === v.b) throw new Error(`Elo vote needs two different models, got "${v.a}" twice`);
  const ra = s.ratings[v.a] ?? ELO_START;
  const rb = s.ratings[v.b] ?? ELO_START;
  const sa = v.winner === 'a' ? 1 : v.winner === 'b' ? 0 : 0.5;
  const delta = ELO_K * (sa - expectedScore(ra, rb));
  return {
    ratings: { ...s.ratings, [v.a]: ra + delta, [v.b]: rb - delta },
    votes: { ...s.votes, [v.a]: (s.votes[v.a] ?? 0) + 1, [v.b]: (s.votes[v.b] ?? 0) + 1 },
    history: [...s.history, v],
  };
}

/** Replays votes in order over `models` (all listed, even without votes; voted models not listed are added). */
export function ratingsFrom(votes: readonly Vote[], models: readonly string[]): EloState {
  return votes.reduce(applyVote, initialState(models));
}

/**
 * Two distinct models chosen uniformly, in random order (which one is shown as A is part of the
 * randomness, so position bias averages out). `rand` returns [0, 1) like Math.random; it is
 * injected so tests are deterministic.
 */
export function pickPair(models: readonly string[], rand: () => number): [string, string] {
  const n = models.length;
  if (n < 2) throw new Error(`The arena needs at least two models, got ${n}`);
  // min() guards a rand() that returns exactly 1.
  const i = Math.min(n - 1, Math.floor(rand() * n));
  // Pick among the other n − 1 slots, then skip over i: uniform over j ≠ i without retrying.
  let j = Math.min(n - 2, Math.floor(rand() * (n - 1)));
  if (j >= i) j++;
  return [models[i], models[j]];
}
