import * as tf from '@tensorflow/tfjs-core';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadModel, type LoadedModel } from '../model/checkpoint';
import { parseConfig } from '../model/config';
import { lossAndGrads, type TokenBatch } from '../model/objective';
import { paramSpecs, type Params } from '../model/params';
import { readSafetensors } from '../model/safetensors';
import { FIXTURES_DIR, loadFixture, relError, startTestBackend } from '../testing/fixtures';
import { AdamW, decayFromSpecs, type AdamWOptions } from './adamw';
import { CTL, gradControl } from './deviceOptimizer';
import { clipByGlobalNorm } from './gradients';
import { learningRate } from './schedule';
import type { OptimizerConfig, ScheduleConfig } from './types';

/** fixtures/train/adamw-golden.json, written by scripts/train_reference.py. */
interface TrainGolden {
  steps: number;
  schedule: ScheduleConfig & { totalSteps: number };
  optimizer: OptimizerConfig;
  lrs: number[];
  losses: number[];
  grad_norms: number[];
}

const golden = JSON.parse(readFileSync(`${FIXTURES_DIR}train/adamw-golden.json`, 'utf8')) as TrainGolden;
const goldenParams = readSafetensors(new Uint8Array(readFileSync(`${FIXTURES_DIR}train/adamw-golden.safetensors`))).tensors;

function fixtureModel(): { model: LoadedModel; batch: TokenBatch } {
  const f = loadFixture('parallel-rot025-f32');
  const model = loadModel(f.configJson, [f.weights]);
  const batch = { ids: Int32Array.from(f.golden.ids.flat()), B: f.golden.ids.length, T: f.golden.ids[0].length, lengths: f.golden.lengths };
  return { model, batch };
}

/** Put `next` into `params` and dispose what it replaces, as a training loop does. */
function swapIn(params: Params, next: Params): void {
  for (const [n, t] of Object.entries(next)) {
    params[n].dispose();
    params[n] = t;
  }
}

/** One training step as the trainer takes it: loss and grads → clip → scheduled lr → AdamW. */
async function trainStep(model: LoadedModel, opt: AdamW, batch: TokenBatch, step: number): Promise<{ loss: number; norm: number; lr: number }> {
  const names = Object.keys(model.params);
  const r = lossAndGrads(model, names, batch);
  const loss = (await r.loss.data())[0];
  r.loss.dispose();
  const { grads, norm } = await clipByGlobalNorm(r.grads, golden.optimizer.maxGradNorm);
  tf.dispose(Object.values(r.grads));
  const lr = learningRate(step, golden.schedule.totalSteps, golden.optimizer.lr, golden.schedule);
  swapIn(model.params, opt.step(model.params, grads, lr));
  tf.dispose(Object.values(grads));
  return { loss, norm, lr };
}

/** trainStep with the WebGPU path's device optimizer: clipping and AdamW on the GPU, one read at the end. */
async function deviceStep(model: LoadedModel, opt: AdamW, batch: TokenBatch, step: number): Promise<{ loss: number; norm: number }> {
  const r = lossAndGrads(model, Object.keys(model.params), batch);
  const ctl = gradControl(r.grads, r.loss, golden.optimizer.maxGradNorm);
  const lr = learningRate(step, golden.schedule.totalSteps, golden.optimizer.lr, golden.schedule);
  swapIn(model.params, opt.stepOnDevice(model.params, r.grads, lr, ctl));
  const read = (await ctl.data()) as Float32Array;
  tf.dispose([r.loss, ctl, ...Object.values(r.grads)]);
  return { loss: read[CTL.loss], norm: read[CTL.norm] };
}

const paramData = (p: Params): Record<string, Float32Array> => Object.fromEntries(Object.entries(p).map(([n, t]) => [n, t.dataSync() as Float32Array]));

describe.each([
  ['webgpu', 'WebGPU fused kernels, Dawn for Node'],
  ['wasm', 'one pass over the WASM heap, in place'],
] as const)('AdamW on the device: %s (%s)', (backend, _how) => {
  beforeAll(() => startTestBackend(backend));

  it('3 steps of clip and AdamW with nothing read back mid-step match torch.optim.AdamW in float64', async () => {
    const { model, batch } = fixtureModel();
    const opt = new AdamW(decayFromSpecs(model.config), golden.optimizer);
    for (let s = 0; s < golden.steps; s++) {
      const { loss, norm } = await deviceStep(model, opt, batch, s);
      expect(Math.abs(loss - golden.losses[s]) / golden.losses[s], `loss at step ${s}`).toBeLessThan(1e-4);
      expect(Math.abs(norm - golden.grad_norms[s]) / golden.grad_norms[s], `grad norm at step ${s}`).toBeLessThan(1e-3);
    }
    expect(opt.steps).toBe(3);
    for (const n of Object.keys(model.params)) {
      const err = relError((await model.params[n].data()) as Float32Array, goldenParams.get(n)!.data);
      expect(err, `${n}: ${err}`).toBeLessThan(1e-4);
    }
    opt.dispose();
    tf.dispose(Object.values(model.params));
  });

  it('per-parameter learning rates (LoRA+) on the device equal the host step\'s', async () => {
    const opts: AdamWOptions = { weightDecay: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8 };
    const scale = (n: string) => (n === 'w' ? 16 : 1);
    const host = new AdamW(() => true, opts, scale);
    const device = new AdamW(() => true, opts, scale);
    const a: Params = { w: tf.tensor1d([1, -0.5, 2]), b: tf.tensor1d([1, -0.5, 2]) };
    const d: Params = { w: tf.tensor1d([1, -0.5, 2]), b: tf.tensor1d([1, -0.5, 2]) };
    for (const g of [[2, 0.5, -1], [-1, 3, 0.25]]) {
      const grads = { w: tf.tensor1d(g), b: tf.tensor1d(g) };
      const ctl = tf.tensor1d([1, 1, 0, 0]); // clip factor 1, finite
      swapIn(a, host.step(a, grads, 0.01));
      swapIn(d, device.stepOnDevice(d, grads, 0.01, ctl));
      tf.dispose([...Object.values(grads), ctl]);
    }
    for (const n of ['w', 'b']) expect(relError((await d[n].data()) as Float32Array, (await a[n].data()) as Float32Array), n).toBeLessThan(1e-6);
    expect(relError((await d.w.data()) as Float32Array, (await d.b.data()) as Float32Array)).toBeGreaterThan(1e-2);
    [host, device].forEach((o) => o.dispose());
    tf.dispose([...Object.values(a), ...Object.values(d)]);
  });

  it('leaves a tensor that shares a parameter\'s buffer as it was, and a non-finite flag changes nothing', async () => {
    const { model, batch } = fixtureModel();
    const readParams = async (p: Params) => Object.fromEntries(await Promise.all(Object.entries(p).map(async ([n, t]) => [n, (await t.data()) as Float32Array] as const)));
    const base = await readParams(model.params); // copies
    const shared = Object.fromEntries(Object.entries(model.params).map(([n, t]) => [n, tf.reshape(t, t.shape)])); // the same buffers (a reshape is a view)
    const opt = new AdamW(decayFromSpecs(model.config), golden.optimizer);
    await deviceStep(model, opt, batch, 0);
    expect(await readParams(shared)).toEqual(base);
    expect(await readParams(model.params)).not.toEqual(base);
    // A step whose control says "not finite" writes every parameter back unchanged.
    const before = await readParams(model.params);
    const r = lossAndGrads(model, Object.keys(model.params), batch);
    const ctl = tf.tensor1d([1, 0, NaN, NaN]);
    swapIn(model.params, opt.stepOnDevice(model.params, r.grads, 1e-3, ctl));
    expect(await readParams(model.params)).toEqual(before);
    tf.dispose([r.loss, ctl, ...Object.values(r.grads), ...Object.values(shared), ...Object.values(model.params)]);
    opt.dispose();
  });
});

describe.each(['cpu', 'wasm'] as const)('AdamW on the %s backend', (backend) => {
  beforeAll(() => startTestBackend(backend));

  it('3 steps of loss → clip_grad_norm_ → cosine lr → AdamW match torch.optim.AdamW in float64', async () => {
    const { model, batch } = fixtureModel();
    const opt = new AdamW(decayFromSpecs(model.config), golden.optimizer);
    for (let s = 0; s < golden.steps; s++) {
      const { loss, norm, lr } = await trainStep(model, opt, batch, s);
      expect(Math.abs(lr - golden.lrs[s]), `lr at step ${s}`).toBeLessThanOrEqual(1e-15 * golden.lrs[s]);
      expect(Math.abs(loss - golden.losses[s]) / golden.losses[s], `loss at step ${s}`).toBeLessThan(1e-4);
      expect(Math.abs(norm - golden.grad_norms[s]) / golden.grad_norms[s], `grad norm at step ${s}`).toBeLessThan(1e-3);
    }
    expect(golden.grad_norms.some((n) => n > golden.optimizer.maxGradNorm)).toBe(true); // clipping was exercised
    expect(opt.steps).toBe(3);
    const names = Object.keys(model.params);
    expect(names.sort()).toEqual([...goldenParams.keys()].sort());
    for (const n of names) {
      const err = relError(model.params[n].dataSync(), goldenParams.get(n)!.data);
      expect(err, `${n}: ${err}`).toBeLessThan(1e-4);
    }
    opt.dispose();
    tf.dispose(Object.values(model.params));
  });

  it('resumes bit for bit: state saved after step 2 and loaded into a new optimizer gives the same step 3', async () => {
    const a = fixtureModel();
    const optA = new AdamW(decayFromSpecs(a.model.config), golden.optimizer);
    for (let s = 0; s < 2; s++) await trainStep(a.model, optA, a.batch, s);
    // The checkpoint: host copies of the parameters and the optimizer state, nothing else survives.
    const saved = { params: paramData(a.model.params), optimizer: await optA.state() };
    expect(saved.optimizer.step).toBe(2);
    await trainStep(a.model, optA, a.batch, 2);

    const b = fixtureModel();
    for (const [n, data] of Object.entries(saved.params)) swapIn(b.model.params, { [n]: tf.tensor(data, b.model.params[n].shape) });
    const optB = new AdamW(decayFromSpecs(b.model.config), golden.optimizer);
    optB.load(saved.optimizer);
    for (const a of [...Object.values(saved.optimizer.m), ...Object.values(saved.optimizer.v)]) a.fill(NaN); // load copied them
    await trainStep(b.model, optB, b.batch, 2);

    expect(paramData(b.model.params)).toEqual(paramData(a.model.params));
    const [sa, sb] = [await optA.state(), await optB.state()];
    expect(sb).toEqual(sa);
    for (const x of [a, b]) tf.dispose(Object.values(x.model.params));
    optA.dispose();
    optB.dispose();
  });

  it('leaks no tensors across steps, and dispose frees the moments', async () => {
    const { model, batch } = fixtureModel();
    const before = tf.memory().numTensors;
    const opt = new AdamW(decayFromSpecs(model.config), golden.optimizer);
    await trainStep(model, opt, batch, 0);
    const moments = 2 * Object.keys(model.params).length; // m and v per trained parameter
    expect(tf.memory().numTensors).toBe(before + moments);
    for (let s = 1; s < 4; s++) await trainStep(model, opt, batch, s % golden.schedule.totalSteps);
    expect(tf.memory().numTensors).toBe(before + moments);
    opt.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(Object.values(model.params));
  });
});

describe('AdamW by hand', () => {
  beforeAll(() => startTestBackend('cpu'));

  const opts: AdamWOptions = { weightDecay: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8 };
  const decayW = (n: string) => n === 'w';

  it('two steps equal the numbers torch.optim.AdamW gives, with decay on w only', () => {
    // lr 0.1. Step 1: m = 0.1·g, v = 0.001·g², m̂ = g, v̂ = g², so p −= 0.1·g/(|g| + 1e-8) (0 where
    // g = 0), after w ·= 1 − 0.1·0.1. Step 2, g = (−1, 3): m = (0.08, 0.3), v = (0.004996, 0.009),
    // m̂ = m/0.19, v̂ = v/0.001999, so the Adam part is 0.1·(0.266337, 0.744136).
    // Values printed by torch 1.13 (float64, param groups with weight_decay 0.1 and 0).
    const params: Params = { w: tf.tensor1d([1, -0.5]), b: tf.tensor1d([1, -0.5]) };
    const opt = new AdamW(decayW, opts);
    const want = [
      { w: [0.8900000004999999, -0.495], b: [0.9000000005, -0.5] },
      { w: [0.8544662966974315, -0.5644636820059965], b: [0.8733662967024315, -0.5744136820059964] },
    ];
    [[2, 0], [-1, 3]].forEach((g, s) => {
      const grads = { w: tf.tensor1d(g), b: tf.tensor1d(g) };
      swapIn(params, opt.step(params, grads, 0.1));
      tf.dispose(Object.values(grads));
      for (const n of ['w', 'b'] as const) {
        Array.from(params[n].dataSync()).forEach((x, i) => expect(x, `${n}[${i}] after step ${s + 1}`).toBeCloseTo(want[s][n][i], 6));
      }
    });
    opt.dispose();
    tf.dispose(Object.values(params));
  });

  it('per-parameter learning rates (LoRA+): a parameter scaled by k steps exactly as with lr·k, decay included', () => {
    const scaled = new AdamW(decayW, opts, (n) => (n === 'w' ? 16 : 1));
    const alone = { w: new AdamW(decayW, opts), b: new AdamW(decayW, opts) };
    const params: Params = { w: tf.tensor1d([1, -0.5]), b: tf.tensor1d([1, -0.5]) };
    const separate: Params = { w: tf.tensor1d([1, -0.5]), b: tf.tensor1d([1, -0.5]) };
    [[2, 0.5], [-1, 3]].forEach((g) => {
      const grads = { w: tf.tensor1d(g), b: tf.tensor1d(g) };
      swapIn(params, scaled.step(params, grads, 0.01));
      swapIn(separate, alone.w.step(separate, { w: grads.w }, 0.16));
      swapIn(separate, alone.b.step(separate, { b: grads.b }, 0.01));
      tf.dispose(Object.values(grads));
    });
    for (const n of ['w', 'b']) expect(Array.from(params[n].dataSync()), n).toEqual(Array.from(separate[n].dataSync()));
    expect(() => new AdamW(decayW, opts, () => NaN).step(params, { w: tf.tensor1d([1, 1]) }, 0.1)).toThrow(/the learning rate of "w" must be finite/);
    [scaled, alone.w, alone.b].forEach((o) => o.dispose());
    tf.dispose([...Object.values(params), ...Object.values(separate)]);
  });

  it('with zero gradients only the decayed parameters move, by exactly the factor 1 − lr·wd', () => {
    const params: Params = { w: tf.tensor2d([[2, -4]]), b: tf.tensor1d([3]) };
    const grads = { w: tf.zeros([1, 2]), b: tf.zeros([1]) };
    const opt = new AdamW(decayW, { ...opts, weightDecay: 0.5 });
    const next = opt.step(params, grads, 0.1);
    expect(next.w.shape).toEqual([1, 2]);
    expect(Array.from(next.w.dataSync())).toEqual([Math.fround(2 * 0.95), Math.fround(-4 * 0.95)]);
    expect(Array.from(next.b.dataSync())).toEqual([3]);
    opt.dispose();
    tf.dispose([...Object.values(params), ...Object.values(grads), ...Object.values(next)]);
  });

  it('updates only the parameters that have gradients, and leaves the inputs alone', () => {
    const params: Params = { w: tf.tensor1d([1]), frozen: tf.tensor1d([5]) };
    const grads = { w: tf.tensor1d([1]) };
    const opt = new AdamW(decayW, opts);
    const next = opt.step(params, grads, 0.1);
    expect(Object.keys(next)).toEqual(['w']);
    expect(params.w.isDisposed || grads.w.isDisposed).toBe(false);
    expect(params.w.dataSync()[0]).toBe(1);
    opt.dispose();
    tf.dispose([...Object.values(params), ...Object.values(grads), ...Object.values(next)]);
  });

  it('state() hands out copies: changing them does not change the optimizer', async () => {
    const params: Params = { w: tf.tensor1d([1]) };
    const opt = new AdamW(decayW, opts);
    const g = tf.tensor1d([2]);
    const next = opt.step(params, { w: g }, 0.1);
    (await opt.state()).m.w.fill(NaN);
    expect(Array.from((await opt.state()).m.w)).toEqual([Math.fround(0.2)]); // (1 − β1)·g
    opt.dispose();
    tf.dispose([params.w, g, next.w]);
  });

  it('keeps its state when the caller steps inside tf.tidy', () => {
    const params: Params = { w: tf.tensor1d([1]) };
    const opt = new AdamW(decayW, opts);
    tf.tidy(() => {
      opt.step(params, { w: tf.tensor1d([1]) }, 0.1);
    });
    const g = tf.tensor1d([1]);
    const next = opt.step(params, { w: g }, 0.1); // would throw on disposed moments
    expect(opt.steps).toBe(2);
    opt.dispose();
    tf.dispose([params.w, g, next.w]);
  });

  it('refuses inconsistent calls and states', async () => {
    const params: Params = { w: tf.tensor1d([1, 2]), b: tf.tensor1d([1]) };
    const opt = new AdamW(decayW, opts);
    const g = { w: tf.tensor1d([1, 1]) };
    expect(() => opt.step(params, { x: g.w }, 0.1)).toThrow(/not a parameter/);
    expect(() => opt.step(params, { b: g.w }, 0.1)).toThrow(/shape/);
    expect(() => opt.step(params, g, NaN)).toThrow(/learning rate/);
    tf.dispose(Object.values(opt.step(params, g, 0.1)));
    const gb = { w: g.w, b: tf.tensor1d([1]) };
    expect(() => opt.step(params, gb, 0.1)).toThrow(/changed between steps/);

    const state = await opt.state();
    expect(() => opt.load({ ...state, v: {} })).toThrow(/m and v/);
    expect(() => opt.load({ ...state, step: 0 })).toThrow(/moments after 0 steps/);
    expect(() => new AdamW(decayW, { ...opts, beta2: 1 })).toThrow(/betas/);
    expect(() => new AdamW(decayW, { ...opts, eps: 0 })).toThrow(/eps/);
    opt.dispose();
    expect(() => opt.step(params, g, 0.1)).toThrow(/disposed/);
    tf.dispose([...Object.values(params), ...Object.values(gb)]);
  });
});

describe('decayFromSpecs', () => {
  const config = parseConfig(loadFixture('parallel-rot025-f32').configJson);

  it('decays embeddings and linear weights, never biases or layer norms', () => {
    const decay = decayFromSpecs(config);
    for (const s of paramSpecs(config)) {
      const isNormOrBias = s.name.endsWith('.bias') || /layernorm|layer_norm/.test(s.name);
      expect(decay(s.name), s.name).toBe(!isNormOrBias);
      expect(decay(s.name), s.name).toBe(s.shape.length === 2);
    }
    expect(decay('gpt_neox.embed_in.weight')).toBe(true);
    expect(decay('embed_out.weight')).toBe(true);
    expect(decay('gpt_neox.layers.1.post_attention_layernorm.weight')).toBe(false);
  });

  it('decays LoRA A and B (Linear weights in PEFT) and refuses names it does not know', () => {
    const decay = decayFromSpecs(config);
    expect(decay('gpt_neox.layers.0.attention.query_key_value.lora_A.weight')).toBe(true);
    expect(decay('gpt_neox.layers.1.mlp.dense_4h_to_h.lora_B.weight')).toBe(true);
    expect(decay('base_model.model.gpt_neox.layers.0.attention.dense.lora_A.default.weight')).toBe(true);
    expect(() => decay('gpt_neox.layers.0.attention.rotary_emb.inv_freq')).toThrow(/no weight-decay rule/);
  });
});
