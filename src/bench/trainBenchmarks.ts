/**
 * Training benchmarks: whole optimizer steps (forward, backward, clipping, AdamW) of the Trainer
 * on the Pythia-70m shape at 8×128, full fine-tune and LoRA, each with and without activation
 * checkpointing, with the step's measured peak tensor memory (tf.profile) beside the trainer's
 * own estimate.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { EncodedExample } from '../data/types';
import type { ModelConfig } from '../model/config';
import { disposeParams, initRandomData, paramsFromData } from '../model/params';
import type { BackendInfo } from '../protocol/protocol';
import { estimateMemory, flopsPerStep } from '../train/estimate';
import { DEFAULT_TRAIN } from '../train/presets';
import { Trainer } from '../train/trainer';
import type { TrainConfig } from '../train/types';
import type { BenchLine } from './benchmarks';

/** Timed steps per run, after the profiled one (which also warms up). */
const STEP_REPS = 5;

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Rows of exactly T tokens, all carrying loss: every step is the full B×T shape. */
export function syntheticRows(n: number, T: number, vocab: number): EncodedExample[] {
  return Array.from({ length: n }, (_, r) => {
    const ids = Array.from({ length: T }, (_, t) => (r * 7919 + t * 104729 + 13) % vocab);
    const loss = new Uint8Array(T).fill(1);
    loss[0] = 0;
    return { ids, loss, fullLength: T, truncated: 0, completionStart: 1 };
  });
}

export async function runTrainBenchmarks(
  backend: BackendInfo,
  config: ModelConfig,
  shape: string,
  [B, T]: [number, number],
  matmulGflops: number,
  base: Record<string, unknown>,
  emit: (line: BenchLine) => void,
  /** Only the plain full fine-tune (no checkpointing): a comparison run where every step costs minutes. */
  fullOnly = false,
): Promise<void> {
  const model = { params: paramsFromData(config, initRandomData(config, 0)), config };
  const data = { train: syntheticRows(4 * B, T, 50277), test: [], maxLength: T, padId: 0 };
  const lora: TrainConfig['lora'] = { rank: 8, alpha: 16, dropout: 0, targets: ['attention.query_key_value', 'attention.dense', 'mlp.dense_h_to_4h', 'mlp.dense_4h_to_h'] };
  const common = { ...DEFAULT_TRAIN, batchSize: B, maxSteps: 100, evalEvery: 0 };
  // LoRA first: if a run runs out of WASM memory, the heap may not recover for another run. A
  // run the estimate says will not fit is reported as such, not tried (the full fine-tune at
  // 8×128 without checkpointing: its OOM was measured before, see docs/BENCHMARKS.md).
  const runs: [string, TrainConfig][] = [
    ['lora', { ...common, method: 'lora', lora }],
    ['lora', { ...common, method: 'lora', lora, activationCheckpointing: true }],
    ['full', { ...common, activationCheckpointing: true }],
    ['full', common],
  ];
  for (const [method, c] of fullOnly ? runs.filter(([m, c]) => m === 'full' && !c.activationCheckpointing) : runs) {
    const estimate = estimateMemory(config, c, T, { name: backend.name, limits: backend.limits });
    const checkpoint = c.activationCheckpointing === true;
    const line = { ...base, shape, batch: `${B}x${T}`, method, lora: method === 'lora' ? 'r8 on all four block linears' : null, checkpoint, matmul_gflops: +matmulGflops.toFixed(2), estimate_bytes: estimate.total, estimate_verdict: estimate.verdict };
    if (estimate.verdict === 'wont-fit') {
      emit({ ...line, figure: 'train_step_tokens_per_s', value: null, error: `not run: ${estimate.reason}` });
      continue;
    }
    let trainer: Trainer | null = null;
    try {
      trainer = new Trainer(model, data, c);
      // tf.profile's peakBytes is the largest total of live tensor bytes after any kernel (absolute).
      const profile = await tf.profile(async () => {
        await trainer!.trainStep();
      });
      // The median of several steps: the machine is shared, and one slow step (a neighbour's
      // burst stalls the whole thread pool) should not move the figure.
      const times: number[] = [];
      for (let i = 0; i < STEP_REPS; i++) {
        const t0 = performance.now();
        await trainer.trainStep();
        times.push(performance.now() - t0);
      }
      const ms = median(times);
      const peak = profile.peakBytes;
      const tokPerS = (B * T) / (ms / 1000);
      // Achieved GFLOP/s counts the step's matmul FLOPs (recomputation included) as the Train tab does.
      const gflops = (flopsPerStep(config, c, B * T, T) / (ms / 1000)) / 1e9;
      emit({ ...line, figure: 'train_step_tokens_per_s', value: +tokPerS.toFixed(1), step_ms: Math.round(ms), step_ms_range: `${Math.round(Math.min(...times))}–${Math.round(Math.max(...times))}`, achieved_gflops: +gflops.toFixed(2), peak_bytes: peak, peak_over_estimate: +(peak / estimate.total).toFixed(2) });
    } catch (e) {
      emit({ ...line, figure: 'train_step_tokens_per_s', value: null, error: (e as Error).message.slice(0, 200) });
    } finally {
      trainer?.dispose();
    }
  }
  disposeParams(model.params);
}
