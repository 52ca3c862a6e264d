/**
 * A light scanner over JSON text that finds where the children of an array or object start, so
 * items can be given line numbers (JSON.parse does not say where anything was) and a syntax error
 * that the engine reports without a position can be narrowed down to the item that holds it.
 * It tracks only strings and nesting; on invalid JSON it does its best and never throws.
 */

export interface Children {
  /** Offset where each child value starts. */
  starts: number[];
  /** Offset just past each child: its separating comma or the closing bracket. */
  ends: number[];
  /** For an object, the keys in order (as written, duplicates kept); empty for an array. */
  keys: string[];
  /** Offset of a comma right before the closing bracket, which JSON does not allow. */
  trailingComma?: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** Offset of the quote that closes the string opened at `open` (text.length if none). */
function stringEnd(text: string, open: number): number {
  for (let q = text.indexOf('"', open + 1); q !== -1; q = text.indexOf('"', q + 1)) {
    let backslashes = 0;
    while (text.charCodeAt(q - 1 - backslashes) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return q;
  }
  return text.length;
}

/** Offset of the first character that is not JSON whitespace (text.length if none). */
export function firstNonSpace(text: string): number {
  let i = 0;
  while (i < text.length && isSpace(text.charCodeAt(i))) i++;
  return i;
}

/**
 * Offset of the first bracket that opens a level deeper than `limit` (brackets inside strings do not
 * count), or -1. Run before JSON.parse: a value thousands of levels deep overflows the stack of
 * whatever walks it recursively (JSON.stringify, structuredClone on its way out of the worker,
 * Firefox's JSON.parse itself), and one pass over the brackets costs far less than the parse.
 */
export function tooDeepAt(text: string, limit: number): number {
  if (fewBrackets(text, limit)) return -1;
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) i = stringEnd(text, i);
    else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > limit) return i;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) depth--;
  }
  return -1;
}

/** No more than `limit` opening brackets in all, so no level deeper: most lines, found by native searches alone. */
function fewBrackets(text: string, limit: number): boolean {
  let n = 0;
  for (const bracket of ['[', '{']) {
    for (let i = text.indexOf(bracket); i !== -1; i = text.indexOf(bracket, i + 1)) if (++n > limit) return false;
  }
  return true;
}

/** The children of the array or object whose opening bracket is at `open`. */
export function scanChildren(text: string, open: number): Children {
  const inObject = text.charCodeAt(open) === OPEN_BRACE;
  const children: Children = { starts: [], ends: [], keys: [] };
  const { starts, ends, keys } = children;
  let depth = 0;
  let afterComma = false;
  let wantKey = inObject;
  let wantValue = !inObject;
  const endChild = (i: number) => {
    if (starts.length > ends.length) ends.push(i);
  };
  for (let i = open + 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const close = stringEnd(text, i);
      if (depth === 0) {
        if (wantKey) {
          keys.push(parseKey(text.slice(i, close + 1)));
          wantKey = false;
        } else if (wantValue) {
          starts.push(i);
          wantValue = false;
        }
        afterComma = false;
      }
      i = close;
      continue;
    }
    if (depth > 0) {
      if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
      else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) depth--;
      continue;
    }
    if (isSpace(c)) continue;
    if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      if (afterComma) children.trailingComma = ends[ends.length - 1];
      endChild(i);
      break;
    }
    if (c === COMMA) {
      endChild(i);
      afterComma = true;
      wantKey = inObject;
      wantValue = !inObject;
      continue;
    }
    afterComma = false;
    if (c === COLON) {
      wantValue = true;
      continue;
    }
    if (wantValue) {
      starts.push(i);
      wantValue = false;
    }
    if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
  }
  endChild(text.length);
  return children;
}

function parseKey(quoted: string): string {
  try {
    return JSON.parse(quoted) as string;
  } catch {
    return quoted.slice(1, -1);
  }
}

/**
 * Where in `text` the syntax error inside the container at `open` is: the first child that does not
 * parse on its own, narrowed down recursively. `exact` says whether the engine gave the offset
 * (otherwise it is where the culprit starts, or the trailing comma).
 */
export function locateJsonError(text: string, open: number): { offset: number; exact: boolean } {
  const { starts, ends, trailingComma } = scanChildren(text, open);
  for (let k = 0; k < starts.length; k++) {
    try {
      JSON.parse(text.slice(starts[k], ends[k]));
    } catch (err) {
      const m = /at position (\d+)/.exec(err instanceof Error ? err.message : '');
      if (m) return { offset: starts[k] + Number(m[1]), exact: true };
      const c = text.charCodeAt(starts[k]);
      if (c === OPEN_BRACE || c === OPEN_BRACKET) return locateJsonError(text, starts[k]);
      return { offset: starts[k], exact: false };
    }
  }
  // Every child parses: the fault is in the container's own punctuation, most often a trailing comma.
  return { offset: trailingComma ?? open, exact: false };
}
