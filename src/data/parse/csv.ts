import Papa from 'papaparse';
import type { ParseIssue, Row } from '../types';
import type { BadLine } from './decode';
import { clip, type Collected, emptyFile, INVALID_UTF8_MESSAGE } from './issues';
import { LineCounter, lineTextAt } from './lineCounter';

type CsvRow = Record<string, string | string[]>;

/**
 * CSV or TSV with a header row; every value is a string. Rows with the wrong number of fields,
 * broken quoting or bytes that were not UTF-8 are reported and left out.
 * `delimiter` undefined lets papaparse guess (comma, tab, semicolon, |).
 */
export function parseCsv(text: string, badLines: BadLine[], delimiter?: string): Collected {
  const rows: Row[] = [];
  const rowLines: number[] = [];
  const issues: ParseIssue[] = [];
  let records = 0;
  const lines = new LineCounter(text);
  const badByLine = new Map(badLines.map((b) => [b.line, b]));
  const reported = new Set<number>();

  // Papa applies transformHeader to its first row even when that row is blank, so blank lines
  // before the header are cut off here; `base` maps Papa's offsets back.
  const base = leadingBlankEnd(text);
  const headerLine = lines.lineAt(base);
  let prevEnd = headerEnd(text, base);

  const headerNotes: string[] = [];
  const names = new Set<string>();
  const header: string[] = [];

  Papa.parse<CsvRow>(base > 0 ? text.slice(base) : text, {
    header: true,
    skipEmptyLines: 'greedy',
    delimiter: delimiter ?? '',
    transformHeader(raw, i) {
      let name = raw.trim();
      if (name === '') {
        name = `column${i + 1}`;
        headerNotes.push(`column ${i + 1} has no name (read as "${name}")`);
      }
      if (names.has(name)) {
        let n = 2;
        while (names.has(`${name}_${n}`)) n++;
        headerNotes.push(`"${name}" appears more than once (column ${i + 1} is read as "${name}_${n}")`);
        name = `${name}_${n}`;
      }
      names.add(name);
      header.push(name);
      return name;
    },
    step(result) {
      const end = base + result.meta.cursor;
      const startOffset = contentStart(text, prevEnd, result.meta.delimiter);
      const first = lines.lineAt(startOffset);
      const last = lines.lineAt(end - 1);
      prevEnd = end;
      records++;

      for (let line = first; line <= last; line++) {
        const bad = badByLine.get(line);
        if (!bad) continue;
        for (let l = line; l <= last; l++) reported.add(l);
        issues.push({ line, kind: 'invalid-utf8', message: INVALID_UTF8_MESSAGE, excerpt: bad.excerpt });
        return;
      }
      const error = result.errors
        .filter((e) => e.type !== 'Delimiter') // a guess that fell back to commas, not a problem with a row
        .sort((a, b) => errorRank(a) - errorRank(b))[0];
      if (error) {
        issues.push({
          line: first,
          kind: 'csv',
          message: csvMessage(error, result.data, header.length, result.meta.delimiter),
          excerpt: clip(lineTextAt(text, startOffset)),
        });
        return;
      }
      rows.push(result.data);
      rowLines.push(first);
    },
  });

  if (headerNotes.length > 0) {
    issues.push({ line: headerLine, kind: 'csv', message: `header: ${headerNotes.join('; ')}`, excerpt: clip(lineTextAt(text, base)) });
  }
  for (const bad of badLines) {
    if (!reported.has(bad.line)) issues.push({ line: bad.line, kind: 'invalid-utf8', message: INVALID_UTF8_MESSAGE, excerpt: bad.excerpt });
  }
  if (records === 0 && issues.length === 0) {
    return emptyFile('the file has a header row but no data rows: pick a file with data');
  }
  return { rows, rowLines, issues: issues.sort((a, b) => a.line - b.line), records };
}

/** Quote errors first: they cause the field-count errors that come with them. */
function errorRank(error: Papa.ParseError): number {
  return error.type === 'Quotes' ? 0 : 1;
}

function csvMessage(error: Papa.ParseError, row: CsvRow, fieldCount: number, delimiter: string): string {
  switch (error.code) {
    case 'MissingQuotes':
      return 'a quoted field is never closed, so the rest of the file was read into it: close the quote (a quote inside a quoted field is written "")';
    case 'InvalidQuotes':
      return 'a quoted field has text after its closing quote: a quote inside a quoted field is written ""';
    case 'TooFewFields':
      return `row has ${Object.keys(row).length} of the ${fieldCount} fields the header names: add the missing ones`;
    case 'TooManyFields': {
      const extra = row.__parsed_extra;
      const count = fieldCount + (Array.isArray(extra) ? extra.length : 0);
      return `row has ${count} fields but the header names ${fieldCount}: put values that contain a ${delimiterName(delimiter)} in double quotes`;
    }
    default:
      return error.message;
  }
}

function delimiterName(delimiter: string): string {
  const names: Record<string, string> = { ',': 'comma', '\t': 'tab', ';': 'semicolon', '|': 'vertical bar' };
  return names[delimiter] ?? `"${delimiter}"`;
}

/** Offset of the first line that is not blank. */
function leadingBlankEnd(text: string): number {
  let start = 0;
  for (;;) {
    const nl = text.indexOf('\n', start);
    if (nl === -1 || text.slice(start, nl).trim() !== '') return start;
    start = nl + 1;
  }
}

/** Offset just past the header row (its line break may sit inside a quoted name). */
function headerEnd(text: string, from: number): number {
  let quoted = false;
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) quoted = !quoted;
    else if (c === 0x0a && !quoted) return i + 1;
  }
  return text.length;
}

/** A line whose every field is blank, quoted or not: skipEmptyLines: 'greedy' passes over it. */
function isBlankRow(line: string, delimiter: string): boolean {
  return line.split(delimiter).every((field) => /^(?:\s*|"\s*"\s*)$/.test(field));
}

/** Where the row that Papa ends at the next cursor starts: past the blank rows before it.
 */
function contentStart(text: string, from: number, delimiter: string): number {
  let start = from;
  for (;;) {
    const c = text.charAt(start);
    if (c !== delimiter && c !== '"' && c.trim() !== '') return start;
    const nl = text.indexOf('\n', start);
    if (nl === -1) return start;
    if (!isBlankRow(text.slice(start, nl), delimiter)) return start;
    start = nl + 1;
  }
}
