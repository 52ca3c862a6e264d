import { describe, expect, it } from 'vitest';
import { parseDataset } from './index';

const text = (content: string | Uint8Array<ArrayBuffer>, name = 'notes.txt') => parseDataset(new Blob([content]), { name });

describe('plain text', () => {
  it('makes one example per paragraph, keeping inner line breaks', async () => {
    const r = await text('\n\nFirst paragraph,\nsecond line.   \n\n\n  \t\nSecond paragraph.\n\n  indented third\n');
    expect(r.format).toBe('text');
    expect(r.rows).toEqual([{ text: 'First paragraph,\nsecond line.' }, { text: 'Second paragraph.' }, { text: '  indented third' }]);
    expect(r.rowLines).toEqual([3, 8, 10]);
    expect(r.issues).toEqual([]);
    expect(r.records).toBe(3);
  });

  it('normalises CRLF, strips a BOM, reads a missing final newline', async () => {
    const r = await text(new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode('# Title\r\nbody\r\n\r\nlast')]), 'README.md');
    expect(r.rows).toEqual([{ text: '# Title\nbody' }, { text: 'last' }]);
    expect(r.rowLines).toEqual([1, 4]);
  });

  it('reports each line with bytes that are not UTF-8 and leaves its paragraph out', async () => {
    const enc = new TextEncoder();
    const r = await text(new Uint8Array([...enc.encode('good\n\nbad '), 0xff, ...enc.encode('\nand '), 0xe2, 0x82, ...enc.encode('\n\nalso good')]));
    expect(r.rows).toEqual([{ text: 'good' }, { text: 'also good' }]);
    expect(r.rowLines).toEqual([1, 6]);
    expect(r.issues).toEqual([
      { line: 3, kind: 'invalid-utf8', message: expect.stringMatching(/not UTF-8/), excerpt: 'bad \uFFFD' },
      { line: 4, kind: 'invalid-utf8', message: expect.stringMatching(/not UTF-8/), excerpt: 'and \uFFFD' },
    ]);
    expect(r.records).toBe(3);
  });

  it('is what anything unrecognised is read as', async () => {
    const r = await parseDataset('Once upon a time\nthere was a model.\n\nThe end.');
    expect(r.format).toBe('text');
    expect(r.rows).toHaveLength(2);
    expect((await text('x', 'weird.log')).format).toBe('text');
  });
});
