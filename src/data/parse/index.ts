import type { ParseProgress, ParseResult, SourceFormat } from '../types';
import { parseCsv } from './csv';
import { decodeText } from './decode';
import { detectFormat } from './detect';
import { type Collected, EMPTY_MESSAGE, emptyFile } from './issues';
import { parseJsonArray } from './jsonArray';
import { parseJsonl } from './jsonl';
import { Progress } from './progress';
import { readAll, readChunks, readHead, throwIfAborted } from './read';
import { parseText } from './text';

export { detectFormat };

/** Longer JSONL lines are reported and skipped: one bad line must not exhaust the worker's memory. */
export const DEFAULT_MAX_LINE_BYTES = 1024 * 1024;

export interface ParseOptions {
  /** File name, for format detection by extension (a File's own name is used when this is absent). */
  name?: string;
  /** Overrides detection. */
  format?: SourceFormat;
  /** JSONL only. Defaults to DEFAULT_MAX_LINE_BYTES. */
  maxLineBytes?: number;
  /** Called after each 512 KiB read, and once at the end with bytesRead === totalBytes. */
  onProgress?: (p: ParseProgress) => void;
  /** Aborting rejects the parse with a DOMException named 'AbortError'. */
  signal?: AbortSignal;
}

/**
 * Reads a dataset file (or pasted text, taken as UTF-8) into rows. Problems with the data are
 * returned as issues, never thrown: a file with bad lines still yields its good ones.
 */
export async function parseDataset(source: Blob | string, opts: ParseOptions = {}): Promise<ParseResult> {
  const { signal } = opts;
  throwIfAborted(signal);
  const blob = typeof source === 'string' ? new Blob([source]) : source;
  const name = opts.name ?? (blob instanceof File ? blob.name : undefined);
  const format = opts.format ?? detectFormat(name, await readHead(blob));
  const progress = new Progress(blob.size, opts.onProgress);

  let collected: Collected;
  if (format === 'jsonl') {
    collected = await parseJsonl(readChunks(blob, signal), {
      maxLineBytes: opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES,
      afterChunk: (bytesRead, rows, issues) => progress.update(bytesRead, rows, issues),
    });
  } else {
    const { text, badLines } = decodeText(await readAll(blob, progress, signal));
    if (text.trim() === '') collected = emptyFile(EMPTY_MESSAGE);
    else if (format === 'json') collected = parseJsonArray(text, badLines);
    else if (format === 'csv') collected = parseCsv(text, badLines, name?.toLowerCase().endsWith('.tsv') ? '\t' : undefined);
    else collected = parseText(text, badLines);
  }
  progress.done(collected.rows.length, collected.issues.length);
  return { format, ...collected, bytes: blob.size };
}
