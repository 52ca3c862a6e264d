/**
 * Engine benchmarks, run inside a worker of the built app (see scripts/bench.ts).
 * Each figure is one JSON line, beside the same backend's matmul roofline from the same run.
 */
import * as tf from '@tensorflow/tfjs-core';
import { parseConfig, type ModelConfig } from '../model/config';
import { generate } from '../model/generate';
import { disposeModel } from '../model/decodeLayout';
import { transposedWeights, type ForwardContext } from '../model/forward';
import { lossAndGrads } from '../model/objective';
import { countParams, initRandomData, paramsFromData } from '../model/params';
import { GREEDY } from '../model/sampling';
import type { BackendInfo } from '../protocol/protocol';
import { matmulGflops } from '../backend/matmulSpeed';
import { setFusedKernels } from '../backend/webgpu/register';
import { runDispatchBenchmarks } from './dispatchBenchmarks';
import { runTrainBenchmarks } from './trainBenchmarks';

export type BenchLine = Record<string, string | number | boolean | null>;

const PYTHIA_70M = { hidden_size: 512, num_hidden_layers: 6, num_attention_heads: 8, intermediate_size: 2048 };
/** For software WebGPU (SwiftShader, ~1 GFLOP/s) the 70m shape would take many minutes per step. */
const SMALL = { hidden_size: 128, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 512 };

const shapeConfig = (dims: typeof PYTHIA_70M): ModelConfig =>
  parseConfig({ model_type: 'gpt_neox', vocab_size: 50304, max_position_embeddings: 2048, rotary_pct: 0.25, ...dims });

async function timeIt(reps: number, f: () => Promise<void>): Promise<number> {
  await f(); // warm-up: kernel compilation, buffer pools
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) await f();
  return (performance.now() - t0) / reps;
}

/**
 * Plain (untransposed, the fast path) float32 matMul n×n×n: the backend's own roofline. The best
 * of at least 20 timed calls and 2 s (see matmulGflops): WASM's thread pool takes a few calls to
 * reach speed, and a best of 5 once came out at half the usual figure on this shared machine.
 */
export const matmulRoofline = (n: number): Promise<number> => matmulGflops(n, 20, 2000);

export async function runBenchmarks(backend: BackendInfo, emit: (line: BenchLine) => void): Promise<void> {
  const software = backend.name === 'webgpu' && /swiftshader|cpu/i.test(`${backend.adapter?.description} ${backend.adapter?.architecture} ${backend.adapter?.vendor}`);
  const n = backend.name === 'webgpu' && software ? 256 : 1024;
  const gflops = await matmulRoofline(n);
  const base = { backend: backend.name, adapter: backend.adapter ? `${backend.adapter.vendor} ${backend.adapter.architecture} ${backend.adapter.description}`.trim() : null, wasmThreads: backend.wasmThreads };
  emit({ ...base, figure: 'matmul_gflops', value: +gflops.toFixed(2), n });

  const dims = software ? SMALL : PYTHIA_70M;
  const config = shapeConfig(dims);
  const shape = software ? 'small (hidden 128, 2 layers)' : 'pythia-70m (hidden 512, 6 layers)';
  const params = paramsFromData(config, initRandomData(config, 0));
  const ctx: ForwardContext = { params, config };
  // Plain forward+backward (no checkpointing): 8×128 on the 70m shape exceeds the WASM backend's
  // 4 GiB heap (tfjs 4.22); 4×128 fits. The training figures below run 8×128 with checkpointing.
  const [B, T] = software ? [2, 64] : backend.name === 'wasm' ? [4, 128] : [8, 128];
  const ids = Int32Array.from({ length: B * T }, (_, i) => (i * 7919 + 13) % 50277);
  const names = Object.keys(params);
  const stepMs = await timeIt(2, async () => {
    const r = lossAndGrads(ctx, names, { ids, B, T, lengths: new Array(B).fill(T) });
    await r.loss.data();
    tf.dispose([r.loss, ...Object.values(r.grads)]);
  });
  const P = countParams(config);
  // 6·P FLOPs per token for forward+backward, plus one more LM-head forward (the fused loss recomputes it).
  const flopsPerToken = 6 * P + 2 * config.vocabSize * config.hiddenSize;
  const tokPerS = (B * T) / (stepMs / 1000);
  emit({ ...base, figure: 'train_fwd_bwd_tokens_per_s', value: +tokPerS.toFixed(1), shape, batch: `${B}x${T}`, params: P, achieved_gflops: +((tokPerS * flopsPerToken) / 1e9).toFixed(2), matmul_gflops: +gflops.toFixed(2) });

  ctx.transposed = transposedWeights(params, config);
  const prompt = Array.from({ length: 8 }, (_, i) => 100 + i);
  const newTokens = software ? 8 : 32;
  for (const useCache of [true, false]) {
    let produced = 0;
    const ms = await timeIt(1, async () => {
      produced = (await generate(ctx, prompt, { ...GREEDY, maxNewTokens: newTokens, seed: 0, eosTokenIds: [], useCache })).ids.length;
    });
    emit({ ...base, figure: useCache ? 'decode_tokens_per_s_kv_cache' : 'decode_tokens_per_s_no_cache', value: +(produced / (ms / 1000)).toFixed(1), shape, prompt_tokens: 8, new_tokens: produced, matmul_gflops: +gflops.toFixed(2) });
  }
  disposeModel(ctx);

  if (backend.name === 'webgpu') await runDispatchBenchmarks((line) => emit({ ...base, ...line }));

  // Whole training steps at the shape (8×128); SwiftShader keeps to its small shape. On
  // WebGPU the stock kernels run too, in the same run, for the comparison: on a software adapter
  // only the plain full fine-tune (its steps take 20 s there; all four would pass the page's 20 min).
  const kernelRuns = backend.name === 'webgpu' ? [true, false] : [null];
  for (const fused of kernelRuns) {
    if (fused !== null) setFusedKernels(fused);
    const line = fused === null ? base : { ...base, kernels: fused ? 'fused' : 'stock' };
    await runTrainBenchmarks(backend, config, shape, software ? [B, T] : [8, 128], gflops, line, emit, fused === false && software);
  }
  if (backend.name === 'webgpu') setFusedKernels(true);
}
