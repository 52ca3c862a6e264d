import { describe, expect, it } from 'vitest';
import { DEFAULT_SPLIT } from './defaults';
import { checkSplit, splitIds } from './split';

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const sorted = (xs: number[]) => [...xs].sort((x, y) => x - y);

describe('splitIds', () => {
  it('splits 1400 examples 1260/140 at 0.1, disjoint and complete', () => {
    const ids = range(1400);
    const { train, test } = splitIds(ids, DEFAULT_SPLIT);
    expect([train.length, test.length]).toEqual([1260, 140]);
    expect(new Set([...train, ...test]).size).toBe(1400);
    expect(sorted([...train, ...test])).toEqual(ids);
  });

  it('is deterministic for a seed and changes with it', () => {
    const ids = range(1400);
    expect(splitIds(ids, DEFAULT_SPLIT)).toEqual(splitIds(ids, DEFAULT_SPLIT));
    const other = splitIds(ids, { ...DEFAULT_SPLIT, seed: 43 });
    expect(sorted(other.test)).not.toEqual(sorted(splitIds(ids, DEFAULT_SPLIT).test));
    // Pinned (saved projects rely on a seed giving the same split in every version); the same
    // values come from a separate Python transcription of mulberry32 + Fisher–Yates.
    expect(splitIds(range(10), { seed: 42, testFraction: 0.3 })).toEqual({ test: [0, 7, 3], train: [5, 2, 1, 8, 9, 4, 6] });
  });

  it('keeps shuffled order on both sides, splits the given ids (not indices), and leaves the input alone', () => {
    const ids = range(50).map((i) => 1000 + 7 * i);
    const copy = [...ids];
    const { train, test } = splitIds(ids, { seed: 1, testFraction: 0.2 });
    expect(ids).toEqual(copy);
    expect(test).toHaveLength(10);
    expect(sorted([...train, ...test])).toEqual(ids);
    expect(train).not.toEqual(sorted(train)); // shuffled, not re-sorted
  });

  it('puts everything in train (shuffled) at testFraction 0, even for 0 or 1 examples', () => {
    const { train, test } = splitIds(range(20), { seed: 3, testFraction: 0 });
    expect(test).toEqual([]);
    expect(sorted(train)).toEqual(range(20));
    expect(splitIds([], { seed: 3, testFraction: 0 })).toEqual({ train: [], test: [] });
    expect(splitIds([5], { seed: 3, testFraction: 0 })).toEqual({ train: [5], test: [] });
  });

  it('keeps at least one example on each side when testFraction > 0', () => {
    expect(splitIds(range(5), { seed: 0, testFraction: 0.05 }).test).toHaveLength(1); // round(0.25) = 0 → 1
    expect(splitIds(range(2), { seed: 0, testFraction: 0.9 }).train).toHaveLength(1); // round(1.8) = 2 → 1
    expect(splitIds(range(10), { seed: 0, testFraction: 0.25 }).test).toHaveLength(3); // round(2.5) = 3
  });

  it('throws the checkSplit message on settings that cannot split', () => {
    expect(() => splitIds([1], DEFAULT_SPLIT)).toThrow('A test split needs at least 2 examples (there is 1): set the test fraction to 0 or add examples.');
    expect(() => splitIds(range(10), { seed: 0, testFraction: 1 })).toThrow(/test fraction must be at least 0 and below 1/);
  });
});

describe('checkSplit', () => {
  it('accepts valid settings', () => {
    expect(checkSplit(1400, DEFAULT_SPLIT)).toBeNull();
    expect(checkSplit(2, { seed: -5, testFraction: 0.5 })).toBeNull();
    expect(checkSplit(0, { seed: 0, testFraction: 0 })).toBeNull();
  });

  it('explains what is wrong', () => {
    expect(checkSplit(0, DEFAULT_SPLIT)).toMatch(/at least 2 examples \(there are 0\)/);
    expect(checkSplit(1, DEFAULT_SPLIT)).toMatch(/at least 2 examples \(there is 1\)/);
    for (const testFraction of [1, 1.5, -0.1, NaN]) expect(checkSplit(100, { seed: 0, testFraction })).toMatch(/test fraction must be at least 0 and below 1/);
    expect(checkSplit(100, { seed: 1.5, testFraction: 0.1 })).toMatch(/seed must be a whole number/);
  });
});
