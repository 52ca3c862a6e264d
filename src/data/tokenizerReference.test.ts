/**
 * transformers.js (what the studio runs) against Hugging Face tokenizers (Rust), the independent
 * reference: fixtures/data/tokens-golden.json, written by scripts/tokenizer_reference.py from the
 * course's template strings. Here the studio's own mapping, templates and encoder produce the ids.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { pythiaTokenizer, repoFile } from '../testing/dataTesting';
import { encodeSegments } from './encode';
import { detectMapping, mapRows } from './mapping';
import { renderSegments } from './templates';
import type { Row, TemplateId } from './types';

interface Golden {
  known: Record<string, number[]>;
  sources: Record<string, { rows: [number, number, number, number, number][]; full: { prompt: number[]; answer: number[]; whole: number[] }[] }>;
}
const golden = JSON.parse(readFileSync(repoFile('fixtures/data/tokens-golden.json'), 'utf8')) as Golden;

/** 32-bit FNV-1a over the ids as integers, as the Python script computes it. */
function fnv1a(ids: number[]): number {
  let h = 2166136261;
  for (const id of ids) h = Math.imul(h ^ id, 16777619) >>> 0;
  return h >>> 0;
}

const jsonl = (path: string): Row[] =>
  readFileSync(repoFile(path), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));

const SOURCES: [string, () => Row[], TemplateId][] = [
  ['lamini_docs', () => jsonl('fixtures/data/course/lamini_docs.jsonl'), 'qa'],
  ['alpaca_first128', () => JSON.parse(readFileSync(repoFile('fixtures/data/course/alpaca_data_first128.json'), 'utf8')), 'alpaca'],
  ['studio_help', () => jsonl('public/datasets/studio-help.jsonl'), 'qa'],
];

describe('tokenization against Hugging Face tokenizers', () => {
  const tok = pythiaTokenizer();

  it('known strings: ids equal, special tokens, whitespace runs and non-ASCII included', () => {
    for (const [text, ids] of Object.entries(golden.known)) expect(tok.encode(text), text).toEqual(ids);
  });

  it.each(SOURCES)('%s: every row, prompt and answer ids as the studio renders and encodes them', (name, load, template) => {
    const rows = load();
    const ref = golden.sources[name];
    expect(rows).toHaveLength(ref.rows.length);
    const mapping = detectMapping(rows)!;
    const { examples } = mapRows(rows, mapping);
    examples.forEach((ex, i) => {
      const segs = renderSegments(ex!, { id: template, custom: '' }, mapping.kind);
      const prompt = segs.filter((s) => !s.train).map((s) => s.text).join('');
      const answer = segs.filter((s) => s.train).map((s) => s.text).join('');
      const [np, na, nw, hSeg, hWhole] = ref.rows[i];
      const whole = tok.encode(prompt + answer);
      expect([whole.length, fnv1a(whole)], `${name} row ${i} whole text`).toEqual([nw, hWhole]);
      const enc = encodeSegments(segs, tok, { maxLength: 1 << 20, truncation: 'right', padding: 'longest', appendEos: false, lossOn: 'completion' });
      expect([enc.completionStart, enc.ids.length - enc.completionStart, fnv1a(enc.ids)], `${name} row ${i} segments`).toEqual([np, na, hSeg]);
      if (i < ref.full.length) expect(enc.ids).toEqual([...ref.full[i].prompt, ...ref.full[i].answer]);
    });
  });
});
