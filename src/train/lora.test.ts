import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadFixture, relError, startTestBackend, type Fixture } from '../testing/fixtures';
import { loadModel, type LoadedModel } from '../model/checkpoint';
import { parseConfig } from '../model/config';
import { hiddenStates, lmHead, transposedWeights, type ForwardContext } from '../model/forward';
import { batchLoss, lossAndGrads, type TokenBatch } from '../model/objective';
import { disposeParams, linearNames, type Params } from '../model/params';
import { mulberry32, normalSampler } from '../model/random';
import { createLoraParams, initLoraData, loraContext, loraParamNames, loraScale, mergeLora } from './lora';
import type { LoraConfig } from './types';

// rank 4, alpha 8: scale 2, so a scaling bug (alpha/√r, or none) shows up in the merge test.
const BLOCK_LINEARS = linearNames(parseConfig(loadFixture('parallel-rot025-f32').configJson));
const LORA: LoraConfig = { rank: 4, alpha: 8, dropout: 0, targets: [...BLOCK_LINEARS] };
const QKV0 = 'gpt_neox.layers.0.attention.query_key_value';
const H4H1 = 'gpt_neox.layers.1.mlp.dense_4h_to_h';

const batchOf = (f: Fixture): TokenBatch => ({ ids: Int32Array.from(f.golden.ids.flat()), B: f.golden.ids.length, T: f.golden.ids[0].length, lengths: f.golden.lengths });

function logitsOf(ctx: ForwardContext, b: TokenBatch): Float32Array {
  const logits = tf.tidy(() => lmHead(ctx, hiddenStates(ctx, tf.tensor2d(b.ids, [b.B, b.T], 'int32')))); // (B·T, V)
  const out = logits.dataSync() as Float32Array;
  logits.dispose();
  return out;
}

/** Adapters from createLoraParams, with B replaced by N(0, bStd²) when bStd > 0 (a trained-looking adapter). */
function adapters(model: LoadedModel, lora: LoraConfig, seed: number, bStd: number): Params {
  const p = createLoraParams(model.config, lora, seed);
  if (bStd > 0) {
    const normal = normalSampler(mulberry32(seed + 1000));
    for (const name of Object.keys(p).filter((n) => n.endsWith('.lora_B.weight'))) {
      const [out, r] = p[name].shape as [number, number];
      p[name].dispose();
      p[name] = tf.tensor(Float32Array.from({ length: out * r }, () => normal() * bStd), [out, r]); // (out, r)
    }
  }
  return p;
}

const readAll = (p: Params): Record<string, Float32Array> => Object.fromEntries(Object.entries(p).map(([n, t]) => [n, t.dataSync() as Float32Array]));

describe('LoRA parameters', () => {
  const config = parseConfig(loadFixture('parallel-rot025-f32').configJson);

  it("names and shapes are PEFT's for GPT-NeoX, A before B, layer by layer in module order", () => {
    const names = loraParamNames(config, { ...LORA, targets: ['mlp.dense_4h_to_h', 'attention.query_key_value', 'attention.dense', 'mlp.dense_h_to_4h'] });
    const p = 'gpt_neox.layers.0.';
    expect(names.slice(0, 8)).toEqual([
      `${p}attention.query_key_value.lora_A.weight`,
      `${p}attention.query_key_value.lora_B.weight`,
      `${p}attention.dense.lora_A.weight`,
      `${p}attention.dense.lora_B.weight`,
      `${p}mlp.dense_h_to_4h.lora_A.weight`,
      `${p}mlp.dense_h_to_4h.lora_B.weight`,
      `${p}mlp.dense_4h_to_h.lora_A.weight`,
      `${p}mlp.dense_4h_to_h.lora_B.weight`,
    ]);
    expect(names).toHaveLength(8 * config.numLayers);
    const data = initLoraData(config, LORA, 0);
    expect(Object.keys(data)).toEqual(names);
    const C = config.hiddenSize;
    const I = config.intermediateSize;
    const r = LORA.rank;
    // A is (r, in), B is (out, r): nn.Linear(in, r) and nn.Linear(r, out) weights.
    expect([0, 1, 2, 3, 4, 5, 6, 7].map((i) => data[names[i]].shape)).toEqual([[r, C], [3 * C, r], [r, C], [C, r], [r, C], [I, r], [r, I], [C, r]]);
    expect(loraParamNames(config, { ...LORA, targets: ['attention.dense'] })).toEqual([
      'gpt_neox.layers.0.attention.dense.lora_A.weight',
      'gpt_neox.layers.0.attention.dense.lora_B.weight',
      'gpt_neox.layers.1.attention.dense.lora_A.weight',
      'gpt_neox.layers.1.attention.dense.lora_B.weight',
    ]);
  });

  it('rejects a config without targets, a non-integer rank or a dropout outside [0, 1)', () => {
    expect(() => loraParamNames(config, { ...LORA, targets: [] })).toThrow(/target/);
    expect(() => loraParamNames(config, { ...LORA, rank: 2.5 })).toThrow(/rank/);
    expect(() => loraParamNames(config, { ...LORA, dropout: 1 })).toThrow(/dropout/);
  });

  it('init: A ~ U(−1/√in, 1/√in) (kaiming_uniform, a = √5), B = 0, and the same seed gives the same A', () => {
    const lora = { ...LORA, rank: 16 };
    const data = initLoraData(config, lora, 7);
    const scaled: number[] = []; // A entries divided by their bound 1/√in: U(−1, 1) if the init is right
    for (const [name, { shape, data: d }] of Object.entries(data)) {
      if (name.endsWith('lora_B.weight')) {
        expect(d.every((v) => v === 0), name).toBe(true);
        continue;
      }
      const bound = 1 / Math.sqrt(shape[1]);
      for (const v of d) scaled.push(v / bound);
    }
    const n = scaled.length; // 10240 samples
    const mean = scaled.reduce((a, b) => a + b, 0) / n;
    const std = Math.sqrt(scaled.reduce((a, b) => a + (b - mean) ** 2, 0) / n);
    expect(Math.max(...scaled)).toBeLessThanOrEqual(1);
    expect(Math.min(...scaled)).toBeGreaterThanOrEqual(-1);
    expect(Math.max(...scaled)).toBeGreaterThan(0.99); // the bound is reached, not a narrower range
    expect(Math.min(...scaled)).toBeLessThan(-0.99);
    expect(Math.abs(mean)).toBeLessThan(0.03); // σ of the mean is 0.577/√n ≈ 0.006
    expect(Math.abs(std - 1 / Math.sqrt(3))).toBeLessThan(0.01); // U(−1, 1) has σ = 1/√3
    const again = initLoraData(config, lora, 7);
    const other = initLoraData(config, lora, 8);
    const a0 = `${QKV0}.lora_A.weight`;
    expect(again[a0].data).toEqual(data[a0].data);
    expect(other[a0].data).not.toEqual(data[a0].data);
  });
});

describe.each(['cpu', 'wasm'] as const)('on the %s backend', (backend) => {
  let f: Fixture;
  let model: LoadedModel;
  let b: TokenBatch;
  beforeAll(async () => {
    await startTestBackend(backend);
    f = loadFixture('parallel-rot025-f32');
    model = loadModel(f.configJson, [f.weights]);
    b = batchOf(f);
  });
  afterAll(() => disposeParams(model.params));

  const withLora = (ad: Params, lora = LORA, seed = 0, training = false): ForwardContext => ({
    ...model,
    params: { ...model.params, ...ad },
    lora: loraContext(lora, seed, training),
  });

  describe('forward', () => {
    it('with B = 0 the logits equal the base model exactly', () => {
      const ad = createLoraParams(model.config, LORA, 1);
      expect(relError(logitsOf(withLora(ad), b), logitsOf(model, b))).toBe(0);
      disposeParams(ad);
    });

    it('with non-zero B, base + adapters equals the merged model (W + scale·B·A) within 1e-5', () => {
      const ad = adapters(model, LORA, 2, 0.1);
      const ctx = withLora(ad);
      const withAdapters = logitsOf(ctx, b);
      const merged = mergeLora(ctx.params, LORA);
      expect(Object.keys(merged).sort()).toEqual(BLOCK_LINEARS.flatMap((t) => [0, 1].map((i) => `gpt_neox.layers.${i}.${t}.weight`)).sort());
      const plain = logitsOf({ ...model, params: { ...model.params, ...merged } }, b);
      expect(relError(withAdapters, plain)).toBeLessThan(1e-5);
      // The adapters do move the logits, so the agreement above is not base == base.
      expect(relError(withAdapters, logitsOf(model, b))).toBeGreaterThan(1e-2);
      expect(loraScale(LORA)).toBe(2);
      disposeParams({ ...ad, ...merged });
    });

    it('rsLoRA scales B·A by alpha/√r: the same as plain LoRA with alpha·√r, and its merge equals it', () => {
      const rs = { ...LORA, rslora: true };
      expect(loraScale(rs)).toBeCloseTo(LORA.alpha / Math.sqrt(LORA.rank), 12);
      const ad = adapters(model, rs, 2, 0.1);
      // The same B·A at rsLoRA's scale equals plain LoRA with alpha chosen to give that scale.
      const plainAlpha = { ...LORA, alpha: LORA.alpha * Math.sqrt(LORA.rank) };
      const viaRs = logitsOf(withLora(ad, rs), b);
      expect(relError(viaRs, logitsOf(withLora(ad, plainAlpha), b))).toBeLessThan(1e-6);
      expect(relError(viaRs, logitsOf(withLora(ad, LORA), b))).toBeGreaterThan(1e-3);
      const merged = mergeLora({ ...model.params, ...ad }, rs);
      expect(relError(logitsOf({ ...model, params: { ...model.params, ...merged } }, b), viaRs)).toBeLessThan(1e-5);
      disposeParams({ ...ad, ...merged });
    });

    it('a context without lora settings is refused when the params hold adapters', () => {
      const ad = createLoraParams(model.config, LORA, 1);
      expect(() => logitsOf({ ...model, params: { ...model.params, ...ad } }, b)).toThrow(/lora settings/);
      disposeParams(ad);
    });
  });

  describe('dropout', () => {
    const lora = { ...LORA, dropout: 0.3 };

    it('is reproducible for a seed, changes with the seed, and only acts while training', () => {
      const ad = adapters(model, lora, 3, 0.1);
      const train = (seed: number) => logitsOf(withLora(ad, lora, seed, true), b);
      const eval0 = logitsOf(withLora(ad, lora, 5, false), b);
      expect(train(5)).toEqual(train(5));
      expect(relError(train(5), train(6))).toBeGreaterThan(1e-3);
      expect(relError(train(5), eval0)).toBeGreaterThan(1e-3);
      // Dropout 0 while training is the no-dropout path, bit for bit.
      expect(logitsOf(withLora(ad, { ...lora, dropout: 0 }, 5, true), b)).toEqual(eval0);
      disposeParams(ad);
    });

    it('gradients are reproducible for a seed', () => {
      const ad = adapters(model, lora, 3, 0.1);
      const names = loraParamNames(model.config, lora);
      const run = () => {
        const { loss, grads } = lossAndGrads(withLora(ad, lora, 9, true), names, b);
        const out = { loss: loss.dataSync()[0], grads: readAll(grads) };
        tf.dispose([loss, ...Object.values(grads)]);
        return out;
      };
      expect(run()).toEqual(run());
      disposeParams(ad);
    });
  });

  describe('gradients', () => {
    it('lossAndGrads over the LoRA names returns exactly their gradients, which match central differences', () => {
      const ad = adapters(model, LORA, 4, 0.1);
      const ctx = withLora(ad);
      const names = loraParamNames(model.config, LORA);
      const { loss, grads } = lossAndGrads(ctx, names, b);
      expect(Object.keys(grads)).toEqual(names);
      for (const n of names) expect(grads[n].shape, n).toEqual(ctx.params[n].shape);
      // float32 forward: a loss of ~4.6 carries ~1e-6 of round-off, and a step of 1e-2 on an entry with
      // |g| ≈ 0.05 moves it by ~1e-3, so the difference quotient is good to ~1e-4 (measured); a float64
      // reference could use steps near 1e-5 and agree to ~1e-8. Checked on each tensor's 4 largest entries.
      const eps = 1e-2;
      for (const name of [`${QKV0}.lora_A.weight`, `${H4H1}.lora_B.weight`]) {
        const g = grads[name].dataSync();
        const w = ctx.params[name].dataSync();
        const top = Array.from(g.keys()).sort((i, j) => Math.abs(g[j]) - Math.abs(g[i])).slice(0, 4);
        for (const i of top) {
          const lossAt = (d: number) => {
            const moved = Float32Array.from(w);
            moved[i] += d;
            const t = tf.tensor(moved, ctx.params[name].shape);
            const l = tf.tidy(() => batchLoss({ ...ctx, params: { ...ctx.params, [name]: t } }, b).dataSync()[0]);
            t.dispose();
            return { l, step: moved[i] - w[i] }; // the float32 step actually taken
          };
          const plus = lossAt(eps);
          const minus = lossAt(-eps);
          const fd = (plus.l - minus.l) / (plus.step - minus.step);
          expect(Math.abs(g[i]), name).toBeGreaterThan(1e-2);
          expect(Math.abs(fd - g[i]) / Math.abs(g[i]), `${name}[${i}]: ${fd} vs ${g[i]}`).toBeLessThan(2e-3);
        }
      }
      tf.dispose([loss, ...Object.values(grads)]);
      disposeParams(ad);
    });

    it("with B = 0, A's gradient is exactly zero and B's is not (PEFT's zero-init property)", () => {
      const ad = createLoraParams(model.config, LORA, 5);
      const names = loraParamNames(model.config, LORA);
      const { loss, grads } = lossAndGrads(withLora(ad), names, b);
      for (const n of names) {
        const g = grads[n].dataSync();
        if (n.endsWith('lora_A.weight')) expect(g.every((v) => v === 0), n).toBe(true);
        else expect(Math.max(...Array.from(g, Math.abs)), n).toBeGreaterThan(1e-4);
      }
      tf.dispose([loss, ...Object.values(grads)]);
      disposeParams(ad);
    });

    it('gradients over a subset of the parameters equal those entries of the all-parameter gradients', () => {
      const all = Object.keys(model.params);
      const full = lossAndGrads(model, all, b);
      const want = readAll(full.grads);
      for (const subset of [
        ['gpt_neox.embed_in.weight'], // every linear and the LM head frozen: dx-only backward throughout
        [`${H4H1}.weight`, `${QKV0}.bias`, 'gpt_neox.layers.0.input_layernorm.weight', 'embed_out.weight'],
      ]) {
        const part = lossAndGrads(model, subset, b);
        expect(part.loss.dataSync()[0]).toBe(full.loss.dataSync()[0]);
        expect(Object.keys(part.grads)).toEqual(subset);
        for (const n of subset) expect(relError(part.grads[n].dataSync(), want[n]), n).toBeLessThan(1e-6);
        tf.dispose([part.loss, ...Object.values(part.grads)]);
      }
      tf.dispose([full.loss, ...Object.values(full.grads)]);
    });

    it('frozen weights cost no weight-gradient products: no matmul or scatter yields a frozen weight-shaped result', async () => {
      const ad = adapters(model, LORA, 6, 0.1);
      const ctx = withLora(ad);
      // Each base matrix's shape; the fixture's other 2-D products are (14, ·), (·, 96) or rank r, so none collide.
      const frozenShapes = new Set(Object.entries(model.params).filter(([, t]) => t.rank === 2).map(([, t]) => t.shape.join('x')));
      const weightShaped = async (names: string[]) => {
        const prof = await tf.profile(() => {
          const { loss, grads } = lossAndGrads(ctx, names, b);
          return [loss, ...Object.values(grads)];
        });
        tf.dispose(prof.result as tf.Tensor[]);
        return prof.kernels.filter((k) => (k.name === 'BatchMatMul' || k.name === 'ScatterNd') && frozenShapes.has(k.outputShapes[0].join('x'))).length;
      };
      // Training everything: one dW per block linear plus the embedding's scatter, so the check can see them.
      expect(await weightShaped(Object.keys(ctx.params))).toBeGreaterThanOrEqual(4 * model.config.numLayers + 1);
      expect(await weightShaped(loraParamNames(model.config, LORA))).toBe(0);
      disposeParams(ad);
    });

    it('precomputed Wᵀ copies serve the frozen weights only: a stale copy of a trainable weight changes nothing', () => {
      const ad = adapters(model, LORA, 7, 0.1);
      const names = [...loraParamNames(model.config, LORA), `${H4H1}.weight`];
      const transposed = transposedWeights(model.params, model.config);
      const stale = transposed[`${H4H1}.weight`];
      transposed[`${H4H1}.weight`] = tf.zerosLike(stale); // as if W had been updated since the copy was made
      stale.dispose();
      const plain = lossAndGrads(withLora(ad), names, b);
      const fast = lossAndGrads({ ...withLora(ad), transposed }, names, b);
      expect(relError(fast.loss.dataSync(), plain.loss.dataSync())).toBeLessThan(1e-6);
      for (const n of names) expect(relError(fast.grads[n].dataSync(), plain.grads[n].dataSync()), n).toBeLessThan(1e-5);
      tf.dispose([plain.loss, fast.loss, ...Object.values(plain.grads), ...Object.values(fast.grads)]);
      disposeParams({ ...ad, ...transposed });
    });
  });

  it('repeated forward and backward passes with adapters and dropout leak no tensors', () => {
    const lora = { ...LORA, dropout: 0.1 };
    const ad = adapters(model, lora, 8, 0.1);
    const names = loraParamNames(model.config, lora);
    const round = (seed: number) => {
      logitsOf(withLora(ad, lora, seed, false), b);
      const { loss, grads } = lossAndGrads(withLora(ad, lora, seed, true), names, b);
      tf.dispose([loss, ...Object.values(grads)]);
    };
    round(0);
    const before = tf.memory().numTensors;
    for (let i = 1; i <= 3; i++) round(i);
    expect(tf.memory().numTensors).toBe(before);
    disposeParams(ad);
  });
});
