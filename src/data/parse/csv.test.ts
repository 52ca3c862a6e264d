import { describe, expect, it } from 'vitest';
import { parseDataset } from './index';

const csv = (content: string | Uint8Array<ArrayBuffer>, name = 'data.csv') => parseDataset(new Blob([content]), { name });

describe('CSV', () => {
  it('reads rows as string values keyed by the header', async () => {
    const r = await csv('question,answer,score\nWhat?,That.,3\nWhy?,Because.,4\n');
    expect(r.format).toBe('csv');
    expect(r.rows).toEqual([
      { question: 'What?', answer: 'That.', score: '3' },
      { question: 'Why?', answer: 'Because.', score: '4' },
    ]);
    expect(r.rowLines).toEqual([2, 3]);
    expect(r.issues).toEqual([]);
    expect(r.records).toBe(2);
  });

  it('handles quoted commas, line breaks and escaped quotes, and numbers lines across them', async () => {
    const r = await csv('q,a\n"one, two","line 1\nline 2\nline 3"\n"say ""hi""",x\n\n   \nlast,row');
    expect(r.rows).toEqual([
      { q: 'one, two', a: 'line 1\nline 2\nline 3' },
      { q: 'say "hi"', a: 'x' },
      { q: 'last', a: 'row' },
    ]);
    expect(r.rowLines).toEqual([2, 5, 8]);
    expect(r.issues).toEqual([]);
  });

  it('strips a BOM, handles CRLF and a missing final newline', async () => {
    const r = await csv(new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode('q,a\r\n1,"x\r\ny"\r\n\r\n3,4')]));
    expect(r.rows).toEqual([
      { q: '1', a: 'x\r\ny' },
      { q: '3', a: '4' },
    ]);
    expect(r.rowLines).toEqual([2, 5]);
  });

  it('reads TSV by extension', async () => {
    const r = await csv('q\ta\nhas, commas\t"quoted\ttab"\n', 'data.tsv');
    expect(r.rows).toEqual([{ q: 'has, commas', a: 'quoted\ttab' }]);
    expect(r.issues).toEqual([]);
  });

  it('guesses the delimiter of content without a telling extension', async () => {
    const r = await parseDataset('q\ta\nx, y\tz\nu\tv');
    expect(r.format).toBe('csv');
    expect(r.rows).toEqual([
      { q: 'x, y', a: 'z' },
      { q: 'u', a: 'v' },
    ]);
  });

  it('reports rows with too few or too many fields and leaves them out', async () => {
    const r = await csv('q,a\n1,2\nonly one\n3,4\n5,6,7\n8,9');
    expect(r.rows).toEqual([
      { q: '1', a: '2' },
      { q: '3', a: '4' },
      { q: '8', a: '9' },
    ]);
    expect(r.rowLines).toEqual([2, 4, 6]);
    expect(r.issues).toEqual([
      { line: 3, kind: 'csv', message: 'row has 1 of the 2 fields the header names: add the missing ones', excerpt: 'only one' },
      {
        line: 5,
        kind: 'csv',
        message: 'row has 3 fields but the header names 2: put values that contain a comma in double quotes',
        excerpt: '5,6,7',
      },
    ]);
    expect(r.records).toBe(5);
  });

  it('reports an unclosed quote on the line where the row starts', async () => {
    const r = await csv('q,a\n1,2\n\n3,"never closed\n4,5\n6,7\n');
    expect(r.rows).toEqual([{ q: '1', a: '2' }]);
    expect(r.issues).toEqual([
      {
        line: 4,
        kind: 'csv',
        message: expect.stringMatching(/^a quoted field is never closed, so the rest of the file was read into it: close the quote/),
        excerpt: '3,"never closed',
      },
    ]);
    expect(r.records).toBe(2);
  });

  it('reports text after a closing quote', async () => {
    const r = await csv('q,a\n1,"2"x\n');
    expect(r.rows).toEqual([]);
    expect(r.issues.map((i) => [i.line, i.kind])).toEqual([[2, 'csv']]);
    expect(r.issues[0].message).toMatch(/quote/);
  });

  it('names unnamed and repeated columns and says so', async () => {
    const r = await csv(' q ,,q,a\n1,2,3,4\n');
    expect(r.rows).toEqual([{ q: '1', column2: '2', q_2: '3', a: '4' }]);
    expect(r.issues).toEqual([
      {
        line: 1,
        kind: 'csv',
        message: 'header: column 2 has no name (read as "column2"); "q" appears more than once (column 3 is read as "q_2")',
        excerpt: ' q ,,q,a',
      },
    ]);
    expect(r.records).toBe(1);
  });

  it('numbers lines past blank lines and blank rows, before the header too', async () => {
    const r = await csv('\n\nq,a\n\n1,2\n,\n"","  " \n3,4\n');
    expect(r.rows).toEqual([
      { q: '1', a: '2' },
      { q: '3', a: '4' },
    ]);
    expect(r.rowLines).toEqual([5, 8]);
  });

  it('says so when there is a header but no rows', async () => {
    const r = await csv('q,a\n');
    expect(r.rows).toEqual([]);
    expect(r.issues).toEqual([{ line: 1, kind: 'empty-file', message: 'the file has a header row but no data rows: pick a file with data', excerpt: '' }]);
    expect(r.records).toBe(0);
  });

  it('reports a row with bytes that are not UTF-8, keeps the rest', async () => {
    const enc = new TextEncoder();
    const bytes = new Uint8Array([...enc.encode('q,a\n1,2\n"multi\nline '), 0xc3, ...enc.encode('",3\n4,5\n6,'), 0xff, 0xfe, ...enc.encode('\n')]);
    const r = await csv(bytes);
    expect(r.rows).toEqual([
      { q: '1', a: '2' },
      { q: '4', a: '5' },
    ]);
    expect(r.rowLines).toEqual([2, 5]);
    expect(r.issues).toEqual([
      { line: 4, kind: 'invalid-utf8', message: expect.stringMatching(/not UTF-8/), excerpt: 'line \uFFFD",3' },
      { line: 6, kind: 'invalid-utf8', message: expect.stringMatching(/not UTF-8/), excerpt: '6,\uFFFD\uFFFD' },
    ]);
    expect(r.records).toBe(4);
  });

  it('reports bytes that are not UTF-8 in the header without dropping rows', async () => {
    const r = await csv(new Uint8Array([0x71, 0xff, ...new TextEncoder().encode(',a\n1,2\n')]));
    expect(r.rows).toEqual([{ 'q\uFFFD': '1', a: '2' }]);
    expect(r.issues.map((i) => [i.line, i.kind])).toEqual([[1, 'invalid-utf8']]);
    expect(r.records).toBe(1);
  });
});
