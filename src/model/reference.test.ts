/**
 * The optimised model (gptNeox.ts, the chunked loss, the hand-written gradients) against the plain
 * reference (reference.ts) on every GPT-NeoX golden checkpoint: the same loss and the same gradient
 * for every parameter, on the CPU backend. (The other families are held to PyTorch directly, in
 * forward.test.ts.)
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { fixtureNames, loadFixture, relError, startTestBackend } from '../testing/fixtures';
import { loadModel } from './checkpoint';
import { parseConfig } from './config';
import { lossAndGrads } from './objective';
import { referenceLoss } from './reference';

beforeAll(() => startTestBackend('cpu'));

const neox = fixtureNames().filter((n) => parseConfig(loadFixture(n).configJson).modelType === 'gpt_neox');

describe.each(neox)('the optimised model against the plain reference: %s', (name) => {
  it('loss within 1e-5 and every gradient within 1e-4 relative, and the reference meets the PyTorch golden loss', async () => {
    const f = loadFixture(name);
    const model = loadModel(f.configJson, [f.weights]);
    const ids = f.golden.ids;
    const [B, T] = [ids.length, ids[0].length];
    const names = Object.keys(model.params);
    const optimised = lossAndGrads(model, names, { ids: Int32Array.from(ids.flat()), B, T, lengths: f.golden.lengths }, { chunkRows: 3 });
    const reference = tf.valueAndGrads((...ws: tf.Tensor[]) => referenceLoss(Object.fromEntries(names.map((n, i) => [n, ws[i]])), model.config, ids, f.golden.lengths))(names.map((n) => model.params[n]));
    const [want, got] = [(await reference.value.data())[0], (await optimised.loss.data())[0]];
    expect(Math.abs(got - want) / want).toBeLessThan(1e-5);
    expect(Math.abs(want - f.golden.loss) / f.golden.loss).toBeLessThan(1e-4);
    for (const [i, n] of names.entries()) expect(relError(await optimised.grads[n].data(), await reference.grads[i].data()), n).toBeLessThan(1e-4);
    tf.dispose([optimised.loss, ...Object.values(optimised.grads), reference.value, ...reference.grads]);
    tf.dispose(Object.values(model.params));
  });
});
