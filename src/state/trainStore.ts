/**
 * Training as the page sees it: the settings being edited, the runs (every one ever started
 * here, with its config and curves; kept in IndexedDB), and which run is live in the engine.
 */
import { create } from 'zustand';
import type { TrainEstimate } from '../protocol/protocol';
import { DEFAULT_TRAIN } from '../train/presets';
import type { EvalMetrics, StepMetrics, TrainConfig } from '../train/types';
import type { TokenizeSettings } from '../data/types';

export type RunStatus = 'running' | 'pausing' | 'paused' | 'stopping' | 'stopped' | 'finished' | 'early-stop' | 'failed' | 'interrupted';

export interface RunRecord {
  id: string;
  /** "Run 3", numbered in the order runs were started. */
  name: string;
  createdAt: number;
  /** The base model, as the model card names it. */
  model: string;
  dataset: { name: string; train: number; test: number };
  config: TrainConfig;
  tokenize: TokenizeSettings;
  status: RunStatus;
  steps: StepMetrics[];
  evals: EvalMetrics[];
  samples: { step: number; text: string }[];
  samplePrompt: string;
  totalSteps: number;
  lastCheckpoint: { step: number; bytes: number } | null;
  bestEval: EvalMetrics | null;
  /** Why the run stopped when it was not the user's doing (NaN, lost device, closed tab), or a storage warning. */
  message: string | null;
}

export type EstimateState =
  | { status: 'idle'; reason: string }
  | { status: 'loading' }
  | { status: 'ready'; value: TrainEstimate }
  | { status: 'failed'; message: string };

export interface TrainState {
  draft: TrainConfig;
  presetId: string | null;
  runs: RunRecord[];
  /** The run whose weights the engine holds (the playground's "fine-tuned" model). */
  trainedRunId: string | null;
  estimate: EstimateState;
  /** Runs whose curves are overlaid in the comparison chart. */
  compare: string[];
}

export const initialTrainState = (): TrainState => ({
  draft: DEFAULT_TRAIN,
  presetId: 'quick',
  runs: [],
  trainedRunId: null,
  estimate: { status: 'idle', reason: 'Load a model to see the memory estimate.' },
  compare: [],
});

export const useTrain = create<TrainState>()(initialTrainState);

export const isLive = (s: RunStatus) => s === 'running' || s === 'pausing' || s === 'stopping';
