/**
 * The dataset the studio trains on, with its mapping, template and settings, and what the data
 * panel shows around it. Kept apart from the engine's store: the two change independently, and the
 * dataset is what survives a reload (IndexedDB).
 */
import type { ChatTemplate } from '../data/chatTemplate';
import { create } from 'zustand';
import type { TokenView } from '../protocol/dataProtocol';
import type { FieldMapping, ParseIssue, ParseProgress, ParseResult, Row, SourceFormat, SplitSettings, TemplateSpec, TokenizeSettings } from '../data/types';

/** A row with an id that survives edits and deletes (undo, the split and the selection use it). */
export interface DataRow {
  id: number;
  /** 1-based line in the source file; null for rows added in the studio. */
  line: number | null;
  data: Row;
}

export interface Dataset {
  name: string;
  source: 'sample' | 'file' | 'paste';
  format: SourceFormat;
  rows: DataRow[];
  nextId: number;
  /** Lines skipped at import, so the counts keep saying what was left out (at most SKIPPED_KEPT listed). */
  skipped: ParseIssue[];
  skippedCount: number;
  /** null when no known field names were found: the user picks. */
  mapping: FieldMapping | null;
  template: TemplateSpec;
  tokenize: TokenizeSettings;
  split: SplitSettings;
}

export type ImportState =
  | { status: 'idle' }
  | { status: 'parsing'; name: string; progress: ParseProgress | null }
  /** Parsed with problems: the user skips the bad lines or cancels. */
  | { status: 'review'; name: string; source: Dataset['source']; result: ParseResult }
  | { status: 'failed'; name: string; message: string };

export type MeasureState =
  | { status: 'idle' }
  | { status: 'running'; done: number; total: number }
  /** `of` is the rendered list the lengths belong to (stale lengths are never shown against new text). */
  | { status: 'done'; of: unknown; lengths: Int32Array }
  | { status: 'failed'; message: string };

export type TokenViewState =
  | { status: 'idle' }
  | { status: 'loading'; rowId: number }
  | { status: 'ready'; rowId: number; view: TokenView }
  | { status: 'failed'; rowId: number; message: string };

export type RowFilter = 'all' | 'unusable' | 'duplicates' | 'truncated' | 'blank' | 'train' | 'test';

/**
 * One undo step. A row change keeps only the rows, so undoing it leaves later settings changes
 * (template, max length…) alone; an import keeps the whole previous dataset.
 */
export type HistoryEntry =
  | { label: string; kind: 'rows'; rows: DataRow[]; nextId: number }
  | { label: string; kind: 'dataset'; dataset: Dataset };

export interface DatasetState {
  dataset: Dataset | null;
  /** Loading the saved or sample dataset at start. */
  restoring: boolean;
  import: ImportState;
  measure: MeasureState;
  tokenView: TokenViewState;
  query: string;
  filter: RowFilter;
  selectedId: number | null;
  /** Undo stack, newest last. */
  history: HistoryEntry[];
  /** The dataset on screen is the one in IndexedDB (a reload would bring it back). */
  saved: boolean;
  /** Why the dataset could not be saved in the browser (it still works until the tab closes). */
  storageError: string | null;
  /** Whose tokenizer counts and shows the tokens: the loaded model's, or the bundled Pythia one before a model with its own is loaded. */
  tokenizer: 'model' | 'bundled';
  /** The loaded model's chat template (the 'model' template renders with it), or null. */
  modelChat: ChatTemplate | null;
  /** Why the loaded model's chat template is not used (it failed its trial rendering), or null. */
  modelChatProblem: string | null;
}

export const SKIPPED_KEPT = 1000;
export const HISTORY_LIMIT = 50;

export const initialDatasetState = (): DatasetState => ({
  dataset: null,
  restoring: true,
  import: { status: 'idle' },
  measure: { status: 'idle' },
  tokenView: { status: 'idle' },
  query: '',
  filter: 'all',
  selectedId: null,
  history: [],
  saved: false,
  storageError: null,
  tokenizer: 'bundled',
  modelChat: null,
  modelChatProblem: null,
});

export const useDataset = create<DatasetState>()(initialDatasetState);
