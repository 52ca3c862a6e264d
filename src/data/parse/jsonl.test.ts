import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_LINE_BYTES, parseDataset } from './index';
import { parseJsonl } from './jsonl';

const enc = new TextEncoder();

const jsonl = (bytes: Uint8Array<ArrayBuffer> | string, maxLineBytes?: number) =>
  parseDataset(new Blob([bytes]), { format: 'jsonl', ...(maxLineBytes ? { maxLineBytes } : {}) });

function bytesOf(...parts: (string | number[])[]): Uint8Array<ArrayBuffer> {
  const chunks = parts.map((p) => (typeof p === 'string' ? enc.encode(p) : new Uint8Array(p)));
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}

async function* chunked(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.slice(i, i + size);
}

describe('JSONL', () => {
  it('reads one object per line with the line each started on', async () => {
    const r = await jsonl('{"question": "q1", "answer": "a1"}\n\n   \n{"question": "q2", "answer": "a2"}\n');
    expect(r.format).toBe('jsonl');
    expect(r.rows).toEqual([
      { question: 'q1', answer: 'a1' },
      { question: 'q2', answer: 'a2' },
    ]);
    expect(r.rowLines).toEqual([1, 4]);
    expect(r.issues).toEqual([]);
    expect(r.records).toBe(2);
  });

  it('strips a BOM, handles CRLF and a missing final newline', async () => {
    const r = await jsonl(bytesOf([0xef, 0xbb, 0xbf], '{"a": 1}\r\n{"a": "x\\r\\n"}\r\n\r\n{"a": 3}'));
    expect(r.rows).toEqual([{ a: 1 }, { a: 'x\r\n' }, { a: 3 }]);
    expect(r.rowLines).toEqual([1, 2, 4]);
    expect(r.issues).toEqual([]);
    expect(r.bytes).toBe(3 + 10 + 16 + 2 + 8);
  });

  it('reports invalid JSON with the reason and column, and keeps the other lines', async () => {
    const r = await jsonl('{"a": 1}\n{"a": 1,}\n{"a": }\n{"a": "unterminated}\n{"a": 2}\n');
    expect(r.rows).toEqual([{ a: 1 }, { a: 2 }]);
    expect(r.rowLines).toEqual([1, 5]);
    expect(r.records).toBe(5);
    expect(r.issues).toEqual([
      { line: 2, kind: 'invalid-json', message: 'invalid JSON: expected double-quoted property name at column 9', excerpt: '{"a": 1,}' },
      { line: 3, kind: 'invalid-json', message: "invalid JSON: unexpected token '}'", excerpt: '{"a": }' },
      { line: 4, kind: 'invalid-json', message: 'invalid JSON: unterminated string at column 21', excerpt: '{"a": "unterminated}' },
    ]);
  });

  it('reports each kind of value that is not an object', async () => {
    const r = await jsonl('[1, 2]\n"text"\n42\nnull\ntrue\n{"ok": true}');
    expect(r.rows).toEqual([{ ok: true }]);
    expect(r.rowLines).toEqual([6]);
    expect(r.issues.map((i) => [i.line, i.kind, i.excerpt])).toEqual([
      [1, 'not-object', '[1, 2]'],
      [2, 'not-object', '"text"'],
      [3, 'not-object', '42'],
      [4, 'not-object', 'null'],
      [5, 'not-object', 'true'],
    ]);
    expect(r.issues[0].message).toBe('a JSON array, not an object: each line must be an object such as {"question": …, "answer": …}');
    expect(r.issues.slice(1).map((i) => i.message.split(',')[0])).toEqual(['a string', 'a number', 'null', 'true (a boolean)']);
    expect(r.records).toBe(6);
  });

  it('reports bytes that are not UTF-8 per line: a stray 0xff and a cut-off sequence', async () => {
    const r = await jsonl(bytesOf('{"a": "ok"}\n{"a": "', [0xff], '"}\n{"a": "', [0xe2, 0x82], '"}\n{"a": "€"}\n'));
    expect(r.rows).toEqual([{ a: 'ok' }, { a: '€' }]);
    expect(r.rowLines).toEqual([1, 4]);
    expect(r.issues).toEqual([
      { line: 2, kind: 'invalid-utf8', message: expect.stringMatching(/not UTF-8.*save the file with UTF-8/), excerpt: '{"a": "\uFFFD"}' },
      { line: 3, kind: 'invalid-utf8', message: expect.stringMatching(/not UTF-8/), excerpt: '{"a": "\uFFFD"}' },
    ]);
    expect(r.records).toBe(4);
  });

  it('skips a line over the limit with its size in the message', async () => {
    const long = `{"a": "${'x'.repeat(300)}"}`;
    const r = await jsonl(`{"a": 1}\n${long}\n{"a": 2}`, 100);
    expect(r.rows).toEqual([{ a: 1 }, { a: 2 }]);
    expect(r.rowLines).toEqual([1, 3]);
    expect(r.issues).toEqual([
      {
        line: 2,
        kind: 'line-too-long',
        message: 'line is 309 bytes, over the 100 bytes limit: split it or raise the limit',
        excerpt: `${long.slice(0, 120)}…`,
      },
    ]);
    expect(r.records).toBe(3);
  });

  it('skips a real multi-megabyte line under the default limit', async () => {
    const long = `{"a": "${'x'.repeat(3.2 * 1024 * 1024)}"}`;
    const r = await jsonl(`{"a": 1}\n${long}\n{"a": 2}\n`);
    expect(r.rows).toEqual([{ a: 1 }, { a: 2 }]);
    expect(r.issues).toHaveLength(1);
    expect(r.issues[0]).toMatchObject({ line: 2, kind: 'line-too-long', message: 'line is 3.2 MB, over the 1 MB limit: split it or raise the limit' });
    expect(r.issues[0].excerpt).toBe(`{"a": "${'x'.repeat(113)}…`);
    expect(DEFAULT_MAX_LINE_BYTES).toBe(1024 * 1024);
  });

  it('reads lines that span many tiny chunks, multibyte characters included', async () => {
    const text = '{"q": "héllo 😀", "a": "wörld"}\r\n\n{"q": "€€€", "a": "x"}\n[1]\n{"q": "last"}';
    for (const size of [1, 2, 3, 5]) {
      const r = await parseJsonl(chunked(enc.encode(text), size), { maxLineBytes: 1 << 20 });
      expect(r.rows).toEqual([{ q: 'héllo 😀', a: 'wörld' }, { q: '€€€', a: 'x' }, { q: 'last' }]);
      expect(r.rowLines).toEqual([1, 3, 5]);
      expect(r.issues.map((i) => [i.line, i.kind])).toEqual([[4, 'not-object']]);
    }
  });

  it('reports a too-long line that spans tiny chunks, and the lines around it', async () => {
    const text = `{"a": 1}\n{"a": "${'é'.repeat(200)}"}\n{"a": 2}`;
    const r = await parseJsonl(chunked(enc.encode(text), 3), { maxLineBytes: 64 });
    expect(r.rows).toEqual([{ a: 1 }, { a: 2 }]);
    expect(r.issues).toEqual([
      { line: 2, kind: 'line-too-long', message: 'line is 409 bytes, over the 64 bytes limit: split it or raise the limit', excerpt: `{"a": "${'é'.repeat(113)}…` },
    ]);
  });

  it('passes running counts after each chunk', async () => {
    const seen: [number, number, number][] = [];
    await parseJsonl(chunked(enc.encode('{"a":1}\nnope\n{"a":2}\n'), 8), {
      maxLineBytes: 100,
      afterChunk: (bytes, rows, issues) => seen.push([bytes, rows, issues]),
    });
    expect(seen).toEqual([
      [8, 1, 0],
      [16, 1, 1],
      [21, 2, 1],
    ]);
  });

  it('refuses a line nested thousands deep with its line number, fast, and keeps the others', async () => {
    const arrays = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    const objects = `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`;
    const t0 = performance.now();
    const r = await jsonl(`{"a": 1}\n${arrays}\n${objects}\n{"a": 2}\n`);
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(r.rows).toEqual([{ a: 1 }, { a: 2 }]);
    expect(r.rowLines).toEqual([1, 4]);
    expect(r.records).toBe(4);
    const why = 'a record holds text fields or chat messages, a few levels deep; remove or fix this line';
    expect(r.issues).toEqual([
      { line: 2, kind: 'invalid-json', message: `JSON nested more than 64 levels deep at column 65: ${why}`, excerpt: `${'['.repeat(120)}…` },
      { line: 3, kind: 'invalid-json', message: `JSON nested more than 64 levels deep at column 321: ${why}`, excerpt: `${'{"a":'.repeat(24)}…` },
    ]);
    // What the worker posts back must survive structuredClone (which recurses).
    expect(structuredClone(r)).toEqual(r);
  });

  it('accepts 64 levels, and does not count brackets inside strings', async () => {
    const deepest = `{"a": ${'['.repeat(63)}${']'.repeat(63)}}`;
    const quoted = `{"a": "${'[{'.repeat(500)} \\" ${'['.repeat(100)}"}`;
    const r = await jsonl(`${deepest}\n${quoted}\n{"a": ${'['.repeat(64)}${']'.repeat(64)}}`);
    expect(r.rowLines).toEqual([1, 2]);
    expect(r.rows[1]).toEqual({ a: `${'[{'.repeat(500)} " ${'['.repeat(100)}` });
    expect(r.issues.map((i) => [i.line, i.message.split(':')[0]])).toEqual([[3, 'JSON nested more than 64 levels deep at column 70']]);
  });
});
