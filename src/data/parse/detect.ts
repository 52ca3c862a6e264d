import type { SourceFormat } from '../types';
import { isArrayOfObjects, isObject } from './issues';

/**
 * The format of a file from its name and its first bytes (`head`, decoded). The extension decides,
 * except that a ".json" file whose first line is a whole object is JSONL (a common mislabel).
 * Without a known extension the content decides.
 */
export function detectFormat(name: string | undefined, head: string): SourceFormat {
  const text = head.trimStart();
  switch (extension(name)) {
    case 'jsonl':
    case 'ndjson':
      return 'jsonl';
    case 'json':
      return text.startsWith('{') && startsLikeJsonl(text) ? 'jsonl' : 'json';
    case 'csv':
    case 'tsv':
      return 'csv';
    case 'txt':
    case 'md':
    case 'markdown':
      return 'text';
  }
  if (text.startsWith('[')) return 'json';
  if (text.startsWith('{')) {
    if (startsLikeJsonl(text)) return 'jsonl';
    // A pretty-printed object ({"data": [...]} over many lines) opens with a line that is just "{";
    // anything else is more likely JSONL with a broken first line, which JSONL parsing reports per line.
    return firstLine(text).trim() === '{' || parses(text) ? 'json' : 'jsonl';
  }
  return looksLikeCsv(text) ? 'csv' : 'text';
}

function extension(name: string | undefined): string {
  const dot = name?.lastIndexOf('.') ?? -1;
  return name && dot > 0 ? name.slice(dot + 1).toLowerCase() : '';
}

function firstLine(text: string): string {
  const nl = text.indexOf('\n');
  return nl === -1 ? text : text.slice(0, nl);
}

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * The first line is a whole JSON object. A file that is nothing but one such line holding a list of
 * records ({"data": [...]} written without indentation) is a JSON file, unless the list is a chat's
 * messages (one chat example per line is a JSONL file).
 */
function startsLikeJsonl(text: string): boolean {
  const line = firstLine(text);
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return false;
  }
  if (!isObject(value)) return false;
  if (text.slice(line.length).trim() !== '') return true;
  return !Object.values(value).some((v) => isArrayOfObjects(v) && !v.every((item) => isObject(item) && 'role' in item));
}

/** At least two lines, the first with commas (or tabs), the second with as many outside quotes. */
function looksLikeCsv(text: string): boolean {
  const lines = text.split('\n', 64).filter((l) => l.trim() !== '');
  if (lines.length < 2) return false;
  return [',', '\t'].some((delimiter) => {
    const header = countOutsideQuotes(lines[0], delimiter);
    if (header.count === 0) return false;
    const row = countOutsideQuotes(lines[1], delimiter);
    // A row whose last field runs on to the next line (a quoted line break) has fewer so far.
    return row.count === header.count || (row.open && row.count <= header.count);
  });
}

function countOutsideQuotes(line: string, delimiter: string): { count: number; open: boolean } {
  let count = 0;
  let open = false;
  for (const c of line) {
    if (c === '"') open = !open;
    else if (c === delimiter && !open) count++;
  }
  return { count, open };
}
