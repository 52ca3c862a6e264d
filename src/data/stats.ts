/** Dataset statistics for the data page: token lengths, truncation, duplicates, empty fields. */
import type { MappedExample } from './types';

export interface HistogramBin {
  start: number; // first length in the bin
  end: number; // exclusive: the bin holds start ≤ length < end
  count: number;
}

export interface LengthHistogram {
  bins: HistogramBin[];
  /** The truncation limit, for a marker line on the same axis as the bins. */
  maxLength: number;
}

export interface DatasetStats {
  examples: number;
  tokens: { min: number; max: number; mean: number; median: number; p95: number; total: number };
  /** Over fullLength: about `bins` bins of equal integer width from the shortest example. */
  histogram: LengthHistogram;
  /** Examples with fullLength > maxLength. */
  truncated: number;
  /** truncated / examples (0 when there are none). */
  truncatedShare: number;
  /** Rows that repeat an earlier one exactly (after trim); groups of their `row`s (the first 100 groups). */
  duplicates: { rows: number; groups: number[][] };
  /** Rows whose non-empty (prompt, input) repeats an earlier row's but which are not exact duplicates (a conflicting answer). */
  duplicatePrompts: number;
  /** Rows where the field is blank after trim. */
  emptyFields: { prompt: number; input: number; output: number };
}

export interface StatsItem {
  row: number;
  example: MappedExample;
  fullLength: number;
}

const MAX_GROUPS = 100;

/** Linear interpolation between order statistics (numpy.percentile's default); `sorted` ascending. */
function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  const x = (sorted.length - 1) * p;
  const lo = Math.floor(x);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (x - lo);
}

function histogram(sorted: Float64Array, maxLength: number, bins: number): LengthHistogram {
  if (sorted.length === 0) return { bins: [], maxLength };
  const min = sorted[0];
  const span = sorted[sorted.length - 1] - min + 1; // lengths are integers: [min, max] holds span values
  const width = Math.max(1, Math.ceil(span / bins));
  const out: HistogramBin[] = [];
  for (let start = min; start < min + span; start += width) out.push({ start, end: start + width, count: 0 });
  for (const v of sorted) out[Math.floor((v - min) / width)].count++;
  return { bins: out, maxLength };
}

/** Exact-duplicate key: what the template sees, trimmed (chat: every turn). */
export function exampleKey(e: MappedExample): string {
  if (e.messages) return JSON.stringify(e.messages.map((m) => [m.role, m.content.trim()]));
  return JSON.stringify([e.prompt.trim(), e.input.trim(), e.output.trim()]);
}

export function computeStats(items: StatsItem[], maxLength: number, bins = 20): DatasetStats {
  const n = items.length;
  const lengths = new Float64Array(n); // (n)
  let total = 0;
  let truncated = 0;
  const emptyFields = { prompt: 0, input: 0, output: 0 };
  const groups = new Map<string, number[]>(); // exact key → rows, in order of first appearance
  const prompts = new Set<string>();
  let duplicateRows = 0;
  let duplicatePrompts = 0;
  for (let i = 0; i < n; i++) {
    const { row, example: e, fullLength } = items[i];
    lengths[i] = fullLength;
    total += fullLength;
    if (fullLength > maxLength) truncated++;
    const prompt = e.prompt.trim();
    if (prompt === '') emptyFields.prompt++;
    if (e.input.trim() === '') emptyFields.input++;
    if (e.output.trim() === '') emptyFields.output++;
    const key = exampleKey(e);
    const group = groups.get(key);
    if (group) {
      group.push(row);
      duplicateRows++;
    } else {
      groups.set(key, [row]);
    }
    if (prompt !== '') {
      const promptKey = JSON.stringify([prompt, e.input.trim()]);
      if (prompts.has(promptKey) && !group) duplicatePrompts++;
      prompts.add(promptKey);
    }
  }
  const sorted = lengths.sort();
  const repeated: number[][] = [];
  for (const g of groups.values()) {
    if (repeated.length === MAX_GROUPS) break;
    if (g.length > 1) repeated.push(g);
  }
  return {
    examples: n,
    tokens: {
      min: n ? sorted[0] : 0,
      max: n ? sorted[n - 1] : 0,
      mean: n ? total / n : 0,
      median: percentile(sorted, 0.5),
      p95: percentile(sorted, 0.95),
      total,
    },
    histogram: histogram(sorted, maxLength, bins),
    truncated,
    truncatedShare: n ? truncated / n : 0,
    duplicates: { rows: duplicateRows, groups: repeated },
    duplicatePrompts,
    emptyFields,
  };
}
