import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { fixtureNames, goldenGrad, loadFixture, relError, startTestBackend, type Fixture } from '../testing/fixtures';
import { loadModel, type LoadedModel } from './checkpoint';
import { generate } from './generate';
import { hiddenStates, lmHead, type ForwardContext } from './forward';
import { batchLoss, lossAndGrads } from './objective';
import { GREEDY } from './sampling';

function batch(f: Fixture) {
  const B = f.golden.ids.length;
  const T = f.golden.ids[0].length;
  return { B, T, ids: Int32Array.from(f.golden.ids.flat()) };
}

// chunkRows 3 makes the 10 target rows span several chunks of the fused loss.
const lossOf = (ctx: ForwardContext, ids: Int32Array, B: number, T: number, lengths: number[]): tf.Scalar =>
  batchLoss(ctx, { ids, B, T, lengths }, { chunkRows: 3 });

const cases = fixtureNames();

// Every check runs on the plain-JS CPU backend, on WASM (the CLI's and the page's CPU fallback),
// and on WebGPU (Dawn for Node) with the fused kernels and with tfjs's stock kernels.
describe.each(['cpu', 'wasm', 'webgpu', 'webgpu-stock'] as const)('on the %s backend', (backend) => {
  beforeAll(() => startTestBackend(backend));

  describe.each(cases)('the forward against the PyTorch reference: %s', (name) => {
    let f: Fixture;
    let model: LoadedModel;
    beforeAll(() => {
      f = loadFixture(name);
      model = loadModel(f.configJson, [f.weights]);
    });

    it('logits for every position match within 1e-4 relative', async () => {
      const { B, T, ids } = batch(f);
      const logits = tf.tidy(() => lmHead(model, hiddenStates(model, tf.tensor2d(ids, [B, T], 'int32'))));
      expect(logits.shape).toEqual([B * T, model.config.vocabSize]);
      expect(relError((await logits.data()), f.expected.get('logits')!.data)).toBeLessThan(1e-4);
      logits.dispose();
    });

    it('masked next-token loss matches within 1e-4 relative (mask from lengths, pads ignored)', async () => {
      const { B, T, ids } = batch(f);
      const loss = tf.tidy(() => lossOf(model, ids, B, T, f.golden.lengths));
      expect(Math.abs((await loss.data())[0] - f.golden.loss) / f.golden.loss).toBeLessThan(1e-4);
      // Changing the pad ids must not change the loss: the mask is built from lengths.
      const repadded = ids.slice();
      for (let t = f.golden.lengths[1]; t < T; t++) repadded[T + t] = 7;
      const loss2 = tf.tidy(() => lossOf(model, repadded, B, T, f.golden.lengths));
      expect((await loss2.data())[0]).toBeCloseTo((await loss.data())[0], 6);
      tf.dispose([loss, loss2]);
    });

    it('every parameter gradient matches within 1e-3 relative', async () => {
      const { B, T, ids } = batch(f);
      const names = Object.keys(model.params);
      const { loss, grads: byName } = lossAndGrads(model, names, { ids, B, T, lengths: f.golden.lengths }, { chunkRows: 3 });
      expect(Math.abs((await loss.data())[0] - f.golden.loss) / f.golden.loss).toBeLessThan(1e-4);
      const grads = names.map((n) => byName[n]);
      loss.dispose();
      expect(names.length).toBe([...f.expected.keys()].filter((k) => k.startsWith('grad.')).length);
      for (let i = 0; i < names.length; i++) {
        const ref = goldenGrad(f, names[i]);
        expect(grads[i].shape, names[i]).toEqual(ref.shape);
        const err = relError((await grads[i].data()), ref.data);
        expect(err, `${names[i]}: ${err}`).toBeLessThan(1e-3);
      }
      tf.dispose(grads);
    });

    it('greedy decoding with the KV cache gives the reference tokens, and equals decoding without it', async () => {
      const g = f.golden.greedy;
      const opts = { ...GREEDY, maxNewTokens: g.max_new_tokens, seed: 0, eosTokenIds: [] };
      const cached = await generate(model, g.prompt, { ...opts, useCache: true });
      const full = await generate(model, g.prompt, { ...opts, useCache: false });
      expect(cached.ids).toEqual(g.tokens);
      expect(full.ids).toEqual(g.tokens);
      expect(cached.reason).toBe('length');
    });
  });

  describe('KV cache', async () => {
    it('decoding one token at a time gives the same logits as the full forward', async () => {
      const f = loadFixture(cases[0]);
      const model = loadModel(f.configJson, [f.weights]);
      const ids = f.golden.ids[0];
      const full = tf.tidy(() => lmHead(model, hiddenStates(model, tf.tensor2d(Int32Array.from(ids), [1, ids.length], 'int32'))));
      const fullData = (await full.data());
      const V = model.config.vocabSize;
      const cache = { k: [] as tf.Tensor4D[], v: [] as tf.Tensor4D[], length: 0 };
      for (let t = 0; t < ids.length; t++) {
        const old = [...cache.k, ...cache.v];
        const { step } = tf.tidy(() => ({ step: lmHead(model, hiddenStates(model, tf.tensor2d([ids[t]], [1, 1], 'int32'), cache)), k: cache.k, v: cache.v }));
        tf.dispose(old);
        expect(relError((await step.data()), fullData.subarray(t * V, (t + 1) * V))).toBeLessThan(1e-5);
        step.dispose();
      }
      expect(cache.length).toBe(ids.length);
      full.dispose();
    });
  });

  describe('memory', async () => {
    it('repeated forward, backward and generate calls leak no tensors', async () => {
      const f = loadFixture(cases[0]);
      const model = loadModel(f.configJson, [f.weights]);
      const { B, T, ids } = batch(f);
      const names = Object.keys(model.params);
      const round = async () => {
        tf.dispose(tf.tidy(() => lmHead(model, hiddenStates(model, tf.tensor2d(ids, [B, T], 'int32')))));
        const { loss, grads } = lossAndGrads(model, names, { ids, B, T, lengths: f.golden.lengths });
        tf.dispose([loss, ...Object.values(grads)]);
        await generate(model, [1, 2, 3], { ...GREEDY, maxNewTokens: 5, seed: 0, eosTokenIds: [], useCache: true });
        await generate(model, [1, 2, 3], { temperature: 0.8, topK: 10, topP: 0.9, repetitionPenalty: 1.2, maxNewTokens: 5, seed: 1, eosTokenIds: [], useCache: false });
      };
      await round();
      const before = tf.memory().numTensors;
      for (let i = 0; i < 3; i++) await round();
      expect(tf.memory().numTensors).toBe(before);
    });
  });
});
