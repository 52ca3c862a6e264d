/**
 * The bigger Pythia shapes on one backend, one measurement per worker (so that the WASM heap's
 * size, which only grows, is that measurement's peak): decoding with the KV cache, and LoRA r8 and
 * full fine-tune steps at 4×128 where the estimate says they fit, each beside the same run's matmul
 * roofline. Random weights of the real shapes; float32 in memory, as a loaded float16 file is.
 */
import { wasmHeapBytes, whileTraining } from '../backend/backend';
import { decodingLayout, disposeModel, toDecoding } from '../model/decodeLayout';
import { fusedKernelsOn } from '../model/fused';
import { generate } from '../model/generate';
import type { ForwardContext } from '../model/forward';
import { countParams, initRandomData, paramsFromData } from '../model/params';
import { GREEDY } from '../model/sampling';
import { PYTHIA_SHAPES, tinyConfig } from '../model/tinyConfig';
import type { BackendInfo } from '../protocol/protocol';
import { estimateMemory, resolveCheckpointing } from '../train/estimate';
import { DEFAULT_TRAIN } from '../train/presets';
import { Trainer } from '../train/trainer';
import type { TrainConfig } from '../train/types';
import { matmulRoofline, type BenchLine } from './benchmarks';
import { syntheticRows } from './trainBenchmarks';

export type ShapeName = '160m' | '410m';
export type ShapeRun = 'decode' | 'lora' | 'full';

const [B, T] = [4, 128];
/** Timed steps after one warm-up step: a 410m LoRA step takes about a minute on 2 cores. */
const STEPS = 2;

export async function runShapeBenchmark(backend: BackendInfo, shape: ShapeName, run: ShapeRun, emit: (line: BenchLine) => void): Promise<void> {
  const gflops = await matmulRoofline(1024);
  const config = tinyConfig({ ...PYTHIA_SHAPES[shape], seed: 0 });
  const base = { backend: backend.name, wasmThreads: backend.wasmThreads, shape: `pythia-${shape}`, params: countParams(config), matmul_gflops: +gflops.toFixed(2) };
  const ctx: ForwardContext = { params: paramsFromData(config, initRandomData(config, 0)), config };
  const heap = () => wasmHeapBytes();
  try {
    if (run === 'decode') {
      const layout = decodingLayout(config, backend.name, fusedKernelsOn());
      toDecoding(ctx, layout);
      const prompt = Array.from({ length: 8 }, (_, i) => 100 + i);
      const once = async (n: number) => {
        const t0 = performance.now();
        const { ids } = await generate(ctx, prompt, { ...GREEDY, maxNewTokens: n, seed: 0, eosTokenId: null, useCache: true });
        return { n: ids.length, ms: performance.now() - t0 };
      };
      await once(4); // packs every weight once (XNNPACK), as the first answer of a session does
      const { n, ms } = await once(32);
      emit({ ...base, figure: 'decode_tokens_per_s_kv_cache', value: +(n / (ms / 1000)).toFixed(1), layout, prompt_tokens: 8, new_tokens: n, heap_peak_bytes: heap() });
      return;
    }
    const lora: TrainConfig['lora'] = { rank: 8, alpha: 16, dropout: 0, targets: ['attention.query_key_value', 'attention.dense', 'mlp.dense_h_to_4h', 'mlp.dense_4h_to_h'] };
    const asked: TrainConfig = { ...DEFAULT_TRAIN, method: run, lora, batchSize: B, maxSteps: 100, evalEvery: 0 };
    const limits = { name: backend.name, limits: backend.limits };
    const { train: c, auto } = resolveCheckpointing(config, asked, T, limits);
    const estimate = estimateMemory(config, c, T, limits);
    const line = { ...base, figure: 'train_step_tokens_per_s', method: run, batch: `${B}x${T}`, checkpoint: c.activationCheckpointing === true, checkpoint_auto: auto, estimate_bytes: estimate.total, estimate_verdict: estimate.verdict };
    if (estimate.verdict === 'wont-fit') {
      emit({ ...line, value: null, error: `not run: ${estimate.reason}` });
      return;
    }
    const trainer = new Trainer(ctx, { train: syntheticRows(4 * B, T, 50277), test: [], maxLength: T, padId: 0 }, c);
    try {
      const times = await whileTraining(async () => {
        await trainer.trainStep();
        const out: number[] = [];
        for (let i = 0; i < STEPS; i++) {
          const t0 = performance.now();
          await trainer.trainStep();
          out.push(performance.now() - t0);
        }
        return out;
      });
      const ms = times.reduce((a, b) => a + b, 0) / times.length;
      const peak = heap();
      emit({ ...line, value: +((B * T) / (ms / 1000)).toFixed(1), step_ms: Math.round(ms), heap_peak_bytes: peak, peak_over_estimate: peak === null ? null : +(peak / estimate.total).toFixed(2) });
    } catch (e) {
      emit({ ...line, value: null, error: (e as Error).message.slice(0, 200), heap_peak_bytes: heap() });
    } finally {
      trainer.dispose();
    }
  } finally {
    disposeModel(ctx);
  }
}
