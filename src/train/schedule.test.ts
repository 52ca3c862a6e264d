import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FIXTURES_DIR } from '../testing/fixtures';
import { learningRate } from './schedule';
import type { ScheduleConfig } from './types';

/** lr for steps 0…n−1. */
const run = (n: number, total: number, base: number, s: ScheduleConfig): number[] => Array.from({ length: n }, (_, i) => learningRate(i, total, base, s));

/** Values worked out by hand from the HF lr_lambdas; compared to 1e-15 relative. */
function expectValues(got: number[], want: number[]): void {
  expect(got.length).toBe(want.length);
  got.forEach((g, i) => expect(Math.abs(g - want[i]), `step ${i}: ${g} vs ${want[i]}`).toBeLessThanOrEqual(1e-15 * Math.abs(want[i])));
}

describe('learningRate (Hugging Face schedulers)', () => {
  it('constant without warmup is the base rate at every step', () => {
    expectValues(run(5, 5, 3e-4, { kind: 'constant', warmupSteps: 0 }), [3e-4, 3e-4, 3e-4, 3e-4, 3e-4]);
  });

  it('constant with warmup 4: 0, ¼, ½, ¾ of the base, then the base from step 4 on', () => {
    expectValues(run(7, 6, 1e-3, { kind: 'constant', warmupSteps: 4 }), [0, 2.5e-4, 5e-4, 7.5e-4, 1e-3, 1e-3, 1e-3]);
  });

  it('linear without warmup falls by 1/total each step, from the base to 0 at totalSteps', () => {
    expectValues(run(5, 4, 1, { kind: 'linear', warmupSteps: 0 }), [1, 0.75, 0.5, 0.25, 0]);
  });

  it('linear with warmup 2 over 10 steps: up to the base at step 2, then (10 − step)/8, then 0 past the end', () => {
    expectValues(run(13, 10, 1, { kind: 'linear', warmupSteps: 2 }), [0, 0.5, 1, 0.875, 0.75, 0.625, 0.5, 0.375, 0.25, 0.125, 0, 0, 0]);
  });

  it('the course preset (linear, warmup 1, 3 steps, 1e-5): step 0 has lr 0, as in the HF Trainer', () => {
    expectValues(run(3, 3, 1e-5, { kind: 'linear', warmupSteps: 1 }), [0, 1e-5, 5e-6]);
  });

  it('cosine without warmup: base, ½(1 + cos π/4)·base, half the base at half-way, ½(1 − cos π/4)·base, 0 at the end', () => {
    const s2 = Math.SQRT1_2;
    expectValues(run(5, 4, 1, { kind: 'cosine', warmupSteps: 0 }), [1, 0.8535533905932737, 0.5, 0.14644660940672624, 0]);
    expectValues([learningRate(1, 4, 2e-2, { kind: 'cosine', warmupSteps: 0 })], [1e-2 * (1 + s2)]);
    // A third of the way: ½(1 + cos π/3) = ¾.
    expectValues([learningRate(1, 3, 4e-4, { kind: 'cosine', warmupSteps: 0 })], [3e-4]);
  });

  it('cosine with warmup 2 over 6 steps: linear warmup, then the half cosine over the remaining 4', () => {
    expectValues(run(7, 6, 2e-4, { kind: 'cosine', warmupSteps: 2 }), [0, 1e-4, 2e-4, 2e-4 * 0.8535533905932737, 1e-4, 2e-4 * 0.14644660940672624, 0]);
  });

  it('past totalSteps the cosine rises again, as HF’s formula does (a trainer never asks)', () => {
    expectValues([learningRate(6, 4, 1, { kind: 'cosine', warmupSteps: 0 })], [0.5]);
  });

  it('warmup longer than the run: the warmup ramp is all there is', () => {
    expectValues(run(3, 3, 1, { kind: 'linear', warmupSteps: 5 }), [0, 0.2, 0.4]);
    expectValues(run(3, 3, 1, { kind: 'cosine', warmupSteps: 5 }), [0, 0.2, 0.4]);
  });

  it('gives the learning rates torch.optim.lr_scheduler.LambdaLR gave in the AdamW fixture', () => {
    const g = JSON.parse(readFileSync(`${FIXTURES_DIR}train/adamw-golden.json`, 'utf8')) as {
      lrs: number[];
      optimizer: { lr: number };
      schedule: { kind: 'cosine'; warmupSteps: number; totalSteps: number };
    };
    expectValues(run(g.lrs.length, g.schedule.totalSteps, g.optimizer.lr, g.schedule), g.lrs);
  });

  it('rejects steps and warmups that are not whole numbers ≥ 0, and empty runs', () => {
    const s: ScheduleConfig = { kind: 'linear', warmupSteps: 0 };
    expect(() => learningRate(-1, 10, 1, s)).toThrow(/step/);
    expect(() => learningRate(0.5, 10, 1, s)).toThrow(/step/);
    expect(() => learningRate(0, 0, 1, s)).toThrow(/totalSteps/);
    expect(() => learningRate(0, 10, 1, { kind: 'cosine', warmupSteps: -2 })).toThrow(/warmupSteps/);
  });
});
