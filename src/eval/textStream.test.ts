import { describe, expect, it } from 'vitest';
import { TextStream } from './textStream';

/**
 * A byte-level fake tokenizer: each id is one UTF-8 byte, decoded as transformers.js does
 * (an incomplete character at the end becomes U+FFFD).
 */
const decodeBytes = (ids: number[]): string => new TextDecoder().decode(Uint8Array.from(ids));
const bytes = (s: string): number[] => [...new TextEncoder().encode(s)];

/** A fake tokenizer whose ids index a table of multi-character pieces. */
const PIECES = ['Hel', 'lo', ' wor', 'ld', '#', '##', '!', ' ', 'a###b', 'x'];
const decodePieces = (ids: number[]): string => ids.map((i) => PIECES[i]).join('');
const piece = (p: string): number => PIECES.indexOf(p);

/** Feed ids one at a time as generate does (stopping when the stream says so); returns the deltas. */
function run(stream: TextStream, ids: number[]): { deltas: string[]; fed: number } {
  const deltas: string[] = [];
  let fed = 0;
  for (let i = 1; i <= ids.length; i++) {
    fed = i;
    deltas.push(stream.push(ids.slice(0, i)));
    if (stream.stopped) break;
  }
  deltas.push(stream.flush());
  return { deltas, fed };
}

describe('TextStream', () => {
  it('deltas concatenate to the final text', () => {
    const s = new TextStream(decodePieces, []);
    const { deltas } = run(s, ['Hel', 'lo', ' wor', 'ld', '!'].map(piece));
    expect(deltas.slice(0, 5)).toEqual(['Hel', 'lo', ' wor', 'ld', '!']);
    expect(deltas.join('')).toBe('Hello world!');
    expect(s.text).toBe('Hello world!');
    expect(s.stopped).toBe(false);
  });

  it('never emits a stop string that arrives split over tokens, and stops there', () => {
    const s = new TextStream(decodePieces, ['###']);
    const ids = ['Hel', 'lo', '#', '##', ' wor', 'ld'].map(piece);
    const { deltas, fed } = run(s, ids);
    expect(deltas.join('')).toBe('Hello');
    expect(deltas.some((d) => d.includes('#'))).toBe(false);
    expect(s.stopped).toBe(true);
    expect(fed).toBe(4); // stopped on the token that completed "###"
    expect(s.text).toBe('Hello');
  });

  it('drops the text after a stop string inside one token', () => {
    const s = new TextStream(decodePieces, ['###']);
    const { deltas } = run(s, ['x', 'a###b', 'x'].map(piece));
    expect(deltas.join('')).toBe('xa');
    expect(s.text).toBe('xa');
    expect(s.stopped).toBe(true);
  });

  it('holds back a possible start of a stop string, and releases it when it is not one', () => {
    const s = new TextStream(decodeBytes, ['###']);
    const ids = bytes('ab##c');
    const deltas = ids.map((_, i) => s.push(ids.slice(0, i + 1)));
    // "#" and "##" could be the start of "###"; the "c" shows they are not.
    expect(deltas).toEqual(['a', 'b', '', '', '##c']);
    expect(s.flush()).toBe('');
    expect(s.stopped).toBe(false);
  });

  it('handles a stop string whose prefix repeats ("aab" in "xaaab")', () => {
    const s = new TextStream(decodeBytes, ['aab']);
    const { deltas } = run(s, bytes('xaaabzz'));
    expect(deltas.join('')).toBe('xa');
    expect(s.text).toBe('xa');
    expect(s.stopped).toBe(true);
  });

  it('cuts at the earliest stop string, whatever their order in the list', () => {
    for (const stops of [
      ['END', '\n'],
      ['\n', 'END'],
    ]) {
      const s = new TextStream(decodeBytes, stops);
      const { deltas } = run(s, bytes('one\ntwo END three'));
      expect(deltas.join(''), JSON.stringify(stops)).toBe('one');
    }
  });

  it('holds back an incomplete UTF-8 character until its last byte arrives', () => {
    const s = new TextStream(decodeBytes, []);
    const ids = bytes('é€!'); // 2 + 3 + 1 bytes
    const deltas = ids.map((_, i) => s.push(ids.slice(0, i + 1)));
    expect(deltas).toEqual(['', 'é', '', '', '€', '!']);
    expect(deltas.some((d) => d.includes('\uFFFD'))).toBe(false);
  });

  it('flush releases what was held back once generation ends', () => {
    const s = new TextStream(decodeBytes, ['###']);
    expect(s.push(bytes('ok#'))).toBe('ok');
    expect(s.flush()).toBe('#');
    expect(s.flush()).toBe('');
    expect(s.text).toBe('ok#');

    // An unfinished character at the end is released as the replacement character, so the text is complete.
    const u = new TextStream(decodeBytes, []);
    expect(u.push(bytes('é').slice(0, 1))).toBe('');
    expect(u.flush()).toBe('\uFFFD');
  });

  it('an empty stop string is ignored', () => {
    const s = new TextStream(decodeBytes, ['']);
    const { deltas } = run(s, bytes('abc'));
    expect(deltas.join('')).toBe('abc');
    expect(s.stopped).toBe(false);
  });
});
