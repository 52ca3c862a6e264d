/**
 * Evaluation through the engine's protocol: any run's weights (live, from a checkpoint, LoRA or
 * full) next to the base, batch evaluation with its events, and ARC for several models.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseArc } from '../eval/arcDocs';
import { DEFAULT_EVAL_SAMPLING } from '../eval/evalTypes';
import { meanTargetLoss } from '../eval/report';
import { evalExampleOf } from '../eval/report';
import type { EvalEvent, ModelRef, TrainData } from '../protocol/protocol';
import { memoryCheckpointStore } from '../train/checkpointStore';
import { repoFile } from '../testing/dataTesting';
import { config, courseData, engineWithModel, SPEC } from '../testing/engineTesting';

describe('evaluation through the engine', () => {
  let data: TrainData;
  beforeAll(() => {
    data = courseData(40);
  });

  it('evaluates base, a full run and a LoRA run; the run’s target loss equals its training eval loss; a reload answers the same from checkpoints', async () => {
    const store = memoryCheckpointStore();
    const e = await engineWithModel(store);
    const fullCfg = config({ maxSteps: 4, evalEvery: 4 });
    const loraCfg = config({ method: 'lora', maxSteps: 4, evalEvery: 4, lora: { ...config().lora, rank: 4 } });
    let fullEval = NaN;
    await e.request('train', { runId: 'full', config: fullCfg, data, resume: false }, { onTrain: (ev) => ev.type === 'trainEval' && (fullEval = ev.metrics.loss) });
    await e.request('train', { runId: 'lora', config: loraCfg, data, resume: false });

    const examples = data.test.map((segs, i) => evalExampleOf(String(i), segs)!);
    const models: ModelRef[] = [
      { kind: 'base' },
      { kind: 'run', runId: 'full', checkpoint: 'last', config: fullCfg },
      { kind: 'run', runId: 'lora', checkpoint: 'last', config: loraCfg },
    ];
    const events: EvalEvent[] = [];
    const params = { examples, models, sampling: { ...DEFAULT_EVAL_SAMPLING, maxNewTokens: 4 }, tokenize: data.tokenize };
    const { outputs } = await e.request('evaluate', params, { onEval: (ev) => events.push(ev) });

    expect(outputs.map((o) => o.length)).toEqual([8, 8, 8]);
    // One event per answer, model by model, in split order, carrying the returned output.
    expect(events.map((ev) => ev.type === 'evalRow' && [ev.model, ev.index])).toEqual([0, 1, 2].flatMap((m) => examples.map((_, i) => [m, i])));
    expect(events.map((ev) => ev.type === 'evalRow' && ev.output)).toEqual(outputs.flat());
    // The full run's weights were last evaluated at step 4 on this very test split.
    expect(meanTargetLoss(outputs[1])).toBeCloseTo(fullEval, 4);
    expect(meanTargetLoss(outputs[0])).not.toBeCloseTo(fullEval, 2);
    // The LoRA run is trained too: its loss differs from the base's.
    expect(Math.abs(meanTargetLoss(outputs[2])! - meanTargetLoss(outputs[0])!)).toBeGreaterThan(1e-3);

    // A new engine over the same storage (a reloaded page) has only checkpoints: same answers, same losses.
    const reloaded = await engineWithModel(store);
    const again = await reloaded.request('evaluate', params);
    expect(again.outputs.map((o) => o.map((x) => [x.text, x.targetLoss?.toFixed(5)]))).toEqual(outputs.map((o) => o.map((x) => [x.text, x.targetLoss?.toFixed(5)])));
  });

  it('says what is wrong when a run’s weights cannot be had or do not fit the loaded model', async () => {
    const store = memoryCheckpointStore();
    const e = await engineWithModel(store);
    const cfg = config({ maxSteps: 2, evalEvery: 0, checkpointEvery: 1 });
    await e.request('train', { runId: 'r', config: cfg, data, resume: false });
    const gen = (model: ModelRef) => e.request('generate', { prompt: 'Hi', maxNewTokens: 2, temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, seed: 0, stopStrings: [], useCache: true, model });
    await expect(gen({ kind: 'run', runId: 'r', checkpoint: 'best', config: cfg })).rejects.toThrow(/no best checkpoint/);
    await expect(gen({ kind: 'run', runId: 'gone', checkpoint: 'last', config: cfg })).rejects.toThrow(/saved no checkpoint/);
    // Another model shape: the run's checkpoint does not fit.
    await e.request('loadModel', { source: { kind: 'random', spec: { ...SPEC, hiddenSize: 64 } } });
    await expect(gen({ kind: 'run', runId: 'r', checkpoint: 'last', config: cfg })).rejects.toThrow(/does not fit the loaded model .*load the model it was trained on/);
    // A deleted run is gone from the engine too.
    await e.request('loadModel', { source: { kind: 'random', spec: SPEC } });
    await expect(gen({ kind: 'run', runId: 'r', checkpoint: 'last', config: cfg })).resolves.toBeTruthy();
    await e.request('deleteRun', { runId: 'r' });
    await expect(gen({ kind: 'run', runId: 'r', checkpoint: 'last', config: cfg })).rejects.toThrow(/saved no checkpoint/);
  });

  it('scores ARC for each model with progress, base and run side by side', async () => {
    const store = memoryCheckpointStore();
    const e = await engineWithModel(store);
    const cfg = config({ maxSteps: 2, evalEvery: 0 });
    await e.request('train', { runId: 'r', config: cfg, data, resume: false });
    const { docs } = parseArc(readFileSync(repoFile('fixtures/eval/arc-easy-sample.jsonl'), 'utf8'));
    const progress: [number, number][] = [];
    const { results } = await e.request(
      'arc',
      { docs: docs.slice(0, 3), models: [{ kind: 'base' }, { kind: 'run', runId: 'r', checkpoint: 'last', config: cfg }] },
      { onEval: (ev) => ev.type === 'arcProgress' && progress.push([ev.model, ev.done]) },
    );
    expect(progress).toEqual([[0, 1], [0, 2], [0, 3], [1, 1], [1, 2], [1, 3]]);
    expect(results.map((r) => r.n)).toEqual([3, 3]);
    for (const r of results) for (const v of [r.acc, r.acc_norm]) expect([0, 1 / 3, 2 / 3, 1].some((x) => Math.abs(x - v) < 1e-9)).toBe(true);
    await expect(e.request('arc', { docs: docs.slice(0, 1), models: [] })).rejects.toThrow(/at least one model/);
  });
});
