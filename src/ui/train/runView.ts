/** Pure reading of runs for the panels: which run to show, what it can do next, its pace. */
// The pure store module, not the state index: that one starts the app's workers on import.
import { isLive, type RunRecord, type RunStatus } from '../../state/trainStore';
import type { TokenizeSettings } from '../../data/types';
import { DEFAULT_DPO, estimateSeqLen } from '../../state/trainOptions';
import type { StepMetrics, TrainConfig } from '../../state/trainOptions';


/** The live run, else the most recently started one; null when there are none. */
export function currentRun(runs: readonly RunRecord[]): RunRecord | null {
  const live = runs.find((r) => isLive(r.status));
  if (live) return live;
  return runs.reduce<RunRecord | null>((a, r) => (!a || r.createdAt >= a.createdAt ? r : a), null);
}

/** Newest first, for the history table. */
export const newestFirst = (runs: readonly RunRecord[]): RunRecord[] => [...runs].sort((a, b) => b.createdAt - a.createdAt);

export const lastStep = (run: RunRecord): StepMetrics | null => run.steps[run.steps.length - 1] ?? null;

/** Steps done of the total: "12 / 30" (the total is "?" until the first step reports it). */
export function stepProgress(run: RunRecord): { done: number; total: number; text: string } {
  const done = lastStep(run)?.step ?? 0;
  const total = run.totalSteps || lastStep(run)?.totalSteps || 0;
  return { done, total, text: `${done} / ${total || '?'}` };
}

/** Training time per optimizer step so far (evals and samples not counted), or null before the first step. */
export function meanStepMs(steps: readonly StepMetrics[]): number | null {
  const last = steps[steps.length - 1];
  return last && last.step > 0 && last.elapsedMs > 0 ? last.elapsedMs / last.step : null;
}

export const canPause = (s: RunStatus) => s === 'running';

/** The status badge's words: "running", or "running in another tab" for a run another tab owns. */
export const statusText = (run: RunRecord, ctx: Pick<TrainContext, 'elsewhere'>): string => (ctx.elsewhere.includes(run.id) ? `${run.status} in another tab` : run.status);

// The resume rule lives in state, where resume() enforces it; the panels show it.
export { canResume, resumeBlocker, type TrainContext } from '../../state/trainStore';
import type { TrainContext } from '../../state/trainStore';

export type Tone = 'live' | 'ok' | 'warn' | 'bad' | 'idle';

const TONES: Record<RunStatus, Tone> = {
  running: 'live',
  pausing: 'live',
  stopping: 'live',
  paused: 'warn',
  interrupted: 'warn',
  stopped: 'idle',
  finished: 'ok',
  'early-stop': 'ok',
  imported: 'ok',
  failed: 'bad',
};
export const statusTone = (s: RunStatus): Tone => TONES[s];

/** "full", "full (embeddings frozen)", "LoRA r8". */
export function methodLabel(c: TrainConfig): string {
  const method = c.method === 'lora' ? `LoRA r${c.lora.rank}` : c.freezeEmbeddings ? 'full (embeddings frozen)' : 'full';
  return c.objective === 'dpo' ? `DPO β ${(c.dpo ?? DEFAULT_DPO).beta}, ${method}` : method;
}

/**
 * How long training will take at a run's pace: for a live run, its steps left at its own step
 * time; otherwise the draft's steps at that run's time per example (step time grows about in
 * proportion to the examples in a step). Null before any step.
 */
export function predictedTime(
  run: RunRecord | null,
  draft: { totalSteps: number; examplesPerStep: number },
): { ms: number; stepsLeft: number; perStepMs: number; live: boolean } | null {
  if (!run) return null;
  const runMs = meanStepMs(run.steps);
  if (runMs === null) return null;
  if (isLive(run.status)) {
    const { done, total } = stepProgress(run);
    const stepsLeft = Math.max(0, total - done);
    return { ms: stepsLeft * runMs, stepsLeft, perStepMs: runMs, live: true };
  }
  const perStepMs = (runMs * draft.examplesPerStep) / (run.config.batchSize * run.config.gradAccum);
  return { ms: draft.totalSteps * perStepMs, stepsLeft: draft.totalSteps, perStepMs, live: false };
}

/** Where estimateSeqLen's number comes from, in words for the estimate's footnote. */
export function seqLenBasis(tokenize: Pick<TokenizeSettings, 'maxLength' | 'padding'>, longest: number | null): string {
  if (tokenize.padding === 'max_length') return 'every row is padded to the max length';
  if (longest === null || !(longest > 0)) return 'the max length, until the Data tab has counted the tokens';
  if (estimateSeqLen(tokenize, longest) === tokenize.maxLength && longest >= tokenize.maxLength) return 'the longest example, cut at the max length';
  return 'the longest example, rounded up to a power of two';
}
