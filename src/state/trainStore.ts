/**
 * Training as the page sees it: the settings being edited, the runs (every one ever started
 * here, with its config and curves; kept in IndexedDB), and which run is live in the engine.
 */
import { create } from 'zustand';
import type { TrainEstimate } from '../protocol/protocol';
import { DEFAULT_TRAIN } from '../train/presets';
import type { EvalMetrics, StepMetrics, TrainConfig } from '../train/types';
import type { FieldMapping, TemplateSpec, TokenizeSettings } from '../data/types';

/** 'imported': a PEFT adapter trained elsewhere, listed as a run so it can be compared and exported. */
export type RunStatus = 'running' | 'pausing' | 'paused' | 'stopping' | 'stopped' | 'finished' | 'early-stop' | 'failed' | 'interrupted' | 'imported';

export interface RunRecord {
  id: string;
  /** "Run 3", numbered in the order runs were started. */
  name: string;
  createdAt: number;
  /** The base model, as the model card names it. */
  model: string;
  /** The base model's fingerprint (ModelInfo.fingerprint): Resume refuses another model of the same name. Absent in older runs. */
  baseFingerprint?: string;
  dataset: { name: string; train: number; test: number };
  /** The template and mapping it trained with, so the Evaluate tab prompts it the same way. Absent in older runs. */
  template?: { spec: TemplateSpec; mapping: FieldMapping | null };
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
  /** Part of a data-amount sweep: it trains on the first `fraction` of the train split. */
  sweep?: { id: string; fraction: number };
}

/** The fractions of the train split a data-amount sweep trains on, as the course suggests. */
export const SWEEP_FRACTIONS = [0.1, 0.25, 0.5, 1] as const;

/** Examples a sweep run trains on: at least one. */
export const sweepCount = (trainExamples: number, fraction: number): number => Math.max(1, Math.round(trainExamples * fraction));

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
  /** Runs another tab of the studio owns (live or paused there): no Pause, Resume or Delete here. */
  elsewhere: string[];
  /** Why runs are not being saved (a failed read or write of the browser's storage), or null. */
  storageProblem: string | null;
  /** Start anyway when the estimate says the run will not fit (reset by any change of the settings). */
  tryAnyway: boolean;
  /** The live run has been quiet far longer than its steps take (see the watchdog in createTrainActions). */
  stalled: { runId: string; quietMs: number; typicalMs: number | null } | null;
}

export const initialTrainState = (): TrainState => ({
  draft: DEFAULT_TRAIN,
  presetId: 'quick',
  runs: [],
  trainedRunId: null,
  estimate: { status: 'idle', reason: 'Load a model to see the memory estimate.' },
  compare: [],
  elsewhere: [],
  storageProblem: null,
  tryAnyway: false,
  stalled: null,
});

export const useTrain = create<TrainState>()(initialTrainState);

export const isLive = (s: RunStatus) => s === 'running' || s === 'pausing' || s === 'stopping';

/** Paused, stopped and interrupted runs can continue; finished ones are done. */
export const canResume = (s: RunStatus) => s === 'paused' || s === 'stopped' || s === 'interrupted';

export interface TrainContext {
  engineReady: boolean;
  /** The loaded model's label, or null. */
  model: string | null;
  /** Why the Data tab's dataset cannot train, or null. */
  dataProblem: string | null;
  /** Some run is live (running, pausing, stopping). */
  anyLive: boolean;
  /** Runs another tab owns (TrainState.elsewhere). */
  elsewhere: readonly string[];
  /** The loaded model's fingerprint, when known. */
  fingerprint?: string | null;
}

/** Why this run cannot resume now, or null when Resume works. */
export function resumeBlocker(run: RunRecord, ctx: TrainContext): string | null {
  if (ctx.elsewhere.includes(run.id)) return `This run is ${run.status} in another tab of the studio: ${run.status === 'paused' ? 'resume' : 'pause or stop'} it there.`;
  if (run.status === 'imported') return 'An imported adapter has no training to resume.';
  if (!canResume(run.status)) return run.status === 'finished' || run.status === 'early-stop' ? 'This run is done.' : 'Only a paused, stopped or interrupted run can resume.';
  if (ctx.anyLive) return 'A run is in progress: pause or stop it first.';
  if (!ctx.engineReady) return 'The compute engine is starting.';
  if (!ctx.model) return `Load ${run.model} to resume this run.`;
  if (run.model !== ctx.model) return `This run trained ${run.model}: load that model to resume it.`;
  if (run.baseFingerprint && ctx.fingerprint && run.baseFingerprint !== ctx.fingerprint) {
    return `This run trained ${run.model} with weights ${run.baseFingerprint.slice(0, 8)}, but the loaded ${ctx.model} has weights ${ctx.fingerprint.slice(0, 8)} (another revision or file of that name): load the exact base it trained to resume it.`;
  }
  if (run.status !== 'paused' && !run.lastCheckpoint) return 'This run saved no checkpoint to resume from.';
  return ctx.dataProblem;
}

