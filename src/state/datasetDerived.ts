/**
 * What the data panel shows, derived from the dataset: the mapped examples and their issues, the
 * rendered text, stats, the split and the filtered row list. Each step is memoised on its inputs
 * (by reference), so typing in the search box does not re-render 200,000 templates, and the
 * lower-cased search text is built once per rendering.
 */
import { checkMapping, fieldNames, mapRows, rejectedExample } from '../data/mapping';
import { checkSplit, splitIds } from '../data/split';
import { computeStats, exampleKey, type DatasetStats } from '../data/stats';
import { checkTemplate, renderSegments, segmentsText, type TemplateError } from '../data/templates';
import type { FieldMapping, MappedExample, MappingIssue, Segment, SplitSettings, TemplateSpec } from '../data/types';
import type { DataRow, Dataset, MeasureState, RowFilter } from './datasetStore';
import { memoLast } from './memo';

export interface Mapped {
  /** examples[i] belongs to rows[i]; null where the row has an issue under this mapping. */
  examples: (MappedExample | null)[];
  issues: MappingIssue[];
  /** The mapping itself is incomplete (a required slot unmapped); then nothing maps. */
  mappingError: string | null;
  fields: string[];
}

export const selectMapped = memoLast((rows: DataRow[], mapping: FieldMapping | null): Mapped => {
  const data = rows.map((r) => r.data);
  const fields = fieldNames(data);
  const mappingError = mapping ? checkMapping(mapping) : 'No known field names were found: pick a format and map its fields.';
  if (!mapping || mappingError) return { examples: rows.map(() => null), issues: [], mappingError, fields };
  return { ...mapRows(data, mapping), mappingError: null, fields };
});

export interface Rendered {
  /** segments[i] for rows[i]; null where the row is unusable or the template is invalid. For preference pairs, the chosen answer's. */
  segments: (Segment[] | null)[];
  /** Preference pairs: the rejected answer's rendering of each row (null where segments is), else absent. */
  rejected?: (Segment[] | null)[];
  templateError: TemplateError | null;
  /** Rows the template cannot render, and why (a custom placeholder naming a field this row lacks). */
  rowErrors: Map<number, string>;
}

export const selectRendered = memoLast((mapped: Mapped, template: TemplateSpec, kind: FieldMapping['kind'] | undefined): Rendered => {
  const rowErrors = new Map<number, string>();
  const templateError = checkTemplate(template, mapped.fields, kind);
  if (templateError) return { segments: mapped.examples.map(() => null), templateError, rowErrors };
  const segments = mapped.examples.map((e, i) => {
    if (!e) return null;
    try {
      return renderSegments(e, template, kind);
    } catch (err) {
      rowErrors.set(i, (err as Error).message);
      return null;
    }
  });
  if (kind !== 'preference') return { segments, templateError: null, rowErrors };
  // The rejected side renders with the same template; a row that renders one side renders the other.
  const rejected = mapped.examples.map((e, i) => (e && segments[i] ? renderSegments(rejectedExample(e), template, kind) : null));
  return { segments, rejected, templateError: null, rowErrors };
});

/** Why row i cannot be trained on, or null: the mapping's issue, else the template's. */
export const selectRowProblems = memoLast((mapped: Mapped, rendered: Rendered): Map<number, string> => {
  const out = new Map(rendered.rowErrors);
  for (const issue of mapped.issues) out.set(issue.row, issue.message);
  return out;
});

/** Row id → index in rows. */
export const selectRowIndex = memoLast((rows: DataRow[]): Map<number, number> => new Map(rows.map((r, i) => [r.id, i])));

/** Rows that repeat another exactly (every member of a duplicate group; not capped like the stats' list). */
export const selectDuplicateRows = memoLast((mapped: Mapped): Set<number> => {
  const first = new Map<string, number>();
  const out = new Set<number>();
  mapped.examples.forEach((e, i) => {
    if (!e) return;
    const key = exampleKey(e);
    const j = first.get(key);
    if (j === undefined) first.set(key, i);
    else out.add(i).add(j);
  });
  return out;
});

/** Each row's searchable text, lower-cased once per rendering rather than per keystroke. */
const selectSearchText = memoLast((rows: DataRow[], rendered: Rendered): string[] =>
  rows.map((row, i) => {
    const seg = rendered.segments[i];
    return (seg ? segmentsText(seg) : JSON.stringify(row.data)).toLowerCase();
  }),
);

/** Indices of usable rows (mapped and rendered), in row order. */
export const selectUsable = memoLast((rendered: Rendered): number[] => {
  const out: number[] = [];
  rendered.segments.forEach((s, i) => s && out.push(i));
  return out;
});

/** Token lengths (EOS included when appended) of each row, when the worker's count matches this text. */
export const selectLengths = memoLast((rendered: Rendered, measure: MeasureState, appendEos: boolean): Int32Array | null => {
  if (measure.status !== 'done' || measure.of !== rendered.segments) return null;
  return appendEos ? measure.lengths.map((n) => n + 1) : measure.lengths;
});

export const selectStats = memoLast(
  (mapped: Mapped, usable: number[], lengths: Int32Array | null, maxLength: number): DatasetStats | null =>
    lengths ? computeStats(usable.map((i) => ({ row: i, example: mapped.examples[i] as MappedExample, fullLength: lengths[i] })), maxLength) : null,
);

export interface SplitView {
  /** Row ids in each split, in shuffled order. */
  train: number[];
  test: number[];
  /** The split each row id belongs to. */
  of: Map<number, 'train' | 'test'>;
  error: string | null;
}

export const selectSplit = memoLast((rows: DataRow[], usable: number[], s: SplitSettings): SplitView => {
  const error = checkSplit(usable.length, s);
  if (error) return { train: [], test: [], of: new Map(), error };
  const { train, test } = splitIds(
    usable.map((i) => rows[i].id),
    s,
  );
  const of = new Map<number, 'train' | 'test'>();
  for (const id of train) of.set(id, 'train');
  for (const id of test) of.set(id, 'test');
  return { train, test, of, error: null };
});

/** Everything above for one dataset, in one call (components read what they need). */
export function deriveDataset(d: Dataset, measure: MeasureState) {
  const mapped = selectMapped(d.rows, d.mapping);
  const rendered = selectRendered(mapped, d.template, d.mapping?.kind);
  const usable = selectUsable(rendered);
  const lengths = selectLengths(rendered, measure, d.tokenize.appendEos);
  const stats = selectStats(mapped, usable, lengths, d.tokenize.maxLength);
  const split = selectSplit(d.rows, usable, d.split);
  return { mapped, rendered, usable, lengths, stats, split };
}
export type DerivedDataset = ReturnType<typeof deriveDataset>;

/** Row indices that pass the filter and contain the query (case-insensitive, in any field). */
export const selectVisibleRows = memoLast(
  (d: Dataset, mapped: Mapped, rendered: Rendered, lengths: Int32Array | null, split: SplitView, query: string, filter: RowFilter): number[] => {
    const q = query.trim().toLowerCase();
    const text = q ? selectSearchText(d.rows, rendered) : null;
    const dup = filter === 'duplicates' ? selectDuplicateRows(mapped) : null;
    const promptless = d.mapping?.kind === 'text';
    const out: number[] = [];
    d.rows.forEach((row, i) => {
      const seg = rendered.segments[i];
      const ex = mapped.examples[i];
      const pass =
        filter === 'all' ||
        (filter === 'unusable' && !seg) ||
        (filter === 'duplicates' && dup!.has(i)) ||
        (filter === 'truncated' && !!seg && !!lengths && lengths[i] > d.tokenize.maxLength) ||
        (filter === 'blank' && !!ex && !ex.messages && (ex.output.trim() === '' || (!promptless && ex.prompt.trim() === ''))) ||
        ((filter === 'train' || filter === 'test') && split.of.get(row.id) === filter);
      if (pass && (!text || text[i].includes(q))) out.push(i);
    });
    return out;
  },
);

/** The rows of one split, rendered, for export and training (`side` 'rejected': preference pairs' rejected answers). */
export function splitSegments(d: Dataset, derived: DerivedDataset, which: 'all' | 'train' | 'test', side: 'chosen' | 'rejected' = 'chosen'): Segment[][] {
  const rendered = side === 'rejected' ? derived.rendered.rejected! : derived.rendered.segments;
  if (which === 'all') return derived.usable.map((i) => rendered[i] as Segment[]);
  const index = selectRowIndex(d.rows);
  return derived.split[which].map((id) => rendered[index.get(id)!] as Segment[]);
}
