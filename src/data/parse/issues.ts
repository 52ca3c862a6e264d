import type { ParseIssue, Row } from '../types';

/** What a format parser hands back; index.ts adds the format and the byte count. */
export interface Collected {
  rows: Row[];
  rowLines: number[];
  issues: ParseIssue[];
  records: number;
}

/** The issue list shows a line's start, never a whole (possibly megabyte-long) line. */
const EXCERPT_CHARS = 120;

export function clip(text: string): string {
  const line = text.endsWith('\r') ? text.slice(0, -1) : text;
  return line.length > EXCERPT_CHARS ? `${line.slice(0, EXCERPT_CHARS)}…` : line;
}

export const EXAMPLE_OBJECT = '{"question": …, "answer": …}';

export const INVALID_UTF8_MESSAGE = 'this line has bytes that are not UTF-8 text: save the file with UTF-8 encoding';

/** Sizes in the units people see in file browsers (binary, labelled KB/MB). */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} byte${n === 1 ? '' : 's'}`;
  const [value, unit] = n < 1024 * 1024 ? [n / 1024, 'KB'] : [n / (1024 * 1024), 'MB'];
  return `${Number(value.toFixed(1))} ${unit}`;
}

export function isObject(value: unknown): value is Row {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An array with objects in it: what {"data": [...]} wraps. */
export function isArrayOfObjects(value: unknown): value is unknown[] {
  return Array.isArray(value) && value.some(isObject);
}

/** "a JSON array", "a string"… for messages about values that should have been objects. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a JSON array';
  switch (typeof value) {
    case 'string':
      return 'a string';
    case 'number':
      return 'a number';
    case 'boolean':
      return `${value} (a boolean)`;
    default:
      return 'an object';
  }
}

export function emptyFile(message: string): Collected {
  return { rows: [], rowLines: [], issues: [{ line: 1, kind: 'empty-file', message, excerpt: '' }], records: 0 };
}

/** Deeper than any dataset needs (a chat record is 3 levels deep); deeper records are refused before JSON.parse. */
export const MAX_NESTING = 64;

export function tooDeepMessage(column: number, what: 'line' | 'item'): string {
  return `JSON nested more than ${MAX_NESTING} levels deep at column ${column}: a record holds text fields or chat messages, a few levels deep; remove or fix this ${what}`;
}

export const EMPTY_MESSAGE = 'the file is empty: pick a file with data';
