import type { ParseIssue, Row } from '../types';
import { describeJsonError } from './jsonError';
import {
  clip,
  type Collected,
  describeValue,
  EMPTY_MESSAGE,
  emptyFile,
  EXAMPLE_OBJECT,
  formatBytes,
  INVALID_UTF8_MESSAGE,
  isObject,
  MAX_NESTING,
  tooDeepMessage,
} from './issues';
import { tooDeepAt } from './jsonScan';
import { splitLines } from './lines';

export interface JsonlOptions {
  maxLineBytes: number;
  /** Runs after each chunk with the counts so far (progress, cancellation). */
  afterChunk?: (bytesRead: number, rows: number, issues: number) => void;
}

/** One JSON object per line, parsed as the bytes stream in. */
export async function parseJsonl(chunks: AsyncIterable<Uint8Array>, opts: JsonlOptions): Promise<Collected> {
  const rows: Row[] = [];
  const rowLines: number[] = [];
  const issues: ParseIssue[] = [];
  let sawContent = false;
  const strict = new TextDecoder('utf-8', { fatal: true });
  const lenient = new TextDecoder();

  await splitLines(
    chunks,
    {
      line(bytes, line) {
        let text: string;
        try {
          text = strict.decode(bytes);
        } catch {
          sawContent = true;
          issues.push({ line, kind: 'invalid-utf8', message: INVALID_UTF8_MESSAGE, excerpt: clip(lenient.decode(bytes)) });
          return;
        }
        if (isBlank(text)) return;
        sawContent = true;
        const deep = tooDeepAt(text, MAX_NESTING);
        if (deep !== -1) {
          issues.push({ line, kind: 'invalid-json', message: tooDeepMessage(deep + 1, 'line'), excerpt: clip(text) });
          return;
        }
        let value: unknown;
        try {
          value = JSON.parse(text);
        } catch (err) {
          issues.push({ line, kind: 'invalid-json', message: jsonLineMessage(err), excerpt: clip(text) });
          return;
        }
        if (isObject(value)) {
          rows.push(value);
          rowLines.push(line);
        } else {
          issues.push({
            line,
            kind: 'not-object',
            message: `${describeValue(value)}, not an object: each line must be an object such as ${EXAMPLE_OBJECT}`,
            excerpt: clip(text),
          });
        }
      },
      tooLong(line, size, head) {
        sawContent = true;
        issues.push({
          line,
          kind: 'line-too-long',
          message: `line is ${formatBytes(size)}, over the ${formatBytes(opts.maxLineBytes)} limit: split it or raise the limit`,
          // A fresh streaming decode leaves out a character cut in half at the end of the head.
          excerpt: clip(new TextDecoder().decode(head, { stream: true })),
        });
      },
    },
    opts.maxLineBytes,
    opts.afterChunk && ((bytesRead) => opts.afterChunk?.(bytesRead, rows.length, issues.length)),
  );

  if (!sawContent) return emptyFile(EMPTY_MESSAGE);
  return { rows, rowLines, issues, records: rows.length + issues.length };
}

function isBlank(text: string): boolean {
  // Most lines start with "{": no need to trim those.
  return text.charCodeAt(0) !== 0x7b && text.trim() === '';
}

function jsonLineMessage(err: unknown): string {
  const { reason, position, column } = describeJsonError(err);
  const col = position !== undefined ? position + 1 : column;
  return `invalid JSON: ${reason}${col !== undefined ? ` at column ${col}` : ''}`;
}
