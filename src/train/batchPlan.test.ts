import { describe, expect, it } from 'vitest';
import type { EncodedExample } from '../data/types';
import { buckets, epochBatches, epochRows, packRows, planPacking, positionAt, resolvePacking, stepsFor, toBatch } from './batchPlan';

/** Lengths 1..maxLength, spread so batches land in different buckets. */
const lengthsOf = (n: number, maxLength: number): number[] => Array.from({ length: n }, (_, i) => 1 + ((i * 37) % maxLength));

function example(ids: number[]): EncodedExample {
  const loss = new Uint8Array(ids.length).fill(1);
  loss[0] = 0;
  return { ids, loss, fullLength: ids.length, truncated: 0, completionStart: 1 };
}

describe('buckets', () => {
  it('are powers of two from 16, with maxLength itself last', () => {
    expect(buckets(512)).toEqual([16, 32, 64, 128, 256, 512]);
    expect(buckets(300)).toEqual([16, 32, 64, 128, 256, 300]);
    expect(buckets(17)).toEqual([16, 17]);
  });

  it('is just maxLength when that is 16 or less', () => {
    expect(buckets(16)).toEqual([16]);
    expect(buckets(5)).toEqual([5]);
  });

  it('rejects a max length that is not a whole number ≥ 1', () => {
    expect(() => buckets(0)).toThrow(/max length/);
    expect(() => buckets(12.5)).toThrow(/max length/);
  });
});

describe('epochBatches', () => {
  const lengths = lengthsOf(53, 200);

  it('is deterministic: the same arguments give the same plan', () => {
    expect(epochBatches(lengths, 4, 200, 42, 3)).toEqual(epochBatches(lengths, 4, 200, 42, 3));
  });

  it('visits every example exactly once per epoch, in batches of batchSize with the last one partial', () => {
    for (const epoch of [0, 1, 7]) {
      const plan = epochBatches(lengths, 4, 200, 42, epoch);
      expect(plan.map((b) => b.rows.length)).toEqual([...new Array(13).fill(4), 1]);
      expect(plan.flatMap((b) => b.rows).sort((a, b) => a - b)).toEqual(lengths.map((_, i) => i));
    }
  });

  it('shuffles differently per epoch and per seed', () => {
    const order = (seed: number, epoch: number) => epochBatches(lengths, 4, 200, seed, epoch).flatMap((b) => b.rows);
    expect(order(42, 0)).not.toEqual(order(42, 1));
    expect(order(42, 1)).not.toEqual(order(42, 2));
    expect(order(42, 0)).not.toEqual(order(43, 0));
    expect(order(42, 0)).not.toEqual(lengths.map((_, i) => i));
  });

  it('keeps the given order for a negative epoch (evaluation)', () => {
    expect(epochBatches(lengths, 5, 200, 42, -1).flatMap((b) => b.rows)).toEqual(lengths.map((_, i) => i));
  });

  it('pads each batch to the smallest bucket that holds its longest row', () => {
    const sizes = buckets(200);
    for (let epoch = 0; epoch < 5; epoch++) {
      for (const b of epochBatches(lengths, 3, 200, 7, epoch)) {
        const longest = Math.max(...b.rows.map((r) => lengths[r]));
        expect(sizes).toContain(b.T);
        expect(b.T).toBeGreaterThanOrEqual(longest);
        expect(sizes.filter((s) => s >= longest)[0]).toBe(b.T);
      }
    }
  });

  it('uses few distinct shapes (at most one per bucket)', () => {
    const shapes = new Set(epochBatches(lengthsOf(500, 512), 8, 512, 1, 0).map((b) => b.T));
    expect(shapes.size).toBeLessThanOrEqual(buckets(512).length);
  });

  it('handles one example and a batch size above the number of examples', () => {
    expect(epochBatches([9], 4, 64, 0, 0)).toEqual([{ rows: [0], T: 16 }]);
    const plan = epochBatches([3, 40, 7], 10, 64, 0, 2);
    expect(plan).toHaveLength(1);
    expect([...plan[0].rows].sort()).toEqual([0, 1, 2]);
    expect(plan[0].T).toBe(64);
    expect(epochBatches([], 4, 64, 0, 0)).toEqual([]);
  });

  it('refuses an example longer than the max length, naming it', () => {
    expect(() => epochBatches([10, 70, 5], 2, 64, 0, -1)).toThrow(/example 1 has 70 tokens, more than the max length 64/);
  });

  it('rejects a batch size that is not a whole number ≥ 1', () => {
    expect(() => epochBatches(lengths, 0, 200, 0, 0)).toThrow(/batch size/);
  });
});

describe('stepsFor and positionAt', () => {
  /** Walk the optimizer steps and list the (epoch, batch) micro-batches they consume. */
  function walk(examples: number, batchSize: number, gradAccum: number, epochs: number): string[] {
    const seen: string[] = [];
    for (let step = 0; step < stepsFor(examples, batchSize, gradAccum, epochs); step++) {
      const p = positionAt(step, examples, batchSize, gradAccum);
      expect(p.microBatches).toBeGreaterThanOrEqual(1);
      expect(p.microBatches).toBeLessThanOrEqual(gradAccum);
      for (let m = 0; m < p.microBatches; m++) seen.push(`${p.epoch}:${p.batch + m}`);
    }
    return seen;
  }

  it.each([
    [53, 4, 1, 2],
    [53, 4, 3, 2], // 14 batches per epoch: steps of 3, 3, 3, 3, 2
    [53, 4, 7, 3], // 14 batches: two full steps
    [10, 3, 2, 1],
    [1, 1, 1, 4], // one example
    [3, 10, 1, 2], // batch size above the number of examples
    [20, 4, 8, 3], // gradAccum above the 5 batches per epoch: one short step per epoch
  ])('walking the steps of %i examples (batch %i, accumulation %i, %i epochs) covers every batch once, in order', (n, bs, ga, epochs) => {
    const perEpoch = epochBatches(lengthsOf(n, 64), bs, 64, 0, 0).length;
    const expected = Array.from({ length: epochs * perEpoch }, (_, i) => `${Math.floor(i / perEpoch)}:${i % perEpoch}`);
    expect(walk(n, bs, ga, epochs)).toEqual(expected);
  });

  it('counts a trailing partial accumulation as a step, per epoch', () => {
    expect(stepsFor(53, 4, 3, 1)).toBe(5); // 14 batches → 3 + 3 + 3 + 3 + 2
    expect(stepsFor(53, 4, 3, 2)).toBe(10);
    expect(stepsFor(20, 4, 8, 3)).toBe(3); // gradAccum 8 > 5 batches: one step of 5 per epoch
    expect(positionAt(0, 20, 4, 8)).toEqual({ epoch: 0, batch: 0, microBatches: 5 });
    expect(positionAt(4, 53, 4, 3)).toEqual({ epoch: 0, batch: 12, microBatches: 2 });
  });

  it('resumes at the next batch: step k starts where step k − 1 ended', () => {
    expect(positionAt(5, 53, 4, 3)).toEqual({ epoch: 1, batch: 0, microBatches: 3 });
    expect(positionAt(7, 53, 4, 3)).toEqual({ epoch: 1, batch: 6, microBatches: 3 });
    // Past the planned epochs (maxSteps beyond them) the count goes on into later epochs.
    expect(positionAt(stepsFor(10, 3, 2, 2), 10, 3, 2)).toEqual({ epoch: 2, batch: 0, microBatches: 2 });
  });

  it('has no steps without examples or epochs, and rejects bad counts', () => {
    expect(stepsFor(0, 4, 1, 3)).toBe(0);
    expect(stepsFor(10, 4, 1, 0)).toBe(0);
    expect(() => stepsFor(10, 0, 1, 1)).toThrow(/batch size/);
    expect(() => stepsFor(10, 4, 0, 1)).toThrow(/gradient accumulation/);
    expect(() => positionAt(0, 0, 4, 1)).toThrow(/number of examples/);
    expect(() => positionAt(-1, 10, 4, 1)).toThrow(/step/);
  });
});

describe('toBatch', () => {
  it('pads the planned rows, in plan order, to exactly T', () => {
    const examples = [example([5, 6, 7]), example([8]), example([1, 2, 3, 4, 5])];
    const b = toBatch(examples, { rows: [2, 0], T: 16 }, 0);
    expect(b.B).toBe(2);
    expect(b.T).toBe(16);
    expect(Array.from(b.lengths)).toEqual([5, 3]);
    expect(Array.from(b.ids.subarray(0, 6))).toEqual([1, 2, 3, 4, 5, 0]);
    expect(Array.from(b.ids.subarray(16, 20))).toEqual([5, 6, 7, 0]);
    expect(Array.from(b.labelMask.subarray(16, 20))).toEqual([0, 1, 1, 0]);
  });
});

/** First-fit decreasing the slow, obvious way: each example into the first row with room. */
function naiveFirstFit(lengths: number[], capacity: number): number[][] {
  const order = lengths.map((_, i) => i).sort((a, b) => lengths[b] - lengths[a]);
  const rows: { used: number; items: number[] }[] = [];
  for (const e of order) {
    const row = rows.find((r) => r.used + lengths[e] <= capacity);
    if (row) {
      row.used += lengths[e];
      row.items.push(e);
    } else rows.push({ used: lengths[e], items: [e] });
  }
  return rows.map((r) => r.items);
}

describe('sequence packing', () => {
  it('packRows is first-fit decreasing: the same rows as the naive algorithm, none over capacity', () => {
    for (const [n, cap] of [[200, 64], [57, 300], [1, 16], [1000, 512]]) {
      const lengths = lengthsOf(n, cap).map((l, i) => 1 + ((l * (i + 3)) % cap));
      const order = lengths.map((_, i) => i);
      const rows = packRows(order, lengths, cap);
      expect(rows).toEqual(naiveFirstFit(lengths, cap));
      for (const r of rows) expect(r.reduce((t, e) => t + lengths[e], 0)).toBeLessThanOrEqual(cap);
      expect(rows.flat().sort((a, b) => a - b)).toEqual(order);
      expect(epochRows(lengths, cap, true)).toBe(rows.length);
    }
    expect(() => packRows([0, 1], [3, 99], 64)).toThrow(/example 1 has 99 tokens, more than the max length 64/);
  });

  it('a packed epoch holds every example once, in rows of at most max length, differently each epoch', () => {
    const lengths = lengthsOf(300, 40).map((l) => 1 + (l % 40));
    const plans = [0, 1].map((epoch) => epochBatches(lengths, 4, 128, 9, epoch, true));
    for (const plan of plans) {
      expect(plan.flatMap((b) => b.rows).sort((a, b) => a - b)).toEqual(lengths.map((_, i) => i));
      for (const b of plan) {
        expect(b.packs!.flat()).toEqual(b.rows);
        for (const p of b.packs!) expect(p.reduce((t, e) => t + lengths[e], 0)).toBeLessThanOrEqual(b.T);
      }
      expect(plan.reduce((n, b) => n + b.packs!.length, 0)).toBe(epochRows(lengths, 128, true));
    }
    expect(plans[0].map((b) => b.rows)).not.toEqual(plans[1].map((b) => b.rows));
    expect(epochBatches(lengths, 4, 128, 9, 1, true)).toEqual(plans[1]);
  });

  it('toBatch lays packed rows out one example after another, positions restarting at each', () => {
    const examples = [example([5, 6, 7]), example([8, 9]), example([1, 2, 3, 4])];
    const b = toBatch(examples, { rows: [2, 0, 1], T: 8, packs: [[2, 0], [1]] }, 0);
    expect(Array.from(b.ids)).toEqual([1, 2, 3, 4, 5, 6, 7, 0, 8, 9, 0, 0, 0, 0, 0, 0]);
    expect(Array.from(b.positions!)).toEqual([0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 4, 5, 6, 7]);
    expect(Array.from(b.labelMask)).toEqual([0, 1, 1, 1, 0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
    expect(Array.from(b.lengths)).toEqual([7, 2]);
  });

  it('is on by default for runs in epochs where it computes far fewer tokens, and a choice always wins', () => {
    const short = planPacking(Array.from({ length: 64 }, (_, i) => 20 + (i % 70)), 8, 512); // lamini_docs-like: short examples, long max length
    expect(short.gain).toBeGreaterThan(2);
    expect(short.packedSeqLen).toBe(512);
    expect(resolvePacking(undefined, short, 0)).toBe(true);
    expect(resolvePacking(undefined, short, 30)).toBe(false); // a set number of steps: each would only take longer
    expect(resolvePacking(false, short, 0)).toBe(false);
    expect(resolvePacking(true, short, 30)).toBe(true);
    const full = planPacking(Array.from({ length: 64 }, () => 128), 8, 128); // every example fills its row
    expect(full.gain).toBe(1);
    expect(resolvePacking(undefined, full, 0)).toBe(false);
    expect(resolvePacking(true, full, 0)).toBe(true);
  });
});
