import { describe, expect, it } from 'vitest';
import { mulberry32 } from './random';
import { applyRepetitionPenalty, argmax, candidates, GREEDY, sampleNext, type SamplingOptions } from './sampling';

const opts = (o: Partial<SamplingOptions>): SamplingOptions => ({ temperature: 1, topK: 0, topP: 1, repetitionPenalty: 1, ...o });

function softmax(x: number[], temperature = 1): number[] {
  const m = Math.max(...x);
  const e = x.map((v) => Math.exp((v - m) / temperature));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

/** Frequencies of each id over n draws from sampleNext with a seeded uniform. */
function frequencies(logits: number[], o: SamplingOptions, n: number, seed: number): number[] {
  const uniform = mulberry32(seed);
  const counts = new Array<number>(logits.length).fill(0);
  for (let i = 0; i < n; i++) counts[sampleNext(Float32Array.from(logits), [], o, uniform)]++;
  return counts.map((c) => c / n);
}

describe('argmax', () => {
  it('returns the first index among equal maxima, as torch.argmax', () => {
    expect(argmax([1, 3, 3, 2])).toBe(1);
    expect(argmax(Float32Array.of(-Infinity, -5, -5))).toBe(1);
    expect(argmax([7])).toBe(0);
    expect(argmax([0, 0, 0, 1])).toBe(3);
  });
});

describe('repetition penalty (HF RepetitionPenaltyLogitsProcessor)', () => {
  it('divides positive logits, multiplies negative ones, once per distinct token', () => {
    const l = Float32Array.of(2, -2, 1, 0.5, 0);
    applyRepetitionPenalty(l, [0, 1, 0, 0, 4, 1], 2);
    expect([...l]).toEqual([1, -4, 1, 0.5, 0]);
  });

  it('ignores ids outside the vocabulary and does nothing at penalty 1', () => {
    const l = Float32Array.of(3, -3);
    applyRepetitionPenalty(l, [0, 1, 5, -1], 1);
    expect([...l]).toEqual([3, -3]);
    applyRepetitionPenalty(l, [5, -1], 1.5);
    expect([...l]).toEqual([3, -3]);
  });

  it('changes the greedy choice away from a seen token', () => {
    // 3 / 1.5 = 2 < 2.5; and −1 × 1.5 = −1.5 < −1.2
    expect(sampleNext(Float32Array.of(3, 2.5), [0], { ...GREEDY, repetitionPenalty: 1.5 }, () => 0)).toBe(1);
    expect(sampleNext(Float32Array.of(-1, -1.2), [0], { ...GREEDY, repetitionPenalty: 1.5 }, () => 0)).toBe(1);
    expect(sampleNext(Float32Array.of(3, 2.5), [1], { ...GREEDY, repetitionPenalty: 1.5 }, () => 0)).toBe(0);
  });
});

describe('candidates: temperature, top-k, top-p', () => {
  // Shuffled on purpose: probabilities 0.15, 0.5, 0.05, 0.3 at ids 0..3.
  const P = [0.15, 0.5, 0.05, 0.3];
  const logits = Float32Array.from(P.map(Math.log));

  it('with nothing filtered: every id, best first, probabilities = softmax', () => {
    const c = candidates(logits, opts({}));
    expect(c.ids).toEqual([1, 3, 0, 2]);
    c.probs.forEach((p, i) => expect(p).toBeCloseTo(P[c.ids[i]], 6));
  });

  it('temperature divides the logits before the softmax', () => {
    const c = candidates(Float32Array.of(2, 0), opts({ temperature: 2 }));
    expect(c.probs[0]).toBeCloseTo(Math.E / (Math.E + 1), 6);
    expect(c.probs[1]).toBeCloseTo(1 / (Math.E + 1), 6);
  });

  it('top-k keeps the k most likely and renormalises', () => {
    const c = candidates(logits, opts({ topK: 2 }));
    expect(c.ids).toEqual([1, 3]);
    expect(c.probs[0]).toBeCloseTo(0.5 / 0.8, 6);
    expect(c.probs[1]).toBeCloseTo(0.3 / 0.8, 6);
    expect(candidates(logits, opts({ topK: 1 })).ids).toEqual([1]);
    expect(candidates(logits, opts({ topK: 10 })).ids).toEqual([1, 3, 0, 2]);
  });

  it('top-p keeps the smallest prefix whose mass reaches p', () => {
    // cumulative: 0.5, 0.8, 0.95, 1
    const at = (p: number) => candidates(logits, opts({ topP: p }));
    expect(at(0.4).ids).toEqual([1]);
    expect(at(0.4).probs[0]).toBeCloseTo(1, 9);
    expect(at(0.75).ids).toEqual([1, 3]);
    expect(at(0.75).probs[0]).toBeCloseTo(0.625, 6);
    expect(at(0.9).ids).toEqual([1, 3, 0]);
    expect(at(0.9).probs[2]).toBeCloseTo(0.15 / 0.95, 6);
    expect(at(0.99).ids).toEqual([1, 3, 0, 2]);
  });

  it('top-p applies after top-k, on the renormalised top-k distribution (HF warper order)', () => {
    const l = Float32Array.from([0.4, 0.3, 0.2, 0.1].map(Math.log));
    // after top-k 3: 0.444, 0.333, 0.222 → cumulative 0.444, 0.778 ≥ 0.75 → 2 kept.
    // (top-p first on the full distribution would keep 3: 0.4, 0.7, 0.9.)
    const c = candidates(l, opts({ topK: 3, topP: 0.75 }));
    expect(c.ids).toEqual([0, 1]);
    expect(c.probs[0]).toBeCloseTo(4 / 7, 6);
  });
});

describe('sampleNext', () => {
  it('temperature 0 is greedy whatever the uniform draws', () => {
    const l = [0.1, 2, -1, 1.9];
    for (const u of [0, 0.5, 0.999]) expect(sampleNext(Float32Array.from(l), [], { ...GREEDY, topK: 3, topP: 0.5 }, () => u)).toBe(1);
  });

  it('20k seeded draws match the softmax within 0.01', () => {
    const l = [1, 0.5, -0.3, 0.2];
    const want = softmax(l);
    const got = frequencies(l, opts({}), 20_000, 1234);
    got.forEach((f, i) => expect(Math.abs(f - want[i]), `token ${i}: ${f} vs ${want[i]}`).toBeLessThan(0.01));
  });

  it('20k seeded draws at temperature 0.5 with top-k 3 match the tempered, truncated softmax within 0.01', () => {
    const l = [1, 0.5, -0.3, 0.2];
    const t = softmax([1, 0.5, 0.2], 0.5); // ids 0, 1, 3
    const want = [t[0], t[1], 0, t[2]];
    const got = frequencies(l, opts({ temperature: 0.5, topK: 3 }), 20_000, 99);
    expect(got[2]).toBe(0);
    got.forEach((f, i) => expect(Math.abs(f - want[i]), `token ${i}: ${f} vs ${want[i]}`).toBeLessThan(0.01));
  });

  it('the same seed gives the same sequence; another seed a different one', () => {
    const l = Array.from({ length: 50 }, (_, i) => Math.sin(i));
    const run = (seed: number) => {
      const u = mulberry32(seed);
      return Array.from({ length: 100 }, () => sampleNext(Float32Array.from(l), [], opts({ temperature: 1.5, topP: 0.95 }), u));
    };
    expect(run(42)).toEqual(run(42));
    expect(run(42)).not.toEqual(run(43));
  });
});
