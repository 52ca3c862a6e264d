import { describe, expect, it } from 'vitest';
import type { RunRecord } from '../../state';
import { DEFAULT_TOKENIZE } from '../../data/defaults';
import { DEFAULT_TRAIN, type StepMetrics } from '../../state/trainOptions';
import { canResume, currentRun, resumeBlocker, seqLenBasis, meanStepMs, methodLabel, newestFirst, predictedTime, stepProgress } from './runView';

const step = (n: number, elapsedMs = 500 * n): StepMetrics => ({
  step: n,
  totalSteps: 30,
  epoch: 0,
  loss: 3,
  lr: 1e-4,
  gradNorm: 1,
  tokens: 100,
  tokensPerSecond: 200,
  elapsedMs,
  etaMs: null,
});

const run = (over: Partial<RunRecord>): RunRecord => ({
  id: 'r',
  name: 'Run 1',
  createdAt: 1,
  model: 'tiny',
  dataset: { name: 'd', train: 10, test: 2 },
  config: DEFAULT_TRAIN,
  tokenize: DEFAULT_TOKENIZE,
  status: 'finished',
  steps: [],
  evals: [],
  samples: [],
  samplePrompt: '',
  totalSteps: 0,
  lastCheckpoint: null,
  bestEval: null,
  message: null,
  ...over,
});

describe('currentRun', () => {
  it('prefers the live run, else the newest', () => {
    const a = run({ id: 'a', createdAt: 1, status: 'running' });
    const b = run({ id: 'b', createdAt: 2 });
    expect(currentRun([a, b])?.id).toBe('a');
    expect(currentRun([{ ...a, status: 'stopped' }, b])?.id).toBe('b');
    expect(currentRun([])).toBeNull();
  });
  it('lists newest first', () => {
    expect(newestFirst([run({ id: 'a', createdAt: 1 }), run({ id: 'b', createdAt: 2 })]).map((r) => r.id)).toEqual(['b', 'a']);
  });
});

describe('stepProgress and meanStepMs', () => {
  it('reads the last step against the total', () => {
    expect(stepProgress(run({ steps: [step(1), step(12)], totalSteps: 30 })).text).toBe('12 / 30');
    expect(stepProgress(run({})).text).toBe('0 / ?');
    expect(stepProgress(run({ steps: [step(2)] })).total).toBe(30);
  });
  it('averages the training time over the steps done, across a resume', () => {
    expect(meanStepMs([step(1), step(2), step(4, 2000)])).toBe(500);
    expect(meanStepMs([])).toBeNull();
  });
});

describe('canResume and methodLabel', () => {
  it('resumes what stopped part-way', () => {
    expect(['paused', 'stopped', 'interrupted'].every((s) => canResume(s as RunRecord['status']))).toBe(true);
    expect(['running', 'finished', 'early-stop', 'failed'].some((s) => canResume(s as RunRecord['status']))).toBe(false);
  });
  it('names the method', () => {
    expect(methodLabel(DEFAULT_TRAIN)).toBe('full');
    expect(methodLabel({ ...DEFAULT_TRAIN, method: 'lora', lora: { ...DEFAULT_TRAIN.lora, rank: 4 } })).toBe('LoRA r4');
  });
});

describe('predictedTime', () => {
  it('counts a live run’s steps left at its own pace', () => {
    const p = predictedTime(run({ status: 'running', steps: [step(10)], totalSteps: 30 }), { totalSteps: 99, examplesPerStep: 1 });
    expect(p).toEqual({ ms: 20 * 500, stepsLeft: 20, perStepMs: 500, live: true });
  });
  it('prices the draft’s steps at a finished run’s time per example', () => {
    // The run: 500 ms per step of 4 × 1 examples.
    expect(predictedTime(run({ steps: [step(4)] }), { totalSteps: 8, examplesPerStep: 4 })?.ms).toBe(4000);
    expect(predictedTime(run({ steps: [step(4)] }), { totalSteps: 8, examplesPerStep: 8 })).toEqual({ ms: 8000, stepsLeft: 8, perStepMs: 1000, live: false });
  });
  it('is unknown before any step', () => {
    expect(predictedTime(run({}), { totalSteps: 8, examplesPerStep: 4 })).toBeNull();
    expect(predictedTime(null, { totalSteps: 8, examplesPerStep: 4 })).toBeNull();
  });
});

describe('resumeBlocker', () => {
  const ctx = { engineReady: true, model: 'tiny', dataProblem: null, anyLive: false, elsewhere: [] };
  const stopped = run({ status: 'stopped', lastCheckpoint: { step: 5, bytes: 10 } });
  it('lets a stopped run with a checkpoint resume on the same model', () => {
    expect(resumeBlocker(stopped, ctx)).toBeNull();
    expect(resumeBlocker(run({ status: 'paused' }), ctx)).toBeNull();
  });
  it('says what is in the way', () => {
    expect(resumeBlocker(run({ status: 'finished' }), ctx)).toMatch(/done/);
    expect(resumeBlocker(stopped, { ...ctx, anyLive: true })).toMatch(/in progress/);
    expect(resumeBlocker(stopped, { ...ctx, model: 'other' })).toMatch(/trained tiny/);
    expect(resumeBlocker(stopped, { ...ctx, model: null })).toMatch(/Load tiny/);
    expect(resumeBlocker(run({ status: 'interrupted' }), ctx)).toMatch(/no checkpoint/);
    expect(resumeBlocker(stopped, { ...ctx, dataProblem: 'Load a dataset.' })).toBe('Load a dataset.');
    const trained = { ...stopped, baseFingerprint: 'aaaaaaaa11' };
    expect(resumeBlocker(trained, { ...ctx, fingerprint: 'aaaaaaaa11' })).toBeNull();
    expect(resumeBlocker(trained, { ...ctx, fingerprint: 'bbbbbbbb22' })).toBe(
      'This run trained tiny with weights aaaaaaaa, but the loaded tiny has weights bbbbbbbb (another revision or file of that name): load the exact base it trained to resume it.',
    );
    const paused = run({ status: 'paused' });
    expect(resumeBlocker(paused, { ...ctx, elsewhere: [paused.id] })).toBe('This run is paused in another tab of the studio: resume it there.');
  });
});

describe('seqLenBasis', () => {
  it('says where the length comes from', () => {
    expect(seqLenBasis({ maxLength: 512, padding: 'max_length' }, 20)).toMatch(/padded/);
    expect(seqLenBasis({ maxLength: 512, padding: 'longest' }, null)).toMatch(/counted/);
    expect(seqLenBasis({ maxLength: 512, padding: 'longest' }, 900)).toMatch(/cut/);
    expect(seqLenBasis({ maxLength: 512, padding: 'longest' }, 100)).toMatch(/power of two/);
  });
});
