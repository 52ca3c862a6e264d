import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { nextTokenTargets } from '../model/loss';
import type { TokenBatch } from '../model/objective';
import { batchesOf, makeBatch } from './batch';
import { DEFAULT_TOKENIZE } from './defaults';
import { encodeSegments } from './encode';
import { tokenizerFromJson } from './tokenizer';
import type { EncodedBatch, EncodedExample, Segment } from './types';

const tok = tokenizerFromJson(JSON.parse(readFileSync('public/tokenizers/pythia/tokenizer.json', 'utf8')));
const PAD = tok.eosTokenId; // 0: Pythia pads with its EOS
const encode = (segments: Segment[]) => encodeSegments(segments, tok, DEFAULT_TOKENIZE);

// [12092, 13 | 309, 717, EOS] and [12092 | 1533, EOS]: prompt | completion.
const a = encode([{ text: 'Hello,', train: false }, { text: ' I am', train: true }]);
const b = encode([{ text: 'Hello', train: false }, { text: ' world', train: true }]);

/** (row of the (B·T) hidden states, target id) pairs the loss will use. */
function targetPairs(batch: EncodedBatch): [number, number][] {
  const t = nextTokenTargets(batch.ids, batch.B, batch.T, batch.lengths, batch.labelMask);
  return [...t.rows].map((r, i) => [r, t.targets[i]]);
}

const fake = (ids: number[], loss: number[]): EncodedExample => ({ ids, loss: Uint8Array.from(loss), fullLength: ids.length, truncated: 0, completionStart: 0 });

describe('makeBatch', () => {
  it("pads to the longest row with 'longest', lengths from the rows, mask 0 in the padding", () => {
    expect(a.ids).toEqual([12092, 13, 309, 717, 0]);
    expect(b.ids).toEqual([12092, 1533, 0]);
    const batch = makeBatch([a, b], PAD, { padding: 'longest', maxLength: 512 });
    expect(batch.B).toBe(2);
    expect(batch.T).toBe(5);
    expect([...batch.ids]).toEqual([12092, 13, 309, 717, 0, 12092, 1533, 0, 0, 0]);
    expect([...batch.lengths]).toEqual([5, 3]);
    expect([...batch.labelMask]).toEqual([0, 0, 1, 1, 1, 0, 1, 1, 0, 0]);
  });

  it("pads every row to maxLength with 'max_length', with the given pad id", () => {
    const batch = makeBatch([b], 5, { padding: 'max_length', maxLength: 6 });
    expect(batch.T).toBe(6);
    expect([...batch.ids]).toEqual([12092, 1533, 0, 5, 5, 5]);
    expect([...batch.labelMask]).toEqual([0, 1, 1, 0, 0, 0]);
    expect(() => makeBatch([a], PAD, { padding: 'max_length', maxLength: 4 })).toThrow(/5 tokens, more than maxLength 4/);
  });

  it('rejects an empty batch and keeps a shape for empty rows', () => {
    expect(() => makeBatch([], PAD, DEFAULT_TOKENIZE)).toThrow(/at least one example/);
    const empty = makeBatch([fake([], [])], PAD, DEFAULT_TOKENIZE);
    expect([empty.B, empty.T, [...empty.lengths]]).toEqual([1, 1, [0]]);
    expect(targetPairs(empty)).toEqual([]);
  });

  it('is a TokenBatch whose targets are exactly the completions and the EOS, never the padding', () => {
    const batch: TokenBatch & EncodedBatch = makeBatch([a, b], PAD, { padding: 'longest', maxLength: 512 });
    // Row 0 (T = 5): positions 1, 2, 3 predict 309, 717, EOS. Row 1: positions 0, 1 predict 1533, EOS.
    expect(targetPairs(batch)).toEqual([
      [1, 309],
      [2, 717],
      [3, 0],
      [5, 1533],
      [6, 0],
    ]);
    // The same pairs, shifted to T = 8 rows, when padded to maxLength: the padding (id 0 = EOS) is never a target.
    const wide = makeBatch([a, b], PAD, { padding: 'max_length', maxLength: 8 });
    expect(targetPairs(wide)).toEqual([
      [1, 309],
      [2, 717],
      [3, 0],
      [8, 1533],
      [9, 0],
    ]);
  });

  it('trains a literal <|endoftext|> inside the text, and still ends the row on the EOS', () => {
    const c = encode([{ text: 'Hello', train: false }, { text: ' a<|endoftext|>b', train: true }]);
    const inner = c.ids.indexOf(0);
    expect(inner).toBeGreaterThan(0);
    expect(inner).toBeLessThan(c.ids.length - 1);
    const batch = makeBatch([b, c], PAD, { padding: 'longest', maxLength: 512 });
    const pairs = targetPairs(batch);
    const T = batch.T;
    expect(pairs).toContainEqual([T + inner - 1, 0]); // the inner one
    expect(pairs[pairs.length - 1]).toEqual([T + c.ids.length - 2, 0]); // the final EOS
    expect(pairs.filter(([r]) => r >= T).map(([, id]) => id)).toEqual(c.ids.slice(1));
  });
});

describe('batchesOf', () => {
  const rows = [1, 2, 3, 4, 5].map((n) => fake(new Array<number>(n).fill(n), new Array<number>(n).fill(1)));

  it('yields batches of batchSize in order, the last one smaller', () => {
    const batches = [...batchesOf(rows, 2, PAD, DEFAULT_TOKENIZE)];
    expect(batches.map((x) => [x.B, x.T])).toEqual([
      [2, 2],
      [2, 4],
      [1, 5],
    ]);
    expect(batches.flatMap((x) => [...x.lengths])).toEqual([1, 2, 3, 4, 5]);
    expect([...batches[1].ids]).toEqual([3, 3, 3, 0, 4, 4, 4, 4]);
    expect([...batchesOf([], 2, PAD, DEFAULT_TOKENIZE)]).toEqual([]);
  });

  it('rejects a batch size below 1 or not whole', () => {
    for (const size of [0, -1, 1.5]) expect(() => batchesOf(rows, size, PAD, DEFAULT_TOKENIZE).next()).toThrow(/batch size/);
  });
});
