/**
 * The GGUF exports in a real client: llama.cpp (node-llama-cpp's prebuilt binaries) loads the
 * file of a tiny random model of each family, and its greedy tokens and next-token
 * log-probabilities (the whole vocabulary) are compared with the engine's on the same weights:
 * - F32: the engine's own weights;
 * - F16 and Q8_0: the engine on the weights as the file stores them (rounded to float16, or each
 *   block's int8 times its scale), within what llama.cpp's own rounding of activations allows
 *   (TOLERANCE); and Q8_0's perplexity on a few rows of text against the float32 model's. (The
 *   8-bit weights alone can change a random model's greedy tokens: Qwen3's here, from the first.)
 * - a LoRA adapter GGUF on the F32 base (llama.cpp's --lora) against the engine's LoRA forward.
 */
import * as tf from '@tensorflow/tfjs-core';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tokenizerFromJson } from '../data/tokenizer';
import type { ModelConfig, ModelType } from '../model/config';
import { hiddenStates, lmHead, type ForwardContext } from '../model/forward';
import { disposeParams, initRandomData, linearNames, paramSpecs, paramsFromData, type Params } from '../model/params';
import { f32ToF16 } from '../model/safetensors';
import { tinyConfig } from '../model/tinyConfig';
import { startTestBackend } from '../testing/fixtures';
import { loadGguf, type LoadedGguf } from '../testing/llamaCpp';
import { createLoraParams, loraContext, loraScale } from '../train/lora';
import type { LoraConfig } from '../train/types';
import { Q8_0_BLOCK, quantizeQ8_0 } from './ggufFile';
import { ggufAdapterFile, ggufModelFile, type GgufDtype } from './ggufModel';

const TOKENIZER_JSON: unknown = JSON.parse(readFileSync(new URL('../../public/tokenizers/pythia/tokenizer.json', import.meta.url), 'utf8'));
const tokenizer = tokenizerFromJson(TOKENIZER_JSON);
const PROMPT = tokenizer.encode('The studio trains a model in the browser');
const ROWS = ['Lamini can fine-tune a model on your own data, and llama.cpp runs it.'].map((t) => tokenizer.encode(t));
const NEW_TOKENS = 5;

/**
 * Largest |Δ log p| over the vocabulary that counts as the same model, measured on these models
 * (in brackets) with llama.cpp's CPU kernels:
 * - f32: float32 sums in another order (≤ 7e-6); for the GELU families (GPT-NeoX, GPT-2) llama.cpp
 *   reads GELU from a float16 table (1.8e-3, 0.9e-3);
 * - f16: llama.cpp's F16 products round the activations to float16 too (≤ 2.5e-3);
 * - q8_0: its Q8_0 products quantize the activations to 8-bit blocks as well (≤ 0.057).
 */
const TOLERANCE = { f32: 1e-4, f16: 5e-3, q8_0: 0.1 };
const GELU_F32 = 5e-3;

const half = new Float32Array(1);
const halfBits = new Uint32Array(half.buffer);
/** IEEE half → float (exact). */
function fromHalf(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 31) return mant ? NaN : sign * Infinity;
  halfBits[0] = ((h & 0x8000) << 16) | ((exp - 15 + 127) << 23) | (mant << 13);
  return half[0];
}

const roundHalf = (x: Float32Array): Float32Array => Float32Array.from(f32ToF16(x), fromHalf);

/** What llama.cpp reads back from a Q8_0 tensor: each block's float16 scale times its int8 values. */
function dequantizeQ8_0(x: Float32Array): Float32Array {
  const bytes = quantizeQ8_0(x);
  const view = new DataView(bytes.buffer);
  const out = new Float32Array(x.length);
  for (let b = 0; b < x.length / Q8_0_BLOCK; b++) {
    const d = fromHalf(view.getUint16(b * 34, true));
    for (let i = 0; i < Q8_0_BLOCK; i++) out[b * Q8_0_BLOCK + i] = Math.fround(d * view.getInt8(b * 34 + 2 + i));
  }
  return out;
}

/** The weights as a file of `dtype` stores them (the export's type rule: 2-D weights other than GPT-2's positions are converted). */
function asStored(c: ModelConfig, data: Map<string, Float32Array>, dtype: GgufDtype): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const s of paramSpecs(c)) {
    const x = data.get(s.name)!;
    const converted = dtype !== 'f32' && s.shape.length === 2 && s.name !== 'transformer.wpe.weight';
    if (!converted) out.set(s.name, x);
    else if (dtype === 'q8_0' && s.shape[1] % Q8_0_BLOCK === 0) out.set(s.name, dequantizeQ8_0(x));
    else out.set(s.name, roundHalf(x));
  }
  return out;
}

/** log-softmax of the next-token logits after `ids` (the engine, float32, widened). */
function engineLogProbs(ctx: ForwardContext, ids: number[], at = [ids.length - 1]): Float64Array[] {
  const all = tf.tidy(() => tf.logSoftmax(lmHead(ctx, hiddenStates(ctx, tf.tensor2d(Int32Array.from(ids), [1, ids.length], 'int32'))))); // (T, V)
  const rows = all.arraySync() as number[][];
  all.dispose();
  return at.map((i) => Float64Array.from(rows[i]));
}

function engineGreedy(ctx: ForwardContext, ids: number[], n: number): number[] {
  const seq = [...ids];
  for (let i = 0; i < n; i++) {
    const lp = engineLogProbs(ctx, seq)[0];
    let best = 0;
    for (let v = 1; v < lp.length; v++) if (lp[v] > lp[best]) best = v;
    seq.push(best);
  }
  return seq.slice(ids.length);
}

const maxDiff = (a: Float64Array, b: Float64Array): number => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);

/** Perplexity of each row (every next token after the first), from per-position log-probabilities. */
async function perplexity(logProbs: (ids: number[], at: number[]) => Promise<Float64Array[]> | Float64Array[], rows: number[][]): Promise<number> {
  let nll = 0;
  let n = 0;
  for (const ids of rows) {
    const at = ids.slice(0, -1).map((_, i) => i);
    const lps = await logProbs(ids, at);
    lps.forEach((lp, i) => {
      nll -= lp[ids[i + 1]];
      n++;
    });
  }
  return Math.exp(nll / n);
}

const FAMILIES: ModelType[] = ['gpt_neox', 'llama', 'qwen2', 'qwen3', 'gpt2'];

describe.each(FAMILIES)('GGUF of a tiny %s model in llama.cpp', (family) => {
  const config = tinyConfig({ hiddenSize: 64, numLayers: 2, numHeads: 4, seed: 11, family });
  const tolerance = { ...TOLERANCE, f32: family === 'gpt_neox' || family === 'gpt2' ? GELU_F32 : TOLERANCE.f32 };
  const dir = mkdtempSync(path.join(tmpdir(), `gguf-${family}-`));
  const source = { json: TOKENIZER_JSON, config: null };
  let data: Map<string, Float32Array>;
  let params: Params;
  const opened: LoadedGguf[] = [];
  const open = async (dtype: GgufDtype, weights = data, adapter?: { file: Uint8Array }): Promise<LoadedGguf> => {
    const file = path.join(dir, `${dtype}.gguf`);
    writeFileSync(file, await ggufModelFile({ config, data: weights, tokenizer: source, dtype, name: `tiny ${family}` }));
    let adapterPath: string | undefined;
    if (adapter) {
      adapterPath = path.join(dir, 'adapter.gguf');
      writeFileSync(adapterPath, adapter.file);
    }
    const m = await loadGguf(file, config.vocabSize, adapterPath);
    opened.push(m);
    return m;
  };

  beforeAll(async () => {
    await startTestBackend('wasm');
    // std 0.1 rather than 0.02: peaked enough that greedy choices are not near-ties.
    data = initRandomData(config, 11, 0.1);
    params = paramsFromData(config, data);
  });
  afterAll(async () => {
    for (const m of opened) await m.dispose();
    disposeParams(params);
    rmSync(dir, { recursive: true, force: true });
  });

  it('F32: the same greedy tokens, and log-probabilities within the tolerance', async () => {
    const m = await open('f32');
    const ctx = { params, config };
    expect(await m.greedy(PROMPT, NEW_TOKENS)).toEqual(engineGreedy(ctx, PROMPT, NEW_TOKENS));
    expect(maxDiff((await m.logProbs(PROMPT))[0], engineLogProbs(ctx, PROMPT)[0])).toBeLessThan(tolerance.f32);
  });

  it('F16: the engine on the float16 weights gives llama.cpp\'s tokens and log-probabilities', async () => {
    const m = await open('f16');
    const stored = paramsFromData(config, asStored(config, data, 'f16'));
    const ctx = { params: stored, config };
    expect(await m.greedy(PROMPT, NEW_TOKENS)).toEqual(engineGreedy(ctx, PROMPT, NEW_TOKENS));
    expect(maxDiff((await m.logProbs(PROMPT))[0], engineLogProbs(ctx, PROMPT)[0])).toBeLessThan(tolerance.f16);
    disposeParams(stored);
  });

  it('Q8_0: the engine on the 8-bit weights gives llama.cpp\'s first tokens; perplexity within 1% of float32', async () => {
    const m = await open('q8_0');
    const stored = paramsFromData(config, asStored(config, data, 'q8_0'));
    const ctx = { params: stored, config };
    expect(await m.greedy(PROMPT, 4)).toEqual(engineGreedy(ctx, PROMPT, 4));
    expect(maxDiff((await m.logProbs(PROMPT))[0], engineLogProbs(ctx, PROMPT)[0])).toBeLessThan(tolerance.q8_0);
    disposeParams(stored);
    const exact = await perplexity((ids, at) => engineLogProbs({ params, config }, ids, at), ROWS);
    const q8 = await perplexity((ids, at) => m.logProbs(ids, at), ROWS);
    expect(Math.abs(q8 / exact - 1)).toBeLessThan(0.01);
  });

  it('a LoRA adapter GGUF on the F32 base gives the engine\'s LoRA tokens and log-probabilities (rsLoRA\'s α/√r on Llama and GPT-2)', async () => {
    const lora: LoraConfig = { rank: 4, alpha: 8, dropout: 0, targets: linearNames(config), rslora: family === 'llama' || family === 'gpt2' };
    const adapters = createLoraParams(config, lora, 1);
    for (const n of Object.keys(adapters).filter((k) => k.includes('lora_B'))) {
      adapters[n].dispose();
      adapters[n] = tf.randomNormal(adapters[n].shape, 0, 0.2, 'float32', 5); // PEFT starts B at zero: give it values
    }
    const host = new Map(Object.entries(adapters).map(([n, t]) => [n, { shape: t.shape, data: t.dataSync() as Float32Array }]));
    const m = await open('f32', data, { file: ggufAdapterFile({ config, adapters: host, scale: loraScale(lora), name: 'tiny adapter' }) });
    const ctx: ForwardContext = { params: { ...params, ...adapters }, config, lora: loraContext(lora, 0, false) };
    const base = engineLogProbs({ params, config }, PROMPT)[0];
    const withLora = engineLogProbs(ctx, PROMPT)[0];
    expect(maxDiff(withLora, base)).toBeGreaterThan(0.05); // the adapter changes the model
    expect(await m.greedy(PROMPT, NEW_TOKENS)).toEqual(engineGreedy(ctx, PROMPT, NEW_TOKENS));
    expect(maxDiff((await m.logProbs(PROMPT))[0], withLora)).toBeLessThan(tolerance.f32);
    disposeParams(adapters);
  });
});
