import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ParseProgress, SourceFormat } from '../types';
import { parseDataset } from './index';
import { READ_CHUNK_BYTES } from './read';

const fixture = (name: string) => readFileSync(new URL(`../../../fixtures/data/course/${name}`, import.meta.url));

/** ~1.5 MB of JSONL, enough for several progress steps and stream chunks. */
const bigJsonl = Array.from({ length: 12_000 }, (_, i) => JSON.stringify({ question: `q${i} ${'x'.repeat(100)}`, answer: `a${i}` })).join('\n');

describe('parseDataset', () => {
  it('reports an empty file, whatever the format, instead of throwing', async () => {
    const formats: SourceFormat[] = ['jsonl', 'json', 'csv', 'text'];
    for (const content of ['', '   \n\r\n\t ', '\uFEFF\n']) {
      for (const format of formats) {
        const r = await parseDataset(new Blob([content]), { format });
        expect(r.format).toBe(format);
        expect(r.rows).toEqual([]);
        expect(r.rowLines).toEqual([]);
        expect(r.issues).toEqual([{ line: 1, kind: 'empty-file', message: 'the file is empty: pick a file with data', excerpt: '' }]);
        expect(r.records).toBe(0);
      }
    }
    const named = await parseDataset(new File([''], 'data.jsonl'));
    expect([named.format, named.bytes, named.issues[0].kind]).toEqual(['jsonl', 0, 'empty-file']);
  });

  it('takes the format from a File name, from opts.name, or from the content of pasted text', async () => {
    expect((await parseDataset(new File(['a,b\n1,2'], 'x.txt'))).format).toBe('text');
    expect((await parseDataset(new File(['a,b\n1,2'], 'x.txt'), { name: 'x.csv' })).format).toBe('csv');
    expect((await parseDataset('a,b\n1,2', { format: 'text' })).format).toBe('text');
    const pasted = await parseDataset('{"q": "é"}\n{"q": "😀"}');
    expect(pasted).toEqual({ format: 'jsonl', rows: [{ q: 'é' }, { q: '😀' }], rowLines: [1, 2], issues: [], records: 2, bytes: 25 });
    expect((await parseDataset('[{"q": 1}]')).format).toBe('json');
    const mislabelled = await parseDataset(new File(['{"q": 1}\n{"q": 2}\n'], 'train.json'));
    expect([mislabelled.format, mislabelled.rows.length, mislabelled.issues]).toEqual(['jsonl', 2, []]);
  });

  it('reports progress now and then, and finally with every byte read', async () => {
    for (const format of ['jsonl', 'csv'] as const) {
      const seen: ParseProgress[] = [];
      const content = format === 'jsonl' ? bigJsonl : `q,a\n${'some text,more text\n'.repeat(80_000)}`;
      const blob = new Blob([content]);
      const r = await parseDataset(blob, { format, onProgress: (p) => seen.push(p) });
      expect(seen.length).toBeGreaterThan(2);
      expect(seen.length).toBeLessThanOrEqual(Math.ceil(blob.size / READ_CHUNK_BYTES) + 1);
      expect(seen.every((p) => p.totalBytes === blob.size)).toBe(true);
      const reads = seen.map((p) => p.bytesRead);
      expect(reads).toEqual([...reads].sort((a, b) => a - b));
      expect(seen[seen.length - 1]).toEqual({ bytesRead: blob.size, totalBytes: blob.size, rows: r.rows.length, issues: 0 });
    }
  });

  it('rejects with an AbortError when aborted before or during the parse', async () => {
    const before = new AbortController();
    before.abort();
    await expect(parseDataset('{"a": 1}', { signal: before.signal })).rejects.toMatchObject({ name: 'AbortError' });

    for (const format of ['jsonl', 'text'] as const) {
      const during = new AbortController();
      let calls = 0;
      const parse = parseDataset(new Blob([bigJsonl]), {
        format,
        signal: during.signal,
        onProgress: () => {
          calls++;
          during.abort(new Error('a custom reason'));
        },
      });
      await expect(parse).rejects.toSatisfy((e: unknown) => e instanceof DOMException && e.name === 'AbortError');
      expect(calls).toBe(1);
    }
  });

  it('reads the course Q&A file: 1400 rows, no issues (it has no final newline)', async () => {
    const bytes = fixture('lamini_docs.jsonl');
    expect(bytes[bytes.length - 1]).not.toBe(0x0a);
    const r = await parseDataset(new File([bytes], 'lamini_docs.jsonl'));
    expect(r.format).toBe('jsonl');
    expect(r.issues).toEqual([]);
    expect(r.rows).toHaveLength(1400);
    expect(r.records).toBe(1400);
    expect(r.bytes).toBe(bytes.length);
    expect(r.rowLines).toEqual(Array.from({ length: 1400 }, (_, i) => i + 1));
    expect(r.rows.every((row) => typeof row.question === 'string' && typeof row.answer === 'string')).toBe(true);
  });

  it('reads the course Alpaca file: 128 rows of instruction/input/output', async () => {
    const bytes = fixture('alpaca_data_first128.json');
    const r = await parseDataset(new File([bytes], 'alpaca_data_first128.json'));
    expect(r.format).toBe('json');
    expect(r.issues).toEqual([]);
    expect(r.rows).toHaveLength(128);
    expect(r.rows.every((row) => ['instruction', 'input', 'output'].every((k) => typeof row[k] === 'string'))).toBe(true);
    expect(r.rows[0].instruction).toBe('Give three tips for staying healthy.');
    // Pretty-printed with four spaces and five lines per record.
    const text = bytes.toString('utf8').split('\n');
    r.rowLines.forEach((line, i) => expect(text[line - 1].trim().startsWith('{'), `row ${i} at line ${line}`).toBe(true));
    expect(r.rowLines[0]).toBe(2);
  });
});
