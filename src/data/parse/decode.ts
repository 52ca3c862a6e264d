import { clip } from './issues';

export interface BadLine {
  line: number;
  /** The line decoded leniently (bad bytes as U+FFFD), clipped. */
  excerpt: string;
}

export interface DecodedText {
  /** The text with bad bytes as U+FFFD; its line numbers match the bytes' (0x0A never occurs inside a UTF-8 sequence). */
  text: string;
  badLines: BadLine[];
}

/** Decodes a whole file; only when that fails does it look line by line for the culprits. */
export function decodeText(bytes: Uint8Array): DecodedText {
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(bytes), badLines: [] };
  } catch {
    return { text: new TextDecoder().decode(bytes), badLines: findBadLines(bytes) };
  }
}

function findBadLines(bytes: Uint8Array): BadLine[] {
  const strict = new TextDecoder('utf-8', { fatal: true });
  const lenient = new TextDecoder();
  const bad: BadLine[] = [];
  let start = 0;
  for (let line = 1; start <= bytes.length; line++) {
    const nl = bytes.indexOf(0x0a, start);
    const end = nl === -1 ? bytes.length : nl;
    const lineBytes = bytes.subarray(start, end);
    try {
      strict.decode(lineBytes);
    } catch {
      bad.push({ line, excerpt: clip(lenient.decode(lineBytes)) });
    }
    start = end + 1;
  }
  return bad;
}
