/** The data-amount sweep's points: one per run of the latest sweep, by examples trained on (pure). */
import type { RunRecord } from '../../state/trainStore';

export const SWEEP_METRICS = {
  evalLoss: { label: 'final eval loss', of: (r: RunRecord) => r.evals.at(-1)?.loss },
  bestEval: { label: 'best eval loss', of: (r: RunRecord) => r.bestEval?.loss },
  perplexity: { label: 'final eval perplexity', of: (r: RunRecord) => r.evals.at(-1)?.perplexity },
  trainLoss: { label: 'final train loss', of: (r: RunRecord) => r.steps.at(-1)?.loss },
} as const;
export type SweepMetric = keyof typeof SWEEP_METRICS;

export interface SweepPoint {
  runId: string;
  name: string;
  fraction: number;
  examples: number;
  status: RunRecord['status'];
  evalLoss: number | null;
  metric: number | null;
}

/** The newest sweep's runs, fewest examples first; [] when no sweep ran. */
export function sweepPoints(runs: readonly RunRecord[], metric: SweepMetric): SweepPoint[] {
  const latest = [...runs].reverse().find((r) => r.sweep)?.sweep?.id;
  if (!latest) return [];
  return runs
    .filter((r) => r.sweep?.id === latest)
    .map((r) => ({
      runId: r.id,
      name: r.name,
      fraction: r.sweep!.fraction,
      examples: r.dataset.train,
      status: r.status,
      evalLoss: SWEEP_METRICS.evalLoss.of(r) ?? null,
      metric: SWEEP_METRICS[metric].of(r) ?? null,
    }))
    .sort((a, b) => a.examples - b.examples);
}
