/**
 * What a WebGPU training step costs the CPU side, fused kernels against tfjs's stock ones in the
 * same run: dispatches, pipeline compilations after warm-up, GPU→CPU reads and new GPU bytes per
 * full fine-tune step of a 6-layer model (Pythia-70m's layer count, heads and vocabulary; the
 * width does not change the count, so it is small enough for a software adapter).
 */
import * as tf from '@tensorflow/tfjs-core';
import { countWebGPU, type CountedBackend, type WebGPUCounts } from '../backend/webgpu/profile';
import { setFusedKernels } from '../backend/webgpu/register';
import { parseConfig } from '../model/config';
import { disposeParams, initRandomData, paramsFromData } from '../model/params';
import { DEFAULT_TRAIN } from '../train/presets';
import { Trainer } from '../train/trainer';
import type { BenchLine } from './benchmarks';

export async function runDispatchBenchmarks(emit: (line: BenchLine) => void): Promise<void> {
  const config = parseConfig({ model_type: 'gpt_neox', vocab_size: 50304, max_position_embeddings: 2048, rotary_pct: 0.25, hidden_size: 64, num_hidden_layers: 6, num_attention_heads: 8, intermediate_size: 256 });
  const [B, T] = [2, 64];
  const train = Array.from({ length: 4 * B }, (_, r) => ({ ids: Array.from({ length: T }, (_, t) => (r * 7919 + t * 104729 + 13) % 50277), loss: new Uint8Array(T).fill(1), fullLength: T, truncated: 0, completionStart: 1 }));
  const counts: Record<'fused' | 'stock', WebGPUCounts> = {} as Record<'fused' | 'stock', WebGPUCounts>;
  for (const fused of [true, false]) {
    setFusedKernels(fused);
    const model = { params: paramsFromData(config, initRandomData(config, 0)), config };
    const trainer = new Trainer(model, { train, test: [], maxLength: T, padId: 0 }, { ...DEFAULT_TRAIN, batchSize: B, maxSteps: 10, evalEvery: 0 });
    try {
      // Two warm-up steps: pipelines compile in the first, and buffers freed by the first return to
      // tfjs's pool only after it (measured: the second step still allocates, the third does not).
      for (let i = 0; i < 2; i++) await trainer.trainStep();
      counts[fused ? 'fused' : 'stock'] = (await countWebGPU(tf.backend() as unknown as CountedBackend, () => trainer.trainStep())).counts;
    } finally {
      trainer.dispose();
      disposeParams(model.params);
    }
  }
  setFusedKernels(true);
  const shape = `6 layers, 8 heads, vocab 50304, hidden 64; full fine-tune ${B}x${T}`;
  emit({ figure: 'webgpu_dispatches_per_step', fused: counts.fused.dispatches, stock: counts.stock.dispatches, readbacks: counts.fused.readbacks, stock_readbacks: counts.stock.readbacks, shape });
  for (const k of ['fused', 'stock'] as const) emit({ figure: 'webgpu_step_costs', kernels: k, ...counts[k], shape });
}
