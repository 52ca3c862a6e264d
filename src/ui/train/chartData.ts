/** Pure shaping of a run's metrics for the charts: the smoothed loss, one row per step, run overlays. */
import type { EvalMetrics, StepMetrics } from '../../state/trainOptions';

/**
 * Exponential moving average with bias correction (as TensorBoard and Adam do): the running mean
 * starts at 0, so each point is divided by 1 - beta^t and the first points are not pulled toward 0.
 * Non-finite values (a NaN loss) are skipped: their point is null and the average goes on without them.
 */
export function ema(values: readonly number[], beta = 0.9): (number | null)[] {
  let mean = 0;
  let t = 0;
  return values.map((x) => {
    if (!Number.isFinite(x)) return null;
    t += 1;
    mean = beta * mean + (1 - beta) * x;
    return mean / (1 - beta ** t);
  });
}

/**
 * One entry per step, in step order; when a step appears twice (a run resumed from a checkpoint
 * older than its last step repeats the steps after it) the later one wins.
 */
export function latestPerStep<T extends { step: number }>(items: readonly T[]): T[] {
  const byStep = new Map<number, T>();
  for (const item of items) byStep.set(item.step, item);
  return [...byStep.values()].sort((a, b) => a.step - b.step);
}

export interface LossRow {
  step: number;
  loss?: number | null;
  smooth?: number | null;
  lr?: number;
  evalLoss?: number;
}

/** The loss chart's rows: train loss (raw and smoothed) and learning rate per step, eval loss where measured (step 0 = before training). */
export function lossChartData(steps: readonly StepMetrics[], evals: readonly EvalMetrics[]): LossRow[] {
  const s = latestPerStep(steps);
  const smooth = ema(s.map((m) => m.loss));
  const rows = new Map<number, LossRow>();
  s.forEach((m, i) => rows.set(m.step, { step: m.step, loss: Number.isFinite(m.loss) ? m.loss : null, smooth: smooth[i], lr: m.lr }));
  for (const e of latestPerStep(evals)) {
    if (!Number.isFinite(e.loss)) continue;
    rows.set(e.step, { ...(rows.get(e.step) ?? { step: e.step }), evalLoss: e.loss });
  }
  return [...rows.values()].sort((a, b) => a.step - b.step);
}

export interface CompareSeries {
  steps: readonly StepMetrics[];
  evals: readonly EvalMetrics[];
}

/** Rows keyed by step with `train{i}` (smoothed train loss) and `eval{i}` for the i-th run. */
export function compareChartData(runs: readonly CompareSeries[]): Record<string, number>[] {
  const rows = new Map<number, Record<string, number>>();
  const at = (step: number) => {
    let row = rows.get(step);
    if (!row) rows.set(step, (row = { step }));
    return row;
  };
  runs.forEach((run, i) => {
    const s = latestPerStep(run.steps);
    const smooth = ema(s.map((m) => m.loss));
    s.forEach((m, j) => {
      const v = smooth[j];
      if (v !== null) at(m.step)[`train${i}`] = v;
    });
    for (const e of latestPerStep(run.evals)) if (Number.isFinite(e.loss)) at(e.step)[`eval${i}`] = e.loss;
  });
  return [...rows.values()].sort((a, b) => a.step - b.step);
}

export interface PreferenceRow {
  step: number;
  chosen?: number;
  rejected?: number;
  margin?: number;
  accuracy?: number;
  evalMargin?: number;
  evalAccuracy?: number;
}

/** A DPO run's chart rows: rewards of the chosen and rejected answers, their margin and the accuracy per step, the test pairs' where evaluated. */
export function preferenceChartData(steps: readonly StepMetrics[], evals: readonly EvalMetrics[]): PreferenceRow[] {
  const rows = new Map<number, PreferenceRow>();
  for (const m of latestPerStep(steps)) {
    const p = m.preference;
    if (p && Number.isFinite(p.margin)) rows.set(m.step, { step: m.step, chosen: p.chosenReward, rejected: p.rejectedReward, margin: p.margin, accuracy: p.accuracy });
  }
  for (const e of latestPerStep(evals)) {
    const p = e.preference;
    if (p && Number.isFinite(p.margin)) rows.set(e.step, { ...(rows.get(e.step) ?? { step: e.step }), evalMargin: p.margin, evalAccuracy: p.accuracy });
  }
  return [...rows.values()].sort((a, b) => a.step - b.step);
}
