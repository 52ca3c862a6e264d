/**
 * A model of Pythia-160m's full shape on WASM, through the engine as the studio drives it: a
 * float16 model.safetensors (as the Hub ships it) with seeded random weights loads, decodes the
 * float64 PyTorch reference's greedy tokens with the KV cache (fixtures/shapes, written by
 * scripts/shape_fixture.ts from the same seed), and takes a LoRA step.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInProcessEngine } from './inProcess';
import type { EngineApi, GenerateParams } from '../protocol/protocol';
import type { StepMetrics } from '../train/types';
import { config, courseData } from '../testing/engineTesting';
import { shapeFixturePath, type ShapeFixture } from '../testing/shapes';
import { bundledTokenizerJson, filesOfDir, WASM_DIR, writeTinyModelDir } from '../testing/tinyModel';

const fixture = JSON.parse(readFileSync(shapeFixturePath('pythia-160m'), 'utf8')) as ShapeFixture;
const greedy: GenerateParams = { prompt: fixture.prompt, maxNewTokens: fixture.tokens.length, temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, seed: 0, stopStrings: [], useCache: true };

describe('the Pythia-160m shape on WASM (float16 file, seeded random weights)', () => {
  let dir: string;
  let engine: EngineApi;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'shape-160m-'));
    writeTinyModelDir(dir, { spec: fixture.spec, std: fixture.std, dtype: 'F16' });
    engine = createInProcessEngine({ wasmPaths: WASM_DIR, bundledTokenizer: async () => bundledTokenizerJson() });
    await engine.request('init', { backend: 'wasm' });
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('loads, and decodes the PyTorch reference’s greedy tokens with the KV cache', async () => {
    const info = await engine.request('loadModel', { source: { kind: 'files', files: filesOfDir(dir) } });
    expect(info.paramCount).toBe(162_322_944);
    expect(info.config).toMatchObject({ hiddenSize: 768, numLayers: 12, numHeads: 12 });
    const r = await engine.request('generate', greedy);
    expect(r.promptTokens).toBe(fixture.promptIds.length);
    expect(r.tokenIds).toEqual(fixture.tokens);
  }, 120_000);

  it('takes a LoRA step on the course data, and the base decodes as before afterwards', async () => {
    const data = courseData(12);
    const cfg = config({ method: 'lora', batchSize: 2, maxSteps: 1, evalEvery: 0, sampleEvery: 0, checkpointEvery: 0 });
    const steps: StepMetrics[] = [];
    await engine.request('train', { runId: 'shape-lora', config: cfg, data, resume: false }, { onTrain: (ev) => ev.type === 'trainStep' && steps.push(ev.metrics) });
    expect(steps).toHaveLength(1);
    // Random weights predict about uniformly over the 50,304 rows: the loss is near ln(50,304) = 10.83.
    expect(Math.abs(steps[0].loss - Math.log(50304))).toBeLessThan(0.5);
    expect(steps[0].gradNorm).toBeGreaterThan(0);
    expect((await engine.request('generate', greedy)).tokenIds).toEqual(fixture.tokens);
  }, 180_000);
});
