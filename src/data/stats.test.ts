import { describe, expect, it } from 'vitest';
import { computeStats, type StatsItem } from './stats';
import type { ChatMessage, MappedExample } from './types';

const ex = (prompt: string, output: string, input = '', messages: ChatMessage[] | null = null): MappedExample => ({ prompt, input, output, messages, fields: {} });
const items = (lengths: number[]): StatsItem[] => lengths.map((fullLength, row) => ({ row, example: ex(`q${row}`, `a${row}`), fullLength }));

describe('computeStats: lengths', () => {
  it('gives min, max, mean, median, p95 (linear, as numpy.percentile) and the total', () => {
    const s = computeStats(items([40, 10, 100, 30, 20]), 35);
    expect(s.examples).toBe(5);
    const { p95, ...rest } = s.tokens;
    expect(rest).toEqual({ min: 10, max: 100, mean: 40, median: 30, total: 200 });
    expect(p95).toBeCloseTo(88, 9); // 40 + 0.8·(100 − 40): position 0.95·4 = 3.8
    expect(computeStats(items([1, 2, 3, 4]), 10).tokens.median).toBe(2.5);
  });

  it('counts examples over maxLength as truncated', () => {
    const s = computeStats(items([40, 10, 100, 30, 20, 35]), 35);
    expect(s.truncated).toBe(2);
    expect(s.truncatedShare).toBeCloseTo(2 / 6, 12);
    expect(s.histogram.maxLength).toBe(35);
  });

  it('bins lengths in equal integer-width bins from the shortest, counts summing to the examples', () => {
    const s = computeStats(items([40, 10, 100, 30, 20]), 35);
    // span 10..100 = 91 lengths → width ceil(91/20) = 5 → 19 bins, the last [100, 105).
    expect(s.histogram.bins).toHaveLength(19);
    expect(s.histogram.bins.every((b) => b.end - b.start === 5)).toBe(true);
    expect(s.histogram.bins[18]).toEqual({ start: 100, end: 105, count: 1 });
    expect(s.histogram.bins.map((b) => b.count).reduce((x, y) => x + y)).toBe(5);
    expect(computeStats(items([40, 10, 100, 30, 20]), 35, 4).histogram.bins).toEqual([
      { start: 10, end: 33, count: 3 },
      { start: 33, end: 56, count: 1 },
      { start: 56, end: 79, count: 0 },
      { start: 79, end: 102, count: 1 },
    ]);
  });

  it('puts equal lengths in one bin and handles an empty dataset', () => {
    expect(computeStats(items([7, 7, 7]), 512).histogram.bins).toEqual([{ start: 7, end: 8, count: 3 }]);
    const empty = computeStats([], 512);
    expect(empty.tokens).toEqual({ min: 0, max: 0, mean: 0, median: 0, p95: 0, total: 0 });
    expect(empty.histogram).toEqual({ bins: [], maxLength: 512 });
    expect([empty.truncated, empty.truncatedShare, empty.duplicates.rows, empty.duplicatePrompts]).toEqual([0, 0, 0, 0]);
  });
});

describe('computeStats: duplicates and empty fields', () => {
  const examples = [
    ex('What is X?', 'A'), // 100
    ex(' What is X? ', 'A '), // 101: duplicate of 100 after trim
    ex('What is X?', 'B'), // 102: same prompt, another answer
    ex('What is X?', 'A'), // 103: duplicate of 100 (not a conflicting prompt)
    ex('', 'C'), // 104: empty prompt
    ex('', 'D'), // 105: empty prompt, not a repeated prompt
    ex('Other', 'E', 'ctx1'), // 106
    ex('Other', 'F', 'ctx2'), // 107: same prompt, another input: not a conflict
    ex('  ', 'C'), // 108: duplicate of 104
    ex('Q', ' \n'), // 109: empty output
  ];
  const s = computeStats(
    examples.map((example, i) => ({ row: 100 + i, example, fullLength: 10 })),
    512,
  );

  it('counts rows that repeat an earlier one and groups their row numbers', () => {
    expect(s.duplicates).toEqual({ rows: 3, groups: [[100, 101, 103], [104, 108]] });
  });

  it('counts rows whose prompt repeats with a different answer', () => {
    expect(s.duplicatePrompts).toBe(1);
  });

  it('counts blank fields', () => {
    expect(s.emptyFields).toEqual({ prompt: 3, input: 8, output: 1 });
  });

  it('compares chat examples by their messages', () => {
    const chat = (...m: [ChatMessage['role'], string][]) => ex('', '', '', m.map(([role, content]) => ({ role, content })));
    const c = computeStats(
      [chat(['user', 'hi'], ['assistant', 'hello']), chat(['user', 'hi '], ['assistant', 'hello']), chat(['system', 'hi'], ['assistant', 'hello'])].map((example, row) => ({ row, example, fullLength: 3 })),
      512,
    );
    expect(c.duplicates).toEqual({ rows: 1, groups: [[0, 1]] });
  });

  it('lists at most 100 groups but counts every duplicate row', () => {
    const many = Array.from({ length: 500 }, (_, i) => ({ row: i, example: ex(`q${i % 250}`, 'a'), fullLength: 5 }));
    const d = computeStats(many, 512).duplicates;
    expect(d.rows).toBe(250);
    expect(d.groups).toHaveLength(100);
    expect(d.groups[0]).toEqual([0, 250]);
  });
});
