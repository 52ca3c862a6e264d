/** Rendered examples → JSONL for use outside the studio (e.g. TRL's SFTTrainer datasets). */
import type { Segment } from './types';

export type ExportFormat = 'prompt-completion' | 'text';

function toRecord(segments: Segment[], format: ExportFormat): Record<string, string> {
  const text = (list: Segment[]) => list.map((s) => s.text).join('');
  if (format === 'text') return { text: text(segments) };
  const firstTrain = segments.findIndex((s) => s.train);
  const split = firstTrain < 0 ? segments.length : firstTrain;
  // Later untrained segments (e.g. a second user turn) stay in the completion, in order.
  return { prompt: text(segments.slice(0, split)), completion: text(segments.slice(split)) };
}

/**
 * One JSONL line per example: {"prompt": the untrained text before the first trained segment,
 * "completion": the rest} or {"text": the whole rendered text}. JSON.stringify keeps non-ASCII as is.
 */
export function toJsonl(items: Segment[][], format: ExportFormat): string {
  if (items.length === 0) return '';
  return items.map((segments) => JSON.stringify(toRecord(segments, format))).join('\n') + '\n';
}
