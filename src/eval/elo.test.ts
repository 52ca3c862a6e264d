import { describe, expect, it } from 'vitest';
import { applyVote, ELO_K, ELO_START, expectedScore, initialState, pickPair, ratingsFrom, type Vote } from './elo';

describe('expectedScore', () => {
  it('is 1/2 for equal ratings and 10/11 for a 400-point lead', () => {
    expect(expectedScore(1000, 1000)).toBe(0.5);
    // 1 / (1 + 10^(-400/400)) = 1 / 1.1 = 10/11.
    expect(expectedScore(1400, 1000)).toBeCloseTo(10 / 11, 12);
    expect(expectedScore(1000, 1400) + expectedScore(1400, 1000)).toBeCloseTo(1, 12);
  });
});

describe('applyVote', () => {
  it('a win between equals moves K/2 each way', () => {
    // E_a = 1/2, so a += 32·(1 − 1/2) = 16 and b −= 16.
    const s = applyVote(initialState(['a', 'b']), { a: 'a', b: 'b', winner: 'a' });
    expect(ELO_START).toBe(1000);
    expect(ELO_K).toBe(32);
    expect(s.ratings).toEqual({ a: 1016, b: 984 });
    expect(s.votes).toEqual({ a: 1, b: 1 });
  });

  it('then b wins: hand-computed', () => {
    // Ratings a = 1016, b = 984. E_b = 1/(1 + 10^((1016 − 984)/400)) = 1/(1 + 10^0.08)
    // = 1/(1 + 1.2022644346) = 0.4540780772. b += 32·(1 − 0.4540780772) = 17.4695015290
    // → b = 1001.4695015290, a = 1016 − 17.4695015290 = 998.5304984710.
    const s = ratingsFrom(
      [
        { a: 'a', b: 'b', winner: 'a' },
        { a: 'a', b: 'b', winner: 'b' },
      ],
      ['a', 'b'],
    );
    expect(s.ratings.a).toBeCloseTo(998.530498471, 8);
    expect(s.ratings.b).toBeCloseTo(1001.469501529, 8);
    expect(s.votes).toEqual({ a: 2, b: 2 });
    expect(s.history).toHaveLength(2);
  });

  it('ties: nothing moves between equals, the favourite loses ground otherwise', () => {
    const even = applyVote(initialState(['a', 'b']), { a: 'a', b: 'b', winner: 'tie' });
    expect(even.ratings).toEqual({ a: 1000, b: 1000 });
    expect(even.votes).toEqual({ a: 1, b: 1 });
    // From a = 1016, b = 984: E_a = 1 − 0.4540780772 = 0.5459219228, a += 32·(0.5 − 0.5459219228)
    // = −1.4695015290 → a = 1014.5304984710, b = 985.4695015290.
    const s = ratingsFrom(
      [
        { a: 'a', b: 'b', winner: 'a' },
        { a: 'b', b: 'a', winner: 'tie' },
      ],
      ['a', 'b'],
    );
    expect(s.ratings.a).toBeCloseTo(1014.530498471, 8);
    expect(s.ratings.b).toBeCloseTo(985.469501529, 8);
  });

  it('is symmetric in which side is shown as A', () => {
    const s0 = ratingsFrom([{ a: 'x', b: 'y', winner: 'a' }], ['x', 'y']);
    const left = applyVote(s0, { a: 'x', b: 'y', winner: 'b' });
    const right = applyVote(s0, { a: 'y', b: 'x', winner: 'a' });
    expect(left.ratings.x).toBeCloseTo(right.ratings.x, 12);
    expect(left.ratings.y).toBeCloseTo(right.ratings.y, 12);
  });

  it('conserves the rating total and does not mutate its input', () => {
    const s0 = initialState(['a', 'b', 'c']);
    const snapshot = structuredClone(s0);
    const s1 = applyVote(s0, { a: 'c', b: 'a', winner: 'a' });
    expect(s0).toEqual(snapshot);
    const total = Object.values(s1.ratings).reduce((x, y) => x + y, 0);
    expect(total).toBeCloseTo(3 * ELO_START, 9);
  });

  it('rates a model first seen in a vote from ELO_START', () => {
    const s = applyVote(initialState(['a']), { a: 'a', b: 'new', winner: 'b' });
    expect(s.ratings).toEqual({ a: 984, new: 1016 });
    expect(s.votes).toEqual({ a: 1, new: 1 });
  });

  it('rejects a model voted against itself', () => {
    expect(() => applyVote(initialState(['a']), { a: 'a', b: 'a', winner: 'tie' })).toThrow(/two different/);
  });
});

describe('ratingsFrom', () => {
  it('lists models without votes and counts votes per model', () => {
    const votes: Vote[] = [
      { a: 'a', b: 'b', winner: 'a' },
      { a: 'a', b: 'c', winner: 'tie' },
      { a: 'b', b: 'a', winner: 'b' },
    ];
    const s = ratingsFrom(votes, ['a', 'b', 'c', 'd']);
    expect(s.votes).toEqual({ a: 3, b: 2, c: 1, d: 0 });
    expect(s.ratings.d).toBe(ELO_START);
    expect(s.history).toEqual(votes);
    // a won twice and tied once: rated highest.
    expect(s.ratings.a).toBeGreaterThan(s.ratings.c);
    expect(s.ratings.c).toBeGreaterThan(s.ratings.b);
  });

  it('with no votes is the initial state', () => {
    expect(ratingsFrom([], ['a', 'b'])).toEqual({ ratings: { a: 1000, b: 1000 }, votes: { a: 0, b: 0 }, history: [] });
  });
});

describe('pickPair', () => {
  /** A deterministic linear congruential generator in [0, 1). */
  const lcg = (seed: number) => () => {
    seed = (seed * 1664525 + 1013904223) % 2 ** 32;
    return seed / 2 ** 32;
  };

  it('never pairs a model with itself and covers every ordered pair', () => {
    const models = ['a', 'b', 'c'];
    const rand = lcg(7);
    const seen = new Set<string>();
    for (let k = 0; k < 600; k++) {
      const [x, y] = pickPair(models, rand);
      expect(x).not.toBe(y);
      expect(models).toContain(x);
      expect(models).toContain(y);
      seen.add(`${x}${y}`);
    }
    expect([...seen].sort()).toEqual(['ab', 'ac', 'ba', 'bc', 'ca', 'cb']);
  });

  it('maps rand values deterministically, including the edges 0 and 1', () => {
    const seq = (...xs: number[]) => () => xs.shift() ?? 0;
    expect(pickPair(['a', 'b'], seq(0, 0))).toEqual(['a', 'b']);
    expect(pickPair(['a', 'b'], seq(0.99, 0))).toEqual(['b', 'a']);
    // rand() = 1 (out of contract) still yields a valid, distinct pair.
    expect(pickPair(['a', 'b', 'c'], seq(1, 1))).toEqual(['c', 'b']);
  });

  it('needs two models', () => {
    expect(() => pickPair(['a'], Math.random)).toThrow(/at least two/);
  });
});
