import { describe, expect, it } from 'vitest';
import { DEFAULT_TRAIN, type EvalMetrics, type StepMetrics } from '../../state/trainOptions';
import type { RunRecord } from '../../state/trainStore';
import { sweepPoints } from './sweepView';

const step = (n: number, loss: number): StepMetrics => ({ step: n, totalSteps: 10, epoch: 0, loss, lr: 1e-4, gradNorm: 1, tokens: 10, tokensPerSecond: 1, elapsedMs: 0, etaMs: null });
const ev = (n: number, loss: number, perplexity: number): EvalMetrics => ({ step: n, loss, perplexity });

function run(id: string, train: number, over: Partial<RunRecord> = {}): RunRecord {
  return {
    id,
    name: `Run ${id}`,
    createdAt: 0,
    model: 'tiny',
    dataset: { name: 'd.jsonl', train, test: 5 },
    config: DEFAULT_TRAIN,
    tokenize: { maxLength: 64, truncation: 'right', padding: 'longest', appendEos: true, lossOn: 'completion' },
    status: 'finished',
    steps: [],
    evals: [],
    samples: [],
    samplePrompt: '',
    totalSteps: 10,
    lastCheckpoint: null,
    bestEval: null,
    message: null,
    ...over,
  };
}

describe('sweepPoints', () => {
  it('is empty when no sweep ran', () => {
    expect(sweepPoints([run('1', 40)], 'evalLoss')).toEqual([]);
    expect(sweepPoints([], 'evalLoss')).toEqual([]);
  });

  it('takes only the newest sweep’s runs, fewest examples first, with the chosen metric', () => {
    const old = { id: 'sweep-old', fraction: 0.5 };
    const runs = [
      run('o1', 20, { sweep: old, evals: [ev(10, 9, 99)] }),
      run('n3', 40, { sweep: { id: 'sweep-new', fraction: 1 }, evals: [ev(5, 2.5, 12), ev(10, 2, 7.4)], bestEval: ev(5, 1.5, 4.5), steps: [step(9, 3), step(10, 1.25)] }),
      run('plain', 40, { evals: [ev(10, 0.1, 1.1)] }),
      run('n1', 4, { sweep: { id: 'sweep-new', fraction: 0.1 }, evals: [ev(10, 3, 20)], bestEval: ev(10, 3, 20), steps: [step(10, 2.75)] }),
      run('n2', 10, { sweep: { id: 'sweep-new', fraction: 0.25 }, status: 'stopped', steps: [step(3, 4)] }),
    ];
    expect(sweepPoints(runs, 'evalLoss')).toEqual([
      { runId: 'n1', name: 'Run n1', fraction: 0.1, examples: 4, status: 'finished', evalLoss: 3, metric: 3 },
      { runId: 'n2', name: 'Run n2', fraction: 0.25, examples: 10, status: 'stopped', evalLoss: null, metric: null },
      { runId: 'n3', name: 'Run n3', fraction: 1, examples: 40, status: 'finished', evalLoss: 2, metric: 2 },
    ]);
    expect(sweepPoints(runs, 'bestEval').map((p) => p.metric)).toEqual([3, null, 1.5]);
    expect(sweepPoints(runs, 'perplexity').map((p) => p.metric)).toEqual([20, null, 7.4]);
    expect(sweepPoints(runs, 'trainLoss').map((p) => p.metric)).toEqual([2.75, 4, 1.25]);
    // The final eval loss stays alongside whatever metric is shown.
    expect(sweepPoints(runs, 'trainLoss').map((p) => p.evalLoss)).toEqual([3, null, 2]);
  });

  it('the newest sweep is that of the last run listed with one; plain runs after it do not hide it', () => {
    const runs = [run('a', 4, { sweep: { id: 's1', fraction: 0.1 } }), run('b', 8, { sweep: { id: 's2', fraction: 0.2 } }), run('c', 40)];
    expect(sweepPoints(runs, 'evalLoss').map((p) => p.runId)).toEqual(['b']);
  });
});
