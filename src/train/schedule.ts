/**
 * Learning-rate schedules, as Hugging Face transformers' optimization.py defines them
 * (get_constant_schedule_with_warmup, get_linear_schedule_with_warmup,
 * get_cosine_schedule_with_warmup with num_cycles 0.5).
 */
import type { ScheduleConfig } from './types';

/**
 * The learning rate of optimizer step `step` (0-based) in a run of `totalSteps` steps: `base`
 * times the HF lr_lambda at `step`, which is what LambdaLR hands the optimizer for that step.
 * So warmup starts at 0 (step 0 of a warmup has lr 0, as in HF) and reaches `base` at
 * step = warmupSteps; linear and cosine then fall to 0 at step = totalSteps. Past totalSteps the
 * formulas run on unchanged, as HF's do (linear stays at 0, cosine rises again).
 */
export function learningRate(step: number, totalSteps: number, base: number, s: ScheduleConfig): number {
  if (!Number.isInteger(step) || step < 0) throw new Error(`step must be a whole number ≥ 0, got ${step}`);
  if (!Number.isInteger(totalSteps) || totalSteps < 1) throw new Error(`totalSteps must be a whole number ≥ 1, got ${totalSteps}`);
  if (!Number.isInteger(s.warmupSteps) || s.warmupSteps < 0) throw new Error(`warmupSteps must be a whole number ≥ 0, got ${s.warmupSteps}`);
  return base * lrLambda(step, totalSteps, s);
}

/** HF's lr_lambda: the factor on the base learning rate, in HF's own arithmetic order. */
function lrLambda(step: number, totalSteps: number, s: ScheduleConfig): number {
  const warmup = s.warmupSteps;
  if (step < warmup) return step / Math.max(1, warmup);
  switch (s.kind) {
    case 'constant':
      return 1;
    case 'linear':
      return Math.max(0, (totalSteps - step) / Math.max(1, totalSteps - warmup));
    case 'cosine': {
      const progress = (step - warmup) / Math.max(1, totalSteps - warmup);
      return Math.max(0, 0.5 * (1 + Math.cos(Math.PI * progress))); // num_cycles 0.5: cos(π·2·0.5·progress)
    }
  }
}
