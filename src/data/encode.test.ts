import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_TOKENIZE } from './defaults';
import { encodeSegments } from './encode';
import { tokenizerFromJson } from './tokenizer';
import type { Encoder, Segment, TokenizeSettings } from './types';

const tok = tokenizerFromJson(JSON.parse(readFileSync('public/tokenizers/pythia/tokenizer.json', 'utf8')));
const settings = (s: Partial<TokenizeSettings> = {}): TokenizeSettings => ({ ...DEFAULT_TOKENIZE, ...s });

// "Hello, I am" → [12092, 13, 309, 717]: prompt "Hello," (2 tokens), completion " I am" (2 tokens).
const helloIAm: Segment[] = [
  { text: 'Hello,', train: false },
  { text: ' I am', train: true },
];

const plain = (e: { ids: number[]; loss: Uint8Array; fullLength: number; truncated: number; completionStart: number }) => ({ ...e, loss: [...e.loss] });

describe('the Pythia tokenizer', () => {
  it('gives the ids of the Hugging Face tokenizers library', () => {
    // Reference: tokenizers (Python) with EleutherAI/pythia tokenizer.json.
    expect(tok.encode('Hello, I am')).toEqual([12092, 13, 309, 717]);
    expect(tok.encode('Hello world')).toEqual([12092, 1533]);
    expect(tok.eosTokenId).toBe(0);
  });
});

describe('encodeSegments: masks', () => {
  it('appends the EOS (id 0 = the pad id) and puts loss on the completion and the EOS only', () => {
    expect(plain(encodeSegments(helloIAm, tok, settings()))).toEqual({
      ids: [12092, 13, 309, 717, 0],
      loss: [0, 0, 1, 1, 1],
      fullLength: 5,
      truncated: 0,
      completionStart: 2,
    });
  });

  it("puts loss on every token but the first with lossOn 'all'", () => {
    const e = encodeSegments(helloIAm, tok, settings({ lossOn: 'all' }));
    expect(e.ids).toEqual([12092, 13, 309, 717, 0]);
    expect([...e.loss]).toEqual([0, 1, 1, 1, 1]);
    expect(e.completionStart).toBe(2); // where the answer starts, whatever carries loss
  });

  it('appends nothing without appendEos', () => {
    const e = encodeSegments(helloIAm, tok, settings({ appendEos: false }));
    expect(plain(e)).toEqual({ ids: [12092, 13, 309, 717], loss: [0, 0, 1, 1], fullLength: 4, truncated: 0, completionStart: 2 });
  });

  it('never masks a token for being the pad id: a literal <|endoftext|> in the answer is trained', () => {
    const e = encodeSegments([{ text: 'Q:', train: false }, { text: ' a<|endoftext|>b', train: true }], tok, settings());
    const eosInside = e.ids.indexOf(0);
    expect(eosInside).toBeGreaterThan(e.completionStart);
    expect(eosInside).toBeLessThan(e.ids.length - 1);
    expect(e.loss[eosInside]).toBe(1);
    expect(e.ids[e.ids.length - 1]).toBe(0);
    expect(e.loss[e.ids.length - 1]).toBe(1);
  });

  it('follows segment boundaries across several turns', () => {
    const turns: Segment[] = [
      { text: 'User: Hi', train: false },
      { text: ' Hello world', train: true },
      { text: '\nUser: Hello', train: false },
      { text: ' Hello, I am', train: true },
    ];
    const e = encodeSegments(turns, tok, settings());
    const lens = turns.map((t) => tok.encode(t.text).length);
    const expected = turns.flatMap((t, i) => new Array<number>(lens[i]).fill(t.train ? 1 : 0)).concat([1]);
    expect(e.ids).toEqual([...turns.flatMap((t) => tok.encode(t.text)), 0]);
    expect([...e.loss]).toEqual(expected);
    expect(e.completionStart).toBe(lens[0]);
  });

  it('takes the EOS id from the encoder and skips empty segments', () => {
    const calls: string[] = [];
    const fake: Encoder = { eosTokenId: 7, encode: (text) => (calls.push(text), [...text].map((c) => c.charCodeAt(0))) };
    const e = encodeSegments([{ text: 'ab', train: false }, { text: '', train: false }, { text: 'c', train: true }], fake, settings());
    expect(calls).toEqual(['ab', 'c']);
    expect(plain(e)).toEqual({ ids: [97, 98, 99, 7], loss: [0, 0, 1, 1], fullLength: 4, truncated: 0, completionStart: 2 });
  });

  it('counts the EOS as the completion when no segment is trained (ids.length without the EOS)', () => {
    const e = encodeSegments([{ text: 'Hello world', train: false }], tok, settings());
    expect(plain(e)).toEqual({ ids: [12092, 1533, 0], loss: [0, 0, 1], fullLength: 3, truncated: 0, completionStart: 2 });
    expect(encodeSegments([{ text: 'Hello world', train: false }], tok, settings({ appendEos: false })).completionStart).toBe(2);
    expect(plain(encodeSegments([], tok, settings({ appendEos: false })))).toEqual({ ids: [], loss: [], fullLength: 0, truncated: 0, completionStart: 0 });
  });
});

describe('encodeSegments: truncation', () => {
  it("'right' keeps the first maxLength tokens: the EOS and the end of the answer go", () => {
    expect(plain(encodeSegments(helloIAm, tok, settings({ maxLength: 3 })))).toEqual({
      ids: [12092, 13, 309],
      loss: [0, 0, 1],
      fullLength: 5,
      truncated: 2,
      completionStart: 2,
    });
    // The whole answer cut off: completionStart = ids.length, nothing carries loss.
    expect(plain(encodeSegments(helloIAm, tok, settings({ maxLength: 2 })))).toEqual({
      ids: [12092, 13],
      loss: [0, 0],
      fullLength: 5,
      truncated: 3,
      completionStart: 2,
    });
  });

  it("'left' keeps the last maxLength tokens: the answer's end and the EOS stay", () => {
    expect(plain(encodeSegments(helloIAm, tok, settings({ maxLength: 4, truncation: 'left' })))).toEqual({
      ids: [13, 309, 717, 0],
      loss: [0, 1, 1, 1],
      fullLength: 5,
      truncated: 1,
      completionStart: 1,
    });
  });

  it("'left' that cuts into the completion gives completionStart 0 (and still no loss at t = 0)", () => {
    expect(plain(encodeSegments(helloIAm, tok, settings({ maxLength: 2, truncation: 'left' })))).toEqual({
      ids: [717, 0],
      loss: [0, 1],
      fullLength: 5,
      truncated: 3,
      completionStart: 0,
    });
  });

  it('does not truncate when maxLength equals the length', () => {
    for (const truncation of ['left', 'right'] as const) {
      const e = encodeSegments(helloIAm, tok, settings({ maxLength: 5, truncation }));
      expect(plain(e)).toEqual(plain(encodeSegments(helloIAm, tok, settings())));
      expect(e.truncated).toBe(0);
    }
  });

  it('rejects maxLength below 2 or not whole', () => {
    for (const maxLength of [1, 0, -3, 2.5, NaN]) {
      expect(() => encodeSegments(helloIAm, tok, settings({ maxLength }))).toThrow(/maxLength must be a whole number of at least 2/);
    }
  });
});

describe('encodeSegments on the course data (lamini_docs.jsonl, Q&A template)', () => {
  const rows = readFileSync('fixtures/data/course/lamini_docs.jsonl', 'utf8')
    .split('\n')
    .map((line) => JSON.parse(line) as { question: string; answer: string });
  const processed = readFileSync('fixtures/data/course/lamini_docs_processed.jsonl', 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { question: string; answer: string });

  it('builds the same prompts as the course (lamini_docs_processed.jsonl)', () => {
    expect(rows).toHaveLength(1400);
    rows.forEach((r, i) => expect('### Question:\n' + r.question + '\n\n### Answer:').toBe(processed[i].question));
  });

  it('tokenizes segment by segment to exactly the ids of the whole text, for all 1400 rows', () => {
    const s = settings({ appendEos: false, maxLength: 2048 });
    const mismatches: number[] = [];
    rows.forEach((r, i) => {
      const prompt = '### Question:\n' + r.question + '\n\n### Answer:';
      const e = encodeSegments([{ text: prompt, train: false }, { text: r.answer, train: true }], tok, s);
      const whole = tok.encode(prompt + r.answer);
      if (e.ids.length !== whole.length || e.ids.some((id, t) => id !== whole[t])) mismatches.push(i);
      else if (e.completionStart !== tok.encode(prompt).length) mismatches.push(i);
    });
    expect(mismatches).toEqual([]);
  });
});

describe('encodeSegments: a tokenizer that puts a BOS first (Llama 2, TinyLlama)', () => {
  // The Pythia tokenizer with a post-processor that adds <|endoftext|> (id 0) before every text, as Llama 2's adds <s>.
  const json = JSON.parse(readFileSync('public/tokenizers/pythia/tokenizer.json', 'utf8'));
  const withBos = tokenizerFromJson({
    ...json,
    post_processor: { type: 'TemplateProcessing', single: [{ SpecialToken: { id: '<|endoftext|>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }], pair: [{ Sequence: { id: 'A', type_id: 0 } }], special_tokens: { '<|endoftext|>': { id: '<|endoftext|>', ids: [0], tokens: ['<|endoftext|>'] } } },
  });

  it('finds the BOS by asking the tokenizer, and none for Pythia\'s own', () => {
    expect(withBos.bosTokenId).toBe(0);
    expect(tok.bosTokenId).toBeNull();
  });

  it('puts it first, carrying no loss, as the text tokenized whole with its special tokens', () => {
    const e = encodeSegments(helloIAm, withBos, settings());
    const bare = encodeSegments(helloIAm, tok, settings());
    expect(plain(e)).toEqual({ ids: [0, ...bare.ids], loss: [0, ...bare.loss], fullLength: bare.fullLength + 1, truncated: 0, completionStart: bare.completionStart + 1 });
  });

  it('keeps it under left truncation too, and adds none where the text already starts with it (a chat template that writes it)', () => {
    const left = encodeSegments(helloIAm, withBos, settings({ maxLength: 3, truncation: 'left' }));
    const bareLeft = encodeSegments(helloIAm, tok, settings({ maxLength: 2, truncation: 'left' }));
    // The answer's last token and the EOS, after the BOS: the BOS predicts the first of them, so it carries loss (alone, nothing could).
    expect(bareLeft.ids).toEqual([717, 0]);
    expect(plain(left)).toEqual({ ids: [0, 717, 0], loss: [0, 1, 1], fullLength: bareLeft.fullLength + 1, truncated: bareLeft.truncated, completionStart: 1 });
    const written = encodeSegments([{ text: '<|endoftext|>Hello', train: false }, { text: ' world', train: true }], withBos, settings({ appendEos: false }));
    expect(written.ids.filter((id) => id === 0)).toHaveLength(1);
    expect(written.ids[0]).toBe(0);
  });
});
