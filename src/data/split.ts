/** Seeded train/test split of example ids: the same ids and seed give the same split everywhere. */
import { mulberry32 } from '../model/random';
import type { SplitSettings } from './types';

/** Why these settings cannot split n examples, as a sentence for the UI; null when they can. */
export function checkSplit(n: number, s: SplitSettings): string | null {
  if (!Number.isInteger(s.seed)) return `The seed must be a whole number (got ${s.seed}).`;
  if (!(s.testFraction >= 0 && s.testFraction < 1)) return `The test fraction must be at least 0 and below 1 (got ${s.testFraction}).`;
  if (s.testFraction > 0 && n < 2) return `A test split needs at least 2 examples (there ${n === 1 ? 'is 1' : `are ${n}`}): set the test fraction to 0 or add examples.`;
  return null;
}

/**
 * Fisher–Yates shuffle of `ids` over mulberry32(seed); the first round(n·testFraction) are test,
 * clamped to [1, n−1] when testFraction > 0 so neither side is empty. Both lists stay in shuffled
 * order (the trainer reshuffles per epoch anyway). Throws checkSplit's message on bad settings.
 */
export function splitIds(ids: readonly number[], s: SplitSettings): { train: number[]; test: number[] } {
  const problem = checkSplit(ids.length, s);
  if (problem) throw new Error(problem);
  const n = ids.length;
  const order = ids.slice();
  const rand = mulberry32(s.seed);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  const nTest = s.testFraction > 0 ? Math.min(n - 1, Math.max(1, Math.round(n * s.testFraction))) : 0;
  return { test: order.slice(0, nTest), train: order.slice(nTest) };
}
