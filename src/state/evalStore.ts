/**
 * Evaluation as the page sees it: which models are compared, the side-by-side outputs, the last
 * batch evaluation with its ratings, the arena's votes and the ARC results. The batch, ratings,
 * votes and ARC results are kept in IndexedDB with the project.
 */
import type { PreferencePair } from '../eval/preferenceVotes';
import { create } from 'zustand';
import type { ArcDoc } from '../eval/arcDocs';
import type { EvalExample, EvalOutput } from '../eval/evalTypes';
import type { Vote } from '../eval/elo';
import type { ErrorTag } from '../eval/errorTags';
import type { Similarity } from '../eval/similarity';

export interface NamedModel {
  /** A ModelChoice id ('base', a run id, `${runId}:best`). */
  id: string;
  label: string;
}

export interface Column extends NamedModel {
  status: 'waiting' | 'running' | 'done' | 'failed' | 'cancelled';
  text: string;
  tokens: number;
  tokensPerSecond: number | null;
  error: string | null;
}

export interface SideBySide {
  prompt: string;
  /** Send the text as typed instead of wrapping it in the run's template. */
  raw: boolean;
  /** The test example the prompt came from, with the answer it trained on. */
  picked: EvalExample | null;
  /** The exact text sent last (after the template). */
  sent: string | null;
  columns: Column[];
}

export type JobStatus = 'idle' | 'running' | 'done' | 'cancelled' | 'failed';

export interface BatchEval {
  status: JobStatus;
  message: string | null;
  models: NamedModel[];
  examples: EvalExample[];
  /** [model][example]; null until generated. */
  outputs: (EvalOutput | null)[][];
  /** Per model; null while not measured yet. */
  similarity: (Similarity | null)[];
  guardrails: string[];
  finishedAt: number | null;
}

export interface RowRating {
  /** Per model id. */
  verdicts: Record<string, 'good' | 'bad'>;
  /** The model id judged better than the others, or 'tie'. */
  better: string | null;
}

export interface TableFilter {
  query: string;
  tag: ErrorTag | null;
  /** The model whose tags the tag filter reads. */
  tagModel: string | null;
  sort: { key: string; desc: boolean } | null;
}

export interface ArenaMatch {
  example: EvalExample;
  a: NamedModel;
  b: NamedModel;
  outA: string | null;
  outB: string | null;
  status: 'generating' | 'ready' | 'failed';
  error: string | null;
}

export interface ArcRun {
  status: JobStatus;
  message: string | null;
  source: { name: string; docs: ArcDoc[]; problems: string[] } | null;
  progress: { model: number; done: number; total: number } | null;
  results: (NamedModel & { acc: number; acc_norm: number; n: number })[];
}

export interface EvalState {
  /** The models compared (side by side, batch evaluation, ARC), ModelChoice ids in order. */
  selected: string[];
  /** False until the person ticks a model: till then the base and the newest run are compared. */
  selectedByUser: boolean;
  sideBySide: SideBySide;
  batch: BatchEval;
  /** Per example id. */
  ratings: Record<string, RowRating>;
  filter: TableFilter;
  /** The arena: votes (for the ratings), the model labels, the match on screen, and each decided vote's answers as a preference pair. */
  arena: { votes: Vote[]; labels: Record<string, string>; match: ArenaMatch | null; pairs: PreferencePair[] };
  arc: ArcRun;
}

export const emptyBatch = (): BatchEval => ({ status: 'idle', message: null, models: [], examples: [], outputs: [], similarity: [], guardrails: [], finishedAt: null });

export const initialEvalState = (): EvalState => ({
  selected: [],
  selectedByUser: false,
  sideBySide: { prompt: '', raw: false, picked: null, sent: null, columns: [] },
  batch: emptyBatch(),
  ratings: {},
  filter: { query: '', tag: null, tagModel: null, sort: null },
  arena: { votes: [], labels: {}, match: null, pairs: [] },
  arc: { status: 'idle', message: null, source: null, progress: null, results: [] },
});

export const useEval = create<EvalState>()(initialEvalState);

/** What is kept with the project across reloads. */
export type SavedEval = Pick<EvalState, 'batch' | 'ratings' | 'arena' | 'arc'>;
