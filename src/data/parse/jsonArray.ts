import type { ParseIssue, Row } from '../types';
import type { BadLine } from './decode';
import { describeJsonError } from './jsonError';
import { firstNonSpace, locateJsonError, scanChildren, tooDeepAt } from './jsonScan';
import { clip, type Collected, describeValue, emptyFile, EXAMPLE_OBJECT, INVALID_UTF8_MESSAGE, isArrayOfObjects, isObject, MAX_NESTING, tooDeepMessage } from './issues';
import { LineCounter, lineTextAt } from './lineCounter';

const MUST_BE_ARRAY = `a JSON file must be an array of objects such as [${EXAMPLE_OBJECT}, …]`;

/**
 * A JSON array of objects, or an object that wraps one ({"data": [...]}, {"train": [...]}).
 * Items that hold bytes that were not UTF-8 are dropped, as a JSONL line would be.
 */
export function parseJsonArray(text: string, badLines: BadLine[]): Collected {
  const issues: ParseIssue[] = badLines.map(({ line, excerpt }) => ({ line, kind: 'invalid-utf8', message: INVALID_UTF8_MESSAGE, excerpt }));
  const deep = tooDeepAt(text, MAX_NESTING);
  if (deep !== -1) {
    // Refused whole, like a syntax error: the items are not parsed one by one.
    issues.push(tooDeepIssue(text, deep));
    return { rows: [], rowLines: [], issues: byLine(issues), records: 1 };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    issues.push(syntaxIssue(text, err));
    return { rows: [], rowLines: [], issues: byLine(issues), records: 1 };
  }

  const open = firstNonSpace(text);
  let items: unknown[];
  let arrayOpen: number;
  if (Array.isArray(value)) {
    items = value;
    arrayOpen = open;
  } else if (isObject(value)) {
    const key = Object.keys(value).find((k) => isArrayOfObjects(value[k]));
    if (key === undefined) {
      issues.push({
        line: 1,
        kind: 'invalid-json',
        message: `the file holds one object with no list of records in it: ${MUST_BE_ARRAY}`,
        excerpt: clip(lineTextAt(text, open)),
      });
      return { rows: [], rowLines: [], issues: byLine(issues), records: 1 };
    }
    items = value[key] as unknown[];
    const { starts, keys } = scanChildren(text, open);
    // JSON.parse keeps the last of duplicate keys, so the scanner must too.
    arrayOpen = starts[keys.lastIndexOf(key)];
  } else {
    issues.push({
      line: 1,
      kind: 'not-object',
      message: `the file holds ${describeValue(value)}, not an array: ${MUST_BE_ARRAY}`,
      excerpt: clip(lineTextAt(text, open)),
    });
    return { rows: [], rowLines: [], issues: byLine(issues), records: 1 };
  }

  if (items.length === 0 && issues.length === 0) return emptyFile('the JSON array is empty: pick a file with data');

  const { starts, ends } = scanChildren(text, arrayOpen);
  const lines = new LineCounter(text);
  const badLineSet = new Set(badLines.map((b) => b.line));
  const rows: Row[] = [];
  const rowLines: number[] = [];
  let dropped = 0;
  items.forEach((item, k) => {
    const line = lines.lineAt(starts[k]);
    if (badLineSet.size > 0 && spansBadLine(line, lines.lineAt(ends[k]), badLineSet)) {
      dropped++;
    } else if (isObject(item)) {
      rows.push(item);
      rowLines.push(line);
    } else {
      dropped++;
      issues.push({
        line,
        kind: 'not-object',
        message: `item ${k + 1} is ${describeValue(item)}, not an object: each item must be an object such as ${EXAMPLE_OBJECT}`,
        excerpt: clip(JSON.stringify(item) ?? ''),
      });
    }
  });
  return { rows, rowLines, issues: byLine(issues), records: rows.length + dropped };
}

function spansBadLine(first: number, last: number, bad: Set<number>): boolean {
  for (let line = first; line <= last; line++) if (bad.has(line)) return true;
  return false;
}

function tooDeepIssue(text: string, offset: number): ParseIssue {
  const column = offset - (offset > 0 ? text.lastIndexOf('\n', offset - 1) + 1 : 0) + 1;
  return { line: new LineCounter(text).lineAt(offset), kind: 'invalid-json', message: tooDeepMessage(column, 'item'), excerpt: clip(lineTextAt(text, offset)) };
}

function syntaxIssue(text: string, err: unknown): ParseIssue {
  const info = describeJsonError(err);
  let { line = 1, column } = info;
  let offset = info.position;
  let exact = true;
  if (offset === undefined && info.line === undefined) {
    if (info.reason === 'unexpected end of input') {
      offset = text.trimEnd().length;
    } else {
      const open = firstNonSpace(text);
      const c = text.charAt(open);
      if (c === '[' || c === '{') ({ offset, exact } = locateJsonError(text, open));
    }
  }
  let excerpt: string;
  if (offset !== undefined) {
    line = new LineCounter(text).lineAt(offset);
    if (exact) column = offset - (offset > 0 ? text.lastIndexOf('\n', offset - 1) + 1 : 0) + 1;
    excerpt = lineTextAt(text, offset);
  } else {
    excerpt = text.split('\n', line)[line - 1] ?? '';
  }
  return {
    line,
    kind: 'invalid-json',
    message: `invalid JSON: ${info.reason}${column !== undefined ? ` at column ${column}` : ''}`,
    excerpt: clip(excerpt),
  };
}

function byLine(issues: ParseIssue[]): ParseIssue[] {
  return issues.sort((a, b) => a.line - b.line);
}
