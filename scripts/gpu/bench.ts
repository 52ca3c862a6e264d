/**
 * The WebGPU half of the GPU check (scripts/gpu/run.sh), bundled by scripts/gpu/pack.ts into
 * .gpu/bench.mjs so it runs with `node` alone: no node_modules, Dawn from NEOX_DAWN_NODE.
 *
 *   NEOX_DAWN_NODE=.gpu/dawn.node node .gpu/bench.mjs [--smoke]
 *
 * From the repository root. One JSON line per figure on stdout:
 *   adapter       what Dawn got (stops here, with an error line, when it got none);
 *   parity        3 training steps of the parallel-rot025-f32 fixture with the fused kernels and the
 *                 on-device AdamW against fixtures/train/adamw-golden.json (torch.optim.AdamW, float64):
 *                 losses within 1e-3;
 *   dispatches    a full fine-tune step of the 70m shape, fused against stock;
 *   train_step    tokens/s of full fine-tune and LoRA steps at 8×128 on the Pythia 70m / 160m / 410m
 *                 shapes, fused and stock (median of 3 steps after a warm-up), until the time budget
 *                 (GPU_BENCH_BUDGET_S, default 240) runs out; a run left out says so.
 * --smoke: tiny shapes and batches, to check the script on a software adapter (also chosen by itself
 * when Dawn's adapter is a software one: the Pythia shapes would take many minutes a step there).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, softwareAdapter } from '../../src/backend/backend';
import { installDawnGpu } from '../../src/backend/dawnNode';
import { countWebGPU, type CountedBackend } from '../../src/backend/webgpu/profile';
import { setFusedKernels } from '../../src/backend/webgpu/register';
import { loadModel } from '../../src/model/checkpoint';
import { parseConfig, type ModelConfig } from '../../src/model/config';
import { lossAndGrads } from '../../src/model/objective';
import { disposeParams, initRandomData, paramsFromData, type Params } from '../../src/model/params';
import { AdamW, decayFromSpecs } from '../../src/train/adamw';
import { CTL, gradControl } from '../../src/train/deviceOptimizer';
import { DEFAULT_TRAIN } from '../../src/train/presets';
import { learningRate } from '../../src/train/schedule';
import { Trainer } from '../../src/train/trainer';
import type { TrainConfig } from '../../src/train/types';

let smoke = process.argv.includes('--smoke');
const budgetMs = Number(process.env.GPU_BENCH_BUDGET_S ?? 240) * 1000;
const started = Date.now();
const emit = (line: Record<string, unknown>): void => void process.stdout.write(`${JSON.stringify(line)}\n`);
/** Steps timed back to back, queued as the studio queues them (see trainRun). */
const PIPELINED_STEPS = 4;
const REPO = process.cwd();

type Dims = { hidden_size: number; num_hidden_layers: number; num_attention_heads: number; intermediate_size: number };
const shapesFor = (tiny: boolean): Record<string, Dims> =>
  tiny
    ? { tiny: { hidden_size: 64, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 256 } }
    : {
        'pythia-70m': { hidden_size: 512, num_hidden_layers: 6, num_attention_heads: 8, intermediate_size: 2048 },
        'pythia-160m': { hidden_size: 768, num_hidden_layers: 12, num_attention_heads: 12, intermediate_size: 3072 },
        'pythia-410m': { hidden_size: 1024, num_hidden_layers: 24, num_attention_heads: 16, intermediate_size: 4096 },
      };
let SHAPES = shapesFor(smoke);
let [B, T] = smoke ? [2, 32] : [8, 128];
let VOCAB = smoke ? 512 : 50304;

const shapeConfig = (dims: Dims): ModelConfig => parseConfig({ model_type: 'gpt_neox', vocab_size: VOCAB, max_position_embeddings: 2048, rotary_pct: 0.25, ...dims });

/** Rows of exactly T tokens, all carrying loss, as the studio's bench uses. */
const rows = (n: number) =>
  Array.from({ length: n }, (_, r) => ({ ids: Array.from({ length: T }, (_, t) => (r * 7919 + t * 104729 + 13) % (VOCAB - 27)), loss: new Uint8Array(T).fill(1), fullLength: T, truncated: 0, completionStart: 1 }));

const LORA: TrainConfig['lora'] = { rank: 8, alpha: 16, dropout: 0, targets: ['attention.query_key_value', 'attention.dense', 'mlp.dense_h_to_4h', 'mlp.dense_4h_to_h'] };

/** The studio's AdamW golden steps (see src/train/adamw.test.ts) on the device path. */
async function parity(): Promise<void> {
  const dir = path.join(REPO, 'fixtures');
  const golden = JSON.parse(readFileSync(path.join(dir, 'train/adamw-golden.json'), 'utf8'));
  const f = JSON.parse(readFileSync(path.join(dir, 'parallel-rot025-f32/golden.json'), 'utf8'));
  const model = loadModel(JSON.parse(readFileSync(path.join(dir, 'parallel-rot025-f32/config.json'), 'utf8')), [new Uint8Array(readFileSync(path.join(dir, 'parallel-rot025-f32/model.safetensors')))]);
  const batch = { ids: Int32Array.from(f.ids.flat()), B: f.ids.length, T: f.ids[0].length, lengths: f.lengths };
  const opt = new AdamW(decayFromSpecs(model.config), golden.optimizer);
  const losses: number[] = [];
  for (let s = 0; s < golden.steps; s++) {
    const r = lossAndGrads(model, Object.keys(model.params), batch);
    const ctl = gradControl(r.grads, r.loss, golden.optimizer.maxGradNorm);
    const lr = learningRate(s, golden.schedule.totalSteps, golden.optimizer.lr, golden.schedule);
    const next: Params = opt.stepOnDevice(model.params, r.grads, lr, ctl);
    losses.push((await ctl.data())[CTL.loss]);
    tf.dispose([r.loss, ctl, ...Object.values(r.grads)]);
    for (const [n, t] of Object.entries(next)) {
      model.params[n].dispose();
      model.params[n] = t;
    }
  }
  const worst = Math.max(...losses.map((l, i) => Math.abs(l - golden.losses[i]) / golden.losses[i]));
  emit({ figure: 'parity_webgpu_vs_pytorch', losses, pytorch: golden.losses, max_rel_diff: worst, ok: worst < 1e-3 });
  opt.dispose();
  disposeParams(model.params);
}

async function trainRun(shape: string, method: 'full' | 'lora', fused: boolean, countDispatches: boolean): Promise<void> {
  const line = { figure: 'webgpu_train_step', shape, method, kernels: fused ? 'fused' : 'stock', batch: `${B}x${T}` };
  if (Date.now() - started > budgetMs) return emit({ ...line, value: null, error: 'not run: the time budget is spent' });
  setFusedKernels(fused);
  const config = shapeConfig(SHAPES[shape]);
  const model = { params: paramsFromData(config, initRandomData(config, 0)), config };
  const c: TrainConfig = { ...DEFAULT_TRAIN, batchSize: B, maxSteps: 100, evalEvery: 0, ...(method === 'lora' ? { method: 'lora', lora: LORA } : {}) };
  let trainer: Trainer | null = null;
  try {
    trainer = new Trainer(model, { train: rows(8 * B), test: [], maxLength: T, padId: 0 }, c);
    await trainer.trainStep(); // warm-up: pipelines compile, buffers are pooled
    const counts = countDispatches ? (await countWebGPU(tf.backend() as unknown as CountedBackend, () => trainer!.trainStep())).counts : null;
    const times: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      const m = await trainer.trainStep();
      times.push(performance.now() - t0);
      if (!Number.isFinite(m.loss)) throw new Error(`loss ${m.loss}`);
    }
    const ms = [...times].sort((a, b) => a - b)[1];
    // As the studio trains (runTraining): each step queued while the GPU still runs the one
    // before, its metrics read a step late, so the CPU's encoding overlaps the GPU's work.
    const t0 = performance.now();
    for (let i = 0; i < PIPELINED_STEPS; i++) await trainer.queueStep();
    await trainer.settle();
    const pipelined = (performance.now() - t0) / PIPELINED_STEPS;
    emit({ ...line, value: +((B * T) / (pipelined / 1000)).toFixed(1), unit: 'tokens/s', step_ms: +pipelined.toFixed(1), settled_step_ms: +ms.toFixed(1), settled_step_ms_range: `${times.map((t) => t.toFixed(1)).join(', ')}`, ...(counts ? { dispatches: counts.dispatches, readbacks: counts.readbacks, pipelines_after_warmup: counts.pipelines } : {}) });
  } catch (e) {
    emit({ ...line, value: null, error: (e as Error).message.slice(0, 300) });
  } finally {
    trainer?.dispose();
    disposeParams(model.params);
    setFusedKernels(true);
  }
}

async function main(): Promise<void> {
  tf.env().set('PROD', true);
  const dawn = await installDawnGpu();
  if (typeof dawn === 'string') {
    emit({ figure: 'adapter', error: dawn });
    process.exit(1);
  }
  const info = await initBackend('webgpu', { wasmPaths: '' });
  if (!smoke && softwareAdapter({ info: { description: dawn.description } })) {
    smoke = true;
    SHAPES = shapesFor(true);
    [B, T, VOCAB] = [2, 32, 512];
  }
  emit({ figure: 'adapter', dawn: dawn.backend, description: dawn.description, limits: info.limits, reason: info.reason, smoke });
  await parity();
  for (const shape of Object.keys(SHAPES)) {
    for (const method of ['full', 'lora'] as const) {
      for (const fused of [true, false]) await trainRun(shape, method, fused, shape === Object.keys(SHAPES)[0] && method === 'full');
    }
  }
  emit({ figure: 'webgpu_bench_seconds', value: Math.round((Date.now() - started) / 1000) });
}

main().catch((e: unknown) => {
  emit({ figure: 'error', message: e instanceof Error ? e.message : String(e) });
  process.exit(1);
});
