/**
 * The bigger shapes on one backend, one measurement per worker (so that the WASM heap's size,
 * which only grows, is that measurement's peak): decoding with the KV cache, and LoRA r8 (every
 * block linear) and full fine-tune steps where the estimate says they fit, each beside the same
 * run's matmul roofline. Random weights of the real shapes (Pythia-160m and -410m at 4×128,
 * SmolLM2-135M at 8×128); float32 in memory, as a loaded float16 or bfloat16 file is.
 */
import { wasmHeapBytes, whileTraining } from '../backend/backend';
import { toBf16Values } from '../model/bf16Weights';
import { decodingLayout, disposeModel, layoutOf, toDecoding } from '../model/decodeLayout';
import { fusedKernelsOn } from '../model/fused';
import { generate } from '../model/generate';
import type { ForwardContext } from '../model/forward';
import { countParams, initRandomData, linearNames, paramsFromData } from '../model/params';
import { parseConfig, type ModelConfig } from '../model/config';
import { GREEDY } from '../model/sampling';
import { PYTHIA_SHAPES, tinyConfig } from '../model/tinyConfig';
import type { BackendInfo } from '../protocol/protocol';
import { estimateMemory, resolveCheckpointing } from '../train/estimate';
import { DEFAULT_TRAIN } from '../train/presets';
import { Trainer } from '../train/trainer';
import type { TrainConfig } from '../train/types';
import { matmulRoofline, type BenchLine } from './benchmarks';
import { syntheticRows } from './trainBenchmarks';

export type ShapeName = '160m' | '410m' | 'smollm2-135m';
export type ShapeRun = 'decode' | 'lora' | 'full';

/**
 * Each shape's config and training batch, and whether its weights are bfloat16 values (SmolLM2's
 * file is bfloat16; Pythia's are float16). SmolLM2-135M: 30 layers, hidden 576, 9 heads over 3
 * key/value heads, vocabulary 49,152, tied head.
 */
function shape(name: ShapeName): { config: ModelConfig; label: string; B: number; bf16?: boolean } {
  if (name === 'smollm2-135m') {
    const config = parseConfig({
      model_type: 'llama', vocab_size: 49152, hidden_size: 576, num_hidden_layers: 30, num_attention_heads: 9, num_key_value_heads: 3,
      intermediate_size: 1536, max_position_embeddings: 8192, rope_theta: 100000, rms_norm_eps: 1e-5, tie_word_embeddings: true,
    });
    return { config, label: 'smollm2-135m', B: 8, bf16: true };
  }
  return { config: tinyConfig({ ...PYTHIA_SHAPES[name], seed: 0 }), label: `pythia-${name}`, B: 4 };
}

const T = 128;
/** Timed steps after one warm-up step: a 410m LoRA step takes about a minute on 2 cores. */
const STEPS = 2;

export async function runShapeBenchmark(backend: BackendInfo, name: ShapeName, run: ShapeRun, emit: (line: BenchLine) => void): Promise<void> {
  const gflops = await matmulRoofline(1024);
  const { config, label, B, bf16 } = shape(name);
  const base = { backend: backend.name, wasmThreads: backend.wasmThreads, shape: label, params: countParams(config), matmul_gflops: +gflops.toFixed(2) };
  const data = initRandomData(config, 0);
  if (bf16) for (const v of data.values()) toBf16Values(v); // as the bfloat16 file loads
  const ctx: ForwardContext = { params: paramsFromData(config, data), config };
  const heap = () => wasmHeapBytes();
  try {
    if (run === 'decode') {
      toDecoding(ctx, decodingLayout(config, backend.name, fusedKernelsOn()));
      const layout = layoutOf(ctx); // 'bf16' where the weights allow it, over what decodingLayout asks
      const prompt = Array.from({ length: 8 }, (_, i) => 100 + i);
      const once = async (n: number) => {
        const t0 = performance.now();
        const { ids } = await generate(ctx, prompt, { ...GREEDY, maxNewTokens: n, seed: 0, eosTokenIds: [], useCache: true });
        return { n: ids.length, ms: performance.now() - t0 };
      };
      await once(4); // packs every weight once (XNNPACK), as the first answer of a session does
      const { n, ms } = await once(32);
      emit({ ...base, figure: 'decode_tokens_per_s_kv_cache', value: +(n / (ms / 1000)).toFixed(1), layout, prompt_tokens: 8, new_tokens: n, heap_peak_bytes: heap() });
      return;
    }
    const lora: TrainConfig['lora'] = { rank: 8, alpha: 16, dropout: 0, targets: linearNames(config) };
    const asked: TrainConfig = { ...DEFAULT_TRAIN, method: run, lora, batchSize: B, maxSteps: 100, evalEvery: 0 };
    const limits = { name: backend.name, limits: backend.limits };
    const { train: c, auto } = resolveCheckpointing(config, asked, T, limits);
    const estimate = estimateMemory(config, c, T, limits);
    const line = { ...base, figure: 'train_step_tokens_per_s', method: run, batch: `${B}x${T}`, checkpoint: c.activationCheckpointing === true, checkpoint_auto: auto, estimate_bytes: estimate.total, estimate_verdict: estimate.verdict };
    if (estimate.verdict === 'wont-fit') {
      emit({ ...line, value: null, error: `not run: ${estimate.reason}` });
      return;
    }
    const trainer = new Trainer(ctx, { train: syntheticRows(4 * B, T, Math.min(config.vocabSize, 50277)), test: [], maxLength: T, padId: 0 }, c);
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
