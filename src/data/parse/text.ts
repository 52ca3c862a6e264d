import type { ParseIssue, Row } from '../types';
import type { BadLine } from './decode';
import { type Collected, INVALID_UTF8_MESSAGE } from './issues';

/**
 * Plain text: one example per paragraph (paragraphs are separated by blank lines), as { text }.
 * A paragraph with bytes that were not UTF-8 is left out, with an issue for each such line.
 */
export function parseText(text: string, badLines: BadLine[]): Collected {
  const rows: Row[] = [];
  const rowLines: number[] = [];
  const issues: ParseIssue[] = [];
  let records = 0;
  const badByLine = new Map(badLines.map((b) => [b.line, b]));

  let paragraph: string[] = [];
  let startLine = 0;
  let bad: BadLine[] = [];
  const flush = () => {
    if (paragraph.length === 0) return;
    records++;
    if (bad.length > 0) {
      for (const b of bad) issues.push({ line: b.line, kind: 'invalid-utf8', message: INVALID_UTF8_MESSAGE, excerpt: b.excerpt });
    } else {
      rows.push({ text: paragraph.join('\n').trimEnd() });
      rowLines.push(startLine);
    }
    paragraph = [];
    bad = [];
  };

  text.split('\n').forEach((raw, i) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') {
      flush();
      return;
    }
    if (paragraph.length === 0) startLine = i + 1;
    paragraph.push(line);
    const b = badByLine.get(i + 1);
    if (b) bad.push(b);
  });
  flush();
  return { rows, rowLines, issues, records };
}
