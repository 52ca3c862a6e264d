/** What the batch-evaluation table and summary show, computed from the stored batch (pure). */
import type { EvalExample, EvalOutput } from '../../eval/evalTypes';
import type { ErrorTag } from '../../eval/errorTags';
import { scoreRow, summarizeAnswered, type ModelSummary, type RowScores } from '../../eval/report';
import type { BatchEval, NamedModel, RowRating, TableFilter } from '../../state/evalStore';

export interface Cell {
  output: EvalOutput;
  scores: RowScores;
}

export interface TableRow {
  example: EvalExample;
  /** Position in the test split. */
  index: number;
  /** One per model; null until that model answered. */
  cells: (Cell | null)[];
}

export function tableRows(b: BatchEval): TableRow[] {
  return b.examples.map((example, index) => ({
    example,
    index,
    cells: b.models.map((_, m) => {
      const output = b.outputs[m]?.[index];
      return output ? { output, scores: scoreRow(example, output, b.guardrails) } : null;
    }),
  }));
}

/** Per model, over the examples it has answered; null before the first answer. */
export function modelSummaries(b: BatchEval): (ModelSummary | null)[] {
  return b.models.map((_, m) => summarizeAnswered(b.examples, b.outputs[m] ?? [], b.guardrails));
}

export const SORT_KEYS = ['f1', 'rougeL', 'exact'] as const;
export type SortMetric = (typeof SORT_KEYS)[number];

/** Rows matching the search (prompt, target or any output) and the tag filter, sorted as asked. */
export function visibleRows(rows: TableRow[], models: NamedModel[], f: TableFilter): TableRow[] {
  const q = f.query.trim().toLowerCase();
  const tagModel = f.tagModel === null ? -1 : models.findIndex((m) => m.id === f.tagModel);
  let out = rows.filter((r) => {
    if (f.tag && !r.cells.some((c, m) => c?.scores.tags.includes(f.tag as ErrorTag) && (tagModel < 0 || m === tagModel))) return false;
    if (!q) return true;
    return [r.example.prompt, r.example.target, ...r.cells.map((c) => c?.output.text ?? '')].some((t) => t.toLowerCase().includes(q));
  });
  if (f.sort) {
    // "<model id>:<metric>", split at the last colon: a best checkpoint's id ("run:best") has one too.
    const at = f.sort.key.lastIndexOf(':');
    const model = at < 0 ? f.sort.key : f.sort.key.slice(0, at);
    const metric = f.sort.key.slice(at + 1);
    const m = models.findIndex((x) => x.id === model);
    const value = (r: TableRow) => (m >= 0 ? (r.cells[m]?.scores[metric as SortMetric] ?? -1) : r.index);
    out = [...out].sort((a, b) => (f.sort!.desc ? value(b) - value(a) : value(a) - value(b)) || a.index - b.index);
  }
  return out;
}

/** A row's rating as one readable string for the exports ("good: Base · bad: Run 1 · better: Run 1"). */
export function ratingText(r: RowRating | undefined, models: NamedModel[]): string {
  if (!r) return '';
  const name = (id: string) => models.find((m) => m.id === id)?.label ?? id;
  const parts = Object.entries(r.verdicts).map(([id, v]) => `${v}: ${name(id)}`);
  if (r.better) parts.push(r.better === 'tie' ? 'better: tie' : `better: ${name(r.better)}`);
  return parts.join(' · ');
}

/** The batch as the exports want it: outputs by model label, ratings as text; unanswered examples left out. */
export function exportInput(b: BatchEval, ratings: Record<string, RowRating>) {
  const answered = b.examples.map((_, i) => b.models.every((__, m) => b.outputs[m]?.[i]));
  const examples = b.examples.filter((_, i) => answered[i]);
  const outputsByModel = Object.fromEntries(b.models.map((m, mi) => [m.label, b.outputs[mi].filter((_, i) => answered[i]) as EvalOutput[]]));
  const ratingTexts = Object.fromEntries(examples.map((ex) => [ex.id, ratingText(ratings[ex.id], b.models)]));
  return { examples, outputsByModel, ratingTexts };
}
