import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestBackend } from '../testing/fixtures';
import { toBf16Values } from './bf16Weights';
import { decodingLayout, disposeModel, layoutOf, toDecoding, toTraining } from './decodeLayout';
import { hiddenStates, lmHead, type ForwardContext, type KVCache } from './forward';
import { batchLoss, lossAndGrads } from './objective';
import { initRandomData, paramsFromData, type Params } from './params';
import { PYTHIA_SHAPES, tinyConfig } from './tinyConfig';

const config = tinyConfig({ hiddenSize: 32, numLayers: 2, numHeads: 4, seed: 3 });
const ids = Int32Array.from([5, 17, 300, 2, 9, 44, 1000, 7, 3, 12, 80, 6]);
const batch = { ids, B: 2, T: 6, lengths: [6, 5] };

/** Rank-2 adapters on two linears of layer 0, B non-zero so that every product carries a gradient. */
function adapters(): Params {
  const out: Params = {};
  for (const [name, [o, i]] of [
    ['gpt_neox.layers.0.attention.query_key_value', [96, 32]],
    ['gpt_neox.layers.1.mlp.dense_4h_to_h', [32, 128]],
  ] as const) {
    out[`${name}.lora_A.weight`] = tf.randomNormal([2, i], 0, 0.1, 'float32', 1);
    out[`${name}.lora_B.weight`] = tf.randomNormal([o, 2], 0, 0.1, 'float32', 2);
  }
  return out;
}

const lossOf = async (ctx: ForwardContext) => {
  const l = tf.tidy(() => batchLoss(ctx, batch));
  const v = (await l.data())[0];
  l.dispose();
  return v;
};

const logitsOf = async (ctx: ForwardContext) => {
  const l = tf.tidy(() => lmHead(ctx, hiddenStates(ctx, tf.tensor2d(ids, [2, 6], 'int32'))));
  const v = await l.data();
  l.dispose();
  return v;
};

describe.each(['wasm', 'cpu'] as const)('the decoding layout on %s', (backend) => {
  beforeAll(() => startTestBackend(backend));
  let ctx: ForwardContext;
  afterEach(() => {
    disposeModel(ctx);
  });
  const fresh = (): ForwardContext => ({ params: paramsFromData(config, initRandomData(config, 3, 0.2)), config });

  it('holds each block matrix as Wᵀ only, gives the same logits and loss, and gives W back exactly', async () => {
    ctx = fresh();
    const w = 'gpt_neox.layers.1.mlp.dense_h_to_4h.weight';
    const original = await ctx.params[w].data();
    const plainLogits = await logitsOf(ctx);
    const plainLoss = await lossOf(ctx);
    const tensors = tf.memory().numTensors;

    toDecoding(ctx, 'decode');
    expect(layoutOf(ctx)).toBe('decode');
    expect(ctx.params[w]).toBeUndefined();
    expect(ctx.transposed![w].shape).toEqual([32, 128]);
    expect(ctx.params['embed_out.weight']).toBeDefined(); // the loss gathers target rows from W
    expect(tf.memory().numTensors).toBe(tensors + 1); // block matrices swapped; only the head's Wᵀ is new
    expect(await logitsOf(ctx)).toEqual(plainLogits);
    expect(await lossOf(ctx)).toBe(plainLoss);

    toTraining(ctx);
    expect(layoutOf(ctx)).toBe('plain');
    expect(ctx.transposed).toBeUndefined();
    expect(await ctx.params[w].data()).toEqual(original);
    expect(tf.memory().numTensors).toBe(tensors);
  });

  it('trains adapters over a base held as Wᵀ: the same loss and gradients as over W, with and without checkpointing', async () => {
    ctx = fresh();
    const lora = adapters();
    const names = Object.keys(lora);
    const run = (c: ForwardContext, checkpoint: boolean) => {
      const r = lossAndGrads({ ...c, params: { ...c.params, ...lora }, lora: { scale: 2, dropout: 0, seed: 0 } }, names, batch, { checkpoint });
      return r;
    };
    for (const checkpoint of [false, true]) {
      const plain = run(ctx, checkpoint);
      toDecoding(ctx, 'decode');
      const decoded = run(ctx, checkpoint);
      expect((await decoded.loss.data())[0]).toBeCloseTo((await plain.loss.data())[0], 6);
      for (const n of names) {
        const [a, b] = [await plain.grads[n].data(), await decoded.grads[n].data()];
        const scale = Math.max(...Array.from(a, Math.abs));
        expect(Math.max(...Array.from(a, (x, i) => Math.abs(x - b[i])))).toBeLessThan(1e-5 * scale + 1e-7);
      }
      tf.dispose([plain.loss, decoded.loss, ...Object.values(plain.grads), ...Object.values(decoded.grads)]);
      toTraining(ctx);
    }
    tf.dispose(Object.values(lora));
  });

  it('refuses to train a weight it holds as Wᵀ only', () => {
    ctx = toDecoding(fresh(), 'decode');
    expect(() => lossAndGrads(ctx, ['gpt_neox.layers.0.attention.dense.weight'], batch)).toThrow(/^cannot train gpt_neox\.layers\.0\.attention\.dense\.weight: .*held for decoding only \(as Wᵀ\), restore the training layout first/);
  });

  it('"copies" keeps W and adds Wᵀ; asking for "decode" after it swaps, and back; training drops the copies', async () => {
    ctx = toDecoding(fresh(), 'copies');
    expect(layoutOf(ctx)).toBe('copies');
    const plain = await logitsOf(ctx);
    toDecoding(ctx, 'decode');
    expect(layoutOf(ctx)).toBe('decode');
    expect(await logitsOf(ctx)).toEqual(plain);
    toDecoding(ctx, 'copies');
    expect(layoutOf(ctx)).toBe('copies');
    expect(await logitsOf(ctx)).toEqual(plain);
    const tensors = tf.memory().numTensors;
    toTraining(ctx);
    expect(layoutOf(ctx)).toBe('plain');
    expect(tf.memory().numTensors).toBe(tensors - Object.keys(ctx.params).filter((n) => ctx.params[n].rank === 2 && n !== 'gpt_neox.embed_in.weight').length);
    expect(await logitsOf(ctx)).toEqual(plain);
  });
});

describe('decodingLayout', () => {
  const pythia = (size: keyof typeof PYTHIA_SHAPES) => tinyConfig({ ...PYTHIA_SHAPES[size], seed: 0 });

  it('keeps Wᵀ copies where three copies fit the WASM heap, swaps where they do not', () => {
    expect(decodingLayout(pythia('70m'), 'wasm', false)).toBe('copies'); // 70m
    expect(decodingLayout(pythia('160m'), 'wasm', false)).toBe('copies'); // 160m: 0.65 + 2 × 0.50 GB
    expect(decodingLayout(pythia('410m'), 'wasm', false)).toBe('decode'); // 410m: 1.62 + 2 × 1.42 GB
    expect(decodingLayout(pythia('410m'), 'cpu', false)).toBe('copies'); // 1.62 + 1.42 GB: no packed copies there
    expect(decodingLayout(pythia('410m'), 'webgpu', true)).toBe('plain'); // the shaders read W transposed
  });
});

describe('the bfloat16 layout on wasm (a Llama-family model whose weights are bfloat16 values)', () => {
  beforeAll(() => startTestBackend('wasm'));
  const llama = tinyConfig({ hiddenSize: 32, numLayers: 2, numHeads: 4, seed: 3, family: 'llama' });
  const prompt = [5, 17, 300, 2, 9];
  /** The model's weights, rounded to bfloat16 values when `bf16` (as a bf16 file loads). */
  const model = (bf16: boolean): ForwardContext => {
    const data = initRandomData(llama, 3, 0.2);
    if (bf16) for (const v of data.values()) toBf16Values(v);
    return { params: paramsFromData(llama, data), config: llama };
  };
  /** Logits of every position for the prompt, and of one more token decoded with the KV cache. */
  const decoded = async (ctx: ForwardContext) => {
    const cache: KVCache = { k: [], v: [], length: 0 };
    const step = (ids: number[]) => {
      const old = [...cache.k, ...cache.v];
      const logits = tf.tidy(() => {
        const l = lmHead(ctx, hiddenStates(ctx, tf.tensor2d(Int32Array.from(ids), [1, ids.length], 'int32'), cache));
        for (const t of [...cache.k, ...cache.v]) tf.keep(t); // the cache outlives the step, as in generate.ts
        return l;
      });
      tf.dispose(old); // replaced by the extended ones
      return logits;
    };
    const rows = step(prompt);
    const next = step([42]);
    const out = [...(await rows.data()), ...(await next.data())];
    tf.dispose([rows, next, ...cache.k, ...cache.v]);
    return out;
  };
  const maxDiff = (a: number[], b: number[]) => a.reduce((d, x, i) => Math.max(d, Math.abs(x - b[i])), 0);

  it('is what toDecoding makes of "copies" or "decode"; it decodes as W does; training gives the copies back', async () => {
    const ctx = model(true);
    const plain = await decoded(ctx);
    const tensors = tf.memory().numTensors;
    for (const target of ['copies', 'decode'] as const) {
      toDecoding(ctx, target);
      expect(layoutOf(ctx)).toBe('bf16');
      const matrices = Object.keys(ctx.bf16!);
      expect(matrices).toContain('model.embed_tokens.weight'); // the tied head
      expect(matrices).toHaveLength(2 * 7 + 1);
      expect(tf.memory().numTensors).toBe(tensors + matrices.length); // W stays; one copy per matrix
      // The same sums in another order: within float32 rounding of logits of about ±3.
      expect(maxDiff(await decoded(ctx), plain)).toBeLessThan(2e-5);
      toTraining(ctx);
      expect(layoutOf(ctx)).toBe('plain');
      expect(tf.memory().numTensors).toBe(tensors);
    }
    disposeModel(ctx);
  });

  it('a copy serves only the tensor it was made from: a run that replaces a weight decodes with its own', async () => {
    const ctx = toDecoding(model(true), 'copies');
    const name = 'model.layers.1.mlp.down_proj.weight';
    const own = tf.mul(ctx.params[name], 2);
    const run: ForwardContext = { ...ctx, params: { ...ctx.params, [name]: own } };
    const expected = await decoded({ params: run.params, config: llama });
    expect(maxDiff(await decoded(run), expected)).toBeLessThan(2e-5);
    expect(maxDiff(expected, await decoded(ctx))).toBeGreaterThan(1e-3);
    own.dispose();
    disposeModel(ctx);
  });

  it('weights with other values (a float16 file, a fine-tuned model) keep the float32 layouts', () => {
    const ctx = toDecoding(model(false), 'copies');
    expect(layoutOf(ctx)).toBe('copies');
    expect(ctx.bf16).toBeUndefined();
    disposeModel(ctx);
  });
});
