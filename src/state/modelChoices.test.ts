import { describe, expect, it } from 'vitest';
import { DEFAULT_TRAIN } from '../train/presets';
import type { StepMetrics } from '../train/types';
import { BASE_CHOICE_ID, findChoice, modelChoices } from './modelChoices';
import type { RunRecord } from './trainStore';

const LORA = { ...DEFAULT_TRAIN, method: 'lora' as const, lora: { ...DEFAULT_TRAIN.lora, rank: 4 } };
const FULL = { ...DEFAULT_TRAIN, method: 'full' as const };
const step = (n: number): StepMetrics => ({ step: n, totalSteps: 40, epoch: 0, loss: 2, lr: 1e-4, gradNorm: 1, tokens: 100, tokensPerSecond: 10, elapsedMs: 0, etaMs: null });

function run(id: string, over: Partial<RunRecord> = {}): RunRecord {
  return {
    id,
    name: `Run ${id}`,
    createdAt: 0,
    model: 'pythia-70m',
    dataset: { name: 'd.jsonl', train: 10, test: 2 },
    config: LORA,
    tokenize: { maxLength: 64, truncation: 'right', padding: 'longest', appendEos: true, lossOn: 'completion' },
    status: 'finished',
    steps: [step(1), step(2)],
    evals: [],
    samples: [],
    samplePrompt: '',
    totalSteps: 40,
    lastCheckpoint: { step: 40, bytes: 1000 },
    bestEval: null,
    message: null,
    ...over,
  };
}

describe('modelChoices', () => {
  it('offers nothing without a loaded model', () => {
    expect(modelChoices([run('1')], null, null)).toEqual([]);
  });

  it('puts the base first, then each run with its method and step, referring to its last checkpoint', () => {
    const runs = [run('1'), run('2', { config: FULL, lastCheckpoint: { step: 12, bytes: 5 } })];
    expect(modelChoices(runs, 'pythia-70m', null)).toEqual([
      { id: BASE_CHOICE_ID, label: 'Base (pythia-70m)', ref: { kind: 'base' } },
      { id: '1', label: 'Run 1 (LoRA r4, step 40)', ref: { kind: 'run', runId: '1', checkpoint: 'last', config: LORA } },
      { id: '2', label: 'Run 2 (full, step 12)', ref: { kind: 'run', runId: '2', checkpoint: 'last', config: FULL } },
    ]);
  });

  it('leaves out runs of another model, live runs, and runs with no checkpoint', () => {
    const runs = [
      run('other', { model: 'pythia-160m' }),
      run('running', { status: 'running' }),
      run('pausing', { status: 'pausing' }),
      run('stopping', { status: 'stopping' }),
      run('nockpt', { status: 'failed', lastCheckpoint: null }),
      run('paused', { status: 'paused', lastCheckpoint: { step: 8, bytes: 1 } }),
    ];
    expect(modelChoices(runs, 'pythia-70m', null).map((c) => c.id)).toEqual(['base', 'paused']);
  });

  it('offers the run in the engine’s memory without a checkpoint, at its last step', () => {
    const runs = [run('mem', { lastCheckpoint: null, steps: [step(1), step(7)] }), run('nockpt', { lastCheckpoint: null })];
    expect(modelChoices(runs, 'pythia-70m', 'mem').map((c) => [c.id, c.label])).toEqual([
      ['base', 'Base (pythia-70m)'],
      ['mem', 'Run mem (LoRA r4, step 7)'],
    ]);
    // Live in memory is still live: not offered while it trains.
    expect(modelChoices([run('mem', { status: 'running', lastCheckpoint: null })], 'pythia-70m', 'mem').map((c) => c.id)).toEqual(['base']);
  });

  it('offers the best checkpoint separately only when its step differs from the last', () => {
    const best = { step: 20, loss: 1.23456, perplexity: 3.4 };
    const runs = [
      run('a', { bestEval: best }),
      run('b', { bestEval: { ...best, step: 40 } }),
    ];
    const choices = modelChoices(runs, 'pythia-70m', null);
    expect(choices.map((c) => c.id)).toEqual(['base', 'a', 'a:best', 'b']);
    expect(findChoice(choices, 'a:best')).toEqual({
      id: 'a:best',
      label: 'Run a best (step 20, eval loss 1.235)',
      ref: { kind: 'run', runId: 'a', checkpoint: 'best', config: LORA },
    });
    // In memory at step 20, which is the best step: no separate best.
    expect(modelChoices([run('a', { bestEval: best, steps: [step(20)] })], 'pythia-70m', 'a').map((c) => c.id)).toEqual(['base', 'a']);
    expect(findChoice(choices, 'gone')).toBeUndefined();
  });
});
