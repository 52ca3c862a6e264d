import { describe, expect, it } from 'vitest';
import type { EvalMetrics, StepMetrics } from '../../state/trainOptions';
import { compareChartData, ema, latestPerStep, lossChartData } from './chartData';

const step = (n: number, loss: number, lr = 1e-4): StepMetrics => ({
  step: n,
  totalSteps: 10,
  epoch: n / 10,
  loss,
  lr,
  gradNorm: 1,
  tokens: 100 * n,
  tokensPerSecond: 50,
  elapsedMs: 1000 * n,
  etaMs: 1000 * (10 - n),
});
const evalAt = (n: number, loss: number): EvalMetrics => ({ step: n, loss, perplexity: Math.exp(loss) });

describe('ema', () => {
  it('starts at the first value (debiased), not near 0', () => {
    const out = ema([4, 4, 4]);
    for (const v of out) expect(v).toBeCloseTo(4, 12);
  });
  it('matches the debiased recurrence', () => {
    const out = ema([2, 4], 0.9);
    // m1 = 0.2 → 0.2 / 0.1 = 2; m2 = 0.18 + 0.4 = 0.58 → 0.58 / 0.19
    expect(out[0]).toBeCloseTo(2, 12);
    expect(out[1]).toBeCloseTo(0.58 / 0.19, 12);
  });
  it('lags behind a drop', () => {
    const out = ema([5, 5, 5, 1]);
    expect(out[3]!).toBeGreaterThan(1);
    expect(out[3]!).toBeLessThan(5);
  });
  it('skips NaN without poisoning what follows', () => {
    const out = ema([3, Number.NaN, 3]);
    expect(out[1]).toBeNull();
    expect(out[2]).toBeCloseTo(3, 12);
  });
  it('is empty for no values', () => {
    expect(ema([])).toEqual([]);
  });
});

describe('latestPerStep', () => {
  it('keeps the later entry of a repeated step and sorts by step', () => {
    const out = latestPerStep([step(1, 3), step(2, 2.5), step(3, 2.4), step(2, 2.6), step(3, 2.3)]);
    expect(out.map((m) => [m.step, m.loss])).toEqual([
      [1, 3],
      [2, 2.6],
      [3, 2.3],
    ]);
  });
});

describe('lossChartData', () => {
  it('joins train steps and evals on the step, with the baseline eval at step 0', () => {
    const rows = lossChartData([step(1, 3), step(2, 2)], [evalAt(0, 3.5), evalAt(2, 2.2)]);
    expect(rows.map((r) => r.step)).toEqual([0, 1, 2]);
    expect(rows[0]).toEqual({ step: 0, evalLoss: 3.5 });
    expect(rows[1].loss).toBe(3);
    expect(rows[1].smooth).toBeCloseTo(3, 12);
    expect(rows[2].evalLoss).toBe(2.2);
    expect(rows[2].lr).toBe(1e-4);
  });
  it('leaves a gap for a NaN loss', () => {
    const rows = lossChartData([step(1, 3), step(2, Number.NaN)], []);
    expect(rows[1].loss).toBeNull();
    expect(rows[1].smooth).toBeNull();
  });
});

describe('compareChartData', () => {
  it('puts each run under its own keys, on a shared step axis', () => {
    const rows = compareChartData([
      { steps: [step(1, 3), step(2, 2)], evals: [evalAt(2, 2.5)] },
      { steps: [step(1, 4)], evals: [] },
    ]);
    expect(rows.map((r) => r.step)).toEqual([1, 2]);
    expect(rows[0].train0).toBeCloseTo(3, 12);
    expect(rows[0].train1).toBeCloseTo(4, 12);
    expect(rows[1].eval0).toBe(2.5);
    expect('train1' in rows[1]).toBe(false);
  });
});
