/**
 * Next-token choice from one row of logits, on the host (the row is read back anyway).
 * Order as in transformers' logits processors: repetition penalty, temperature, top-k, top-p.
 */

export interface SamplingOptions {
  temperature: number; // 0 → greedy
  topK: number; // 0 → off
  topP: number; // 1 → off
  repetitionPenalty: number; // 1 → off
}

export const GREEDY: SamplingOptions = { temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1 };

/** Index of the largest value (first on ties, as torch.argmax). */
export function argmax(x: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
  return best;
}

/** HF RepetitionPenaltyLogitsProcessor: seen tokens' logits divided by p if positive, multiplied if negative. */
export function applyRepetitionPenalty(logits: Float32Array, seen: Iterable<number>, penalty: number): void {
  if (penalty === 1) return;
  for (const id of new Set(seen)) {
    if (id < 0 || id >= logits.length) continue;
    const l = logits[id];
    logits[id] = l < 0 ? l * penalty : l / penalty;
  }
}

/**
 * Candidates after temperature, top-k and top-p, as (ids, probabilities) that sum to 1.
 * Tokens more than 40 nats below the best are dropped first: their total mass is below
 * V·e⁻⁴⁰ ≈ 2e-13, and sorting a few hundred candidates instead of 50k keeps sampling cheap.
 */
export function candidates(logits: Float32Array, o: SamplingOptions): { ids: number[]; probs: number[] } {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i] > max) max = logits[i];
  const floor = max - 40 * o.temperature;
  const ids: number[] = [];
  for (let i = 0; i < logits.length; i++) if (logits[i] >= floor) ids.push(i);
  ids.sort((a, b) => logits[b] - logits[a] || a - b);
  let kept = o.topK > 0 ? ids.slice(0, o.topK) : ids;
  let probs = kept.map((i) => Math.exp((logits[i] - max) / o.temperature));
  let sum = probs.reduce((a, b) => a + b, 0);
  probs = probs.map((p) => p / sum);
  if (o.topP < 1) {
    // Smallest prefix whose mass reaches top_p (always at least one token).
    let cum = 0;
    let n = 0;
    while (n < probs.length && (n === 0 || cum < o.topP)) cum += probs[n++];
    kept = kept.slice(0, n);
    probs = probs.slice(0, n);
    sum = probs.reduce((a, b) => a + b, 0);
    probs = probs.map((p) => p / sum);
  }
  return { ids: kept, probs };
}

/** Choose the next token. `uniform` is a seeded source in [0, 1). Mutates `logits` (penalty). */
export function sampleNext(logits: Float32Array, context: number[], o: SamplingOptions, uniform: () => number): number {
  applyRepetitionPenalty(logits, context, o.repetitionPenalty);
  if (o.temperature <= 0) return argmax(logits);
  const { ids, probs } = candidates(logits, o);
  let r = uniform();
  for (let i = 0; i < ids.length; i++) {
    r -= probs[i];
    if (r < 0) return ids[i];
  }
  return ids[ids.length - 1];
}
