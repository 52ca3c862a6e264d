/**
 * Training through the engine's protocol, as the page drives it: events, pause, resume, stop,
 * checkpoints, a "reload" (a new engine over the same checkpoint store), generation with the
 * trained weights, and the memory estimate.
 */
import { beforeAll, describe, expect, it, vi } from 'vitest';
import type { EngineApi, ModelRef, TrainData, TrainEvent } from '../protocol/protocol';
import { noteModuleOutput, takeXnnFailure } from '../backend/xnnStatus';
import { memoryCheckpointStore, type CheckpointStore } from '../train/checkpointStore';
import { Trainer } from '../train/trainer';
import { config, courseData, engineWithModel, greedy } from '../testing/engineTesting';

describe('training through the engine', () => {
  let data: TrainData;
  beforeAll(() => {
    data = courseData(48);
  });

  it('streams steps, evals, samples and checkpoints; the trained model generates', async () => {
    const store = memoryCheckpointStore();
    const e = await engineWithModel(store);
    const events: TrainEvent[] = [];
    const result = await e.request('train', { runId: 'a', config: config(), data, resume: false }, { onTrain: (ev) => events.push(ev) });
    expect(result).toMatchObject({ runId: 'a', reason: 'finished', step: 6, totalSteps: 6, checkpointError: null });
    const of = (t: TrainEvent['type']) => events.filter((ev) => ev.type === t);
    expect(of('trainStep').map((ev) => ev.type === 'trainStep' && ev.metrics.step)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(of('trainEval').map((ev) => ev.type === 'trainEval' && ev.metrics.step)).toEqual([0, 3, 6]);
    expect(of('trainSample').map((ev) => ev.type === 'trainSample' && ev.step)).toEqual([3, 6]);
    const sample = of('trainSample')[0];
    expect(sample.type === 'trainSample' && sample.prompt).toMatch(/^### Question:\n[\s\S]*### Answer:$/); // the first test example's prompt
    expect(of('trainCheckpoint').filter((ev) => ev.type === 'trainCheckpoint' && ev.kind === 'last').map((ev) => ev.type === 'trainCheckpoint' && ev.step)).toEqual([2, 4, 6]);
    expect(await store.load('a', 'last')).not.toBeNull();

    const base = await e.request('generate', { ...greedy(), model: { kind: 'base' } });
    const run: ModelRef = { kind: 'run', runId: 'a', checkpoint: 'last', config: config() };
    const trained = await e.request('generate', { ...greedy(), model: run });
    expect(trained.tokenIds).not.toEqual(base.tokenIds);

    // A reloaded page has only the checkpoint: the run's weights come from it, and answer the same.
    const reloaded = await engineWithModel(store);
    expect((await reloaded.request('generate', { ...greedy(), model: run })).tokenIds).toEqual(trained.tokenIds);
    expect((await reloaded.request('generate', { ...greedy(), model: { kind: 'base' } })).tokenIds).toEqual(base.tokenIds);
  });

  it('pause stops at a step boundary and resumes in memory; after a "reload" it resumes from the checkpoint', async () => {
    const store = memoryCheckpointStore();
    const e = await engineWithModel(store);
    let paused = false;
    const first = await e.request(
      'train',
      { runId: 'b', config: config({ checkpointEvery: 0 }), data, resume: false },
      {
        onTrain: (ev) => {
          if (ev.type === 'trainStep' && ev.metrics.step === 2 && !paused) {
            paused = true;
            void e.request('controlTraining', { runId: 'b', action: 'pause' });
          }
        },
      },
    );
    expect(first.reason).toBe('paused');
    expect(first.step).toBeGreaterThanOrEqual(2);
    expect(first.step).toBeLessThan(6);
    // Pausing writes a checkpoint, so a closed tab loses nothing.
    expect(await store.load('b', 'last')).not.toBeNull();

    // A new engine (the page was reloaded) over the same storage resumes from the checkpoint.
    const lastEval = async (engine: EngineApi, runId: string, resume: boolean, steps: number[] = []) => {
      let loss = NaN;
      await engine.request('train', { runId, config: config({ checkpointEvery: 0 }), data, resume }, {
        onTrain: (ev) => {
          if (ev.type === 'trainStep') steps.push(ev.metrics.step);
          if (ev.type === 'trainEval') loss = ev.metrics.loss;
        },
      });
      return loss;
    };
    const reloadedSteps: number[] = [];
    const reloaded = await lastEval(await engineWithModel(store), 'b', true, reloadedSteps);
    expect(reloadedSteps[0]).toBe(first.step + 1);
    // The paused engine still holds the run in memory and continues it there.
    const inMemorySteps: number[] = [];
    const inMemory = await lastEval(e, 'b', true, inMemorySteps);
    expect(inMemorySteps[0]).toBe(first.step + 1);
    // The same run never interrupted ends at exactly the same eval loss.
    const straight = await lastEval(await engineWithModel(memoryCheckpointStore()), 'c', false);
    expect(reloaded).toBe(straight);
    expect(inMemory).toBe(straight);
  });

  it('stop ends the run with a checkpoint; resume without one says so', async () => {
    const store = memoryCheckpointStore();
    const e = await engineWithModel(store);
    const r = await e.request('train', { runId: 'd', config: config(), data, resume: false }, { onTrain: (ev) => ev.type === 'trainStep' && ev.metrics.step === 1 && void e.request('controlTraining', { runId: 'd', action: 'stop' }) });
    expect(r.reason).toBe('stopped');
    await expect(e.request('train', { runId: 'never', config: config(), data, resume: true })).rejects.toThrow(/no checkpoint to resume from/);
    expect((await e.request('controlTraining', { runId: 'nope', action: 'pause' })).accepted).toBe(false);
  });

  it('a full storage quota is reported on the run, training goes on, and the last good checkpoint stays', async () => {
    const inner = memoryCheckpointStore();
    let full = false;
    const store: CheckpointStore = {
      ...inner,
      save: async (runId, kind, bytes) => {
        if (full) throw Object.assign(new Error('quota'), { name: 'QuotaExceededError' });
        await inner.save(runId, kind, bytes);
      },
    };
    const e = await engineWithModel(store);
    const errors: (string | null)[] = [];
    const r = await e.request('train', { runId: 'q', config: config({ evalEvery: 0, sampleEvery: 0 }), data, resume: false }, {
      onTrain: (ev) => {
        if (ev.type !== 'trainCheckpoint') return;
        errors.push(ev.error);
        full = true; // the disk fills after the first checkpoint
      },
    });
    expect(r.reason).toBe('finished');
    expect(r.step).toBe(6);
    expect(errors[0]).toBeNull();
    expect(errors.slice(1).every((m) => /storage quota is full: the previous checkpoint is kept/.test(m ?? ''))).toBe(true);
    expect(r.checkpointError).toMatch(/quota is full/);
    // The checkpoint on disk is still the first one, and it resumes.
    const saved = await inner.load('q', 'last');
    const e2 = await engineWithModel(inner);
    const steps: number[] = [];
    await e2.request('train', { runId: 'q', config: config({ evalEvery: 0, sampleEvery: 0 }), data, resume: true }, { onTrain: (ev) => ev.type === 'trainStep' && steps.push(ev.metrics.step) });
    expect(saved).not.toBeNull();
    expect(steps[0]).toBe(3);
  });

  it('a snapshot that cannot be made (an allocation failure) is a checkpoint error, not the end of the run', async () => {
    const e = await engineWithModel(memoryCheckpointStore());
    const spy = vi.spyOn(Trainer.prototype, 'snapshot').mockRejectedValueOnce(new RangeError('Array buffer allocation failed'));
    const errors: (string | null)[] = [];
    try {
      const r = await e.request('train', { runId: 's', config: config({ evalEvery: 0, sampleEvery: 0 }), data, resume: false }, { onTrain: (ev) => ev.type === 'trainCheckpoint' && errors.push(ev.error) });
      expect(r.reason).toBe('finished');
      expect(errors[0]).toMatch(/the checkpoint could not be saved \(Array buffer allocation failed\): the previous one is kept/);
      expect(errors.at(-1)).toBeNull(); // the later checkpoints are saved
    } finally {
      spy.mockRestore();
    }
  });

  it('a WASM abort mid-run becomes one "out of memory" message that says what to change; other errors pass as they are', async () => {
    const e = await engineWithModel(memoryCheckpointStore());
    const abort = vi.spyOn(Trainer.prototype, 'queueStep').mockRejectedValueOnce(new WebAssembly.RuntimeError('memory access out of bounds'));
    try {
      await expect(e.request('train', { runId: 'oom', config: config({ evalEvery: 0, sampleEvery: 0 }), data, resume: false })).rejects.toThrow(
        /^out of memory: the WASM backend's 4 GiB heap ran out \(memory access out of bounds\)\. Train with LoRA, with activation checkpointing turned on or with a smaller batch size or max length .*, or use WebGPU; the engine restarts, and a run resumes from its last checkpoint$/,
      );
      abort.mockRejectedValueOnce(new Error('the train split is empty: add examples'));
      await expect(e.request('train', { runId: 'other', config: config({ evalEvery: 0, sampleEvery: 0 }), data, resume: false })).rejects.toThrow(/^the train split is empty: add examples$/);
    } finally {
      abort.mockRestore();
    }
  });

  it('a product that failed inside XNNPACK mid-run ends the run at that step, before its weights can be checkpointed', async () => {
    const inner = memoryCheckpointStore();
    const savedAt: number[] = [];
    let steps = 0;
    const store: CheckpointStore = {
      ...inner,
      save: async (runId, kind, bytes) => {
        savedAt.push(steps);
        await inner.save(runId, kind, bytes);
        // What tfjs-wasm prints (and only prints) when XNNPACK cannot run a product: the next step meets it.
        if (savedAt.length === 1) noteModuleOutput('XNN status for xnn_setup_fully_connected_nc_f32 is not successful. Got status 6');
      },
    };
    const e = await engineWithModel(store);
    const run = e.request('train', { runId: 'x', config: config({ evalEvery: 0, sampleEvery: 0, checkpointEvery: 1 }), data, resume: false }, { onTrain: (ev) => ev.type === 'trainStep' && steps++ });
    await expect(run).rejects.toThrow(/out of memory: .*a matrix product failed inside XNNPACK.*Got status 6 \(XNNPACK ran out of memory\)/);
    expect(steps).toBe(1);
    expect(savedAt).toEqual([1]); // step 2's weights were never saved
    expect(takeXnnFailure()).toBeNull();
  });

  it('estimates memory and steps for the loaded model', async () => {
    const e = await engineWithModel(memoryCheckpointStore());
    const est = await e.request('estimateTraining', { config: config({ maxSteps: 0, epochs: 2 }), trainExamples: 40, seqLen: 64 });
    expect(est.totalSteps).toBe(20);
    expect(est.memory.verdict).toBe('fits');
    expect(est.trainableParams).toBeGreaterThan(3_000_000);
    const lora = await e.request('estimateTraining', { config: config({ method: 'lora' }), trainExamples: 40, seqLen: 64 });
    expect(lora.trainableParams).toBeLessThan(est.trainableParams / 100);
  });
});
