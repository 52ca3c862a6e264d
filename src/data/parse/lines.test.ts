import { describe, expect, it } from 'vitest';
import { splitLines, TOO_LONG_HEAD_BYTES } from './lines';

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Feeds `bytes` in chunks whose sizes cycle through `sizes`. */
async function* chunked(bytes: Uint8Array, sizes: number[]): AsyncGenerator<Uint8Array> {
  for (let i = 0, k = 0; i < bytes.length; k++) {
    const n = sizes[k % sizes.length];
    // A copy, like a real stream: no chunk shares memory with another.
    yield bytes.slice(i, i + n);
    i += n;
  }
}

interface Seen {
  lines: [number, string][];
  tooLong: [number, number, string][];
}

async function split(text: string | Uint8Array, sizes: number[], maxLineBytes = 1 << 20): Promise<Seen & { bytes: number }> {
  const seen: Seen = { lines: [], tooLong: [] };
  const bytes = await splitLines(
    chunked(typeof text === 'string' ? enc.encode(text) : text, sizes),
    {
      line: (b, n) => seen.lines.push([n, dec.decode(b)]),
      tooLong: (n, size, head) => seen.tooLong.push([n, size, dec.decode(head)]),
    },
    maxLineBytes,
  );
  return { ...seen, bytes };
}

describe('splitLines', () => {
  const text = 'first line\nsecond, longer line\n\nfourth ünïcödé 😀 line\r\nlast';
  const expected: [number, string][] = [
    [1, 'first line'],
    [2, 'second, longer line'],
    [3, ''],
    [4, 'fourth ünïcödé 😀 line'],
    [5, 'last'],
  ];

  for (const sizes of [[1], [2], [3], [1, 2, 3], [7], [1000]]) {
    it(`gives the same lines for chunks of ${sizes.join(',')} bytes`, async () => {
      const r = await split(text, sizes);
      expect(r.lines).toEqual(expected);
      expect(r.bytes).toBe(enc.encode(text).length);
    });
  }

  it('keeps a multibyte character split across chunks whole', async () => {
    // "😀" is 4 bytes: with 1-byte chunks every byte arrives alone.
    const r = await split('a😀b\n€', [1]);
    expect(r.lines).toEqual([
      [1, 'a😀b'],
      [2, '€'],
    ]);
  });

  it('gives no extra line after a final line break, and handles CRLF', async () => {
    expect((await split('a\r\nb\r\n', [2])).lines).toEqual([
      [1, 'a'],
      [2, 'b'],
    ]);
    expect((await split('', [1])).lines).toEqual([]);
    expect((await split('\n', [1])).lines).toEqual([[1, '']]);
  });

  it('reports a line over the limit with its size and head, and goes on', async () => {
    const long = 'x'.repeat(50);
    for (const sizes of [[1], [4], [100]]) {
      const r = await split(`ok\n${long}\nafter\n${long}`, sizes, 10);
      expect(r.lines).toEqual([
        [1, 'ok'],
        [3, 'after'],
      ]);
      expect(r.tooLong).toEqual([
        [2, 50, long],
        [4, 50, long],
      ]);
    }
  });

  it('allows a line of exactly the limit', async () => {
    const r = await split('0123456789\n01234567890', [3], 10);
    expect(r.lines).toEqual([[1, '0123456789']]);
    expect(r.tooLong).toEqual([[2, 11, '01234567890']]);
  });

  it('keeps only the head of a long line, even when it spans many chunks', async () => {
    const long = 'y'.repeat(100_000);
    const r = await split(`${long}\nnext`, [777], 1000);
    expect(r.tooLong).toEqual([[1, 100_000, 'y'.repeat(TOO_LONG_HEAD_BYTES)]]);
    expect(r.lines).toEqual([[2, 'next']]);
  });
});
