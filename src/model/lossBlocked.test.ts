import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { relError, startTestBackend } from '../testing/fixtures';
import { lmLoss, type LmLossOptions, type LossTargets } from './loss';
import { vocabBlocks } from './lossBlocked';

describe('vocabBlocks', () => {
  it('splits the vocabulary into equal blocks of at most the given size, covering it exactly', () => {
    expect(vocabBlocks(50304, 4608).map((b) => b.n)).toEqual([...new Array(10).fill(4574), 50304 - 10 * 4574]);
    expect(vocabBlocks(96, 4608)).toEqual([{ s: 0, n: 96 }]);
    const blocks = vocabBlocks(1000, 128);
    expect(blocks.reduce((n, b) => n + b.n, 0)).toBe(1000);
    blocks.forEach((b, i) => i > 0 && expect(b.s).toBe(blocks[i - 1].s + blocks[i - 1].n));
  });
});

describe.each(['cpu', 'wasm'] as const)('lmLoss in vocabulary blocks on the %s backend', (backend) => {
  beforeAll(() => startTestBackend(backend));

  const N = 40;
  const C = 16;
  const V = 203; // not a multiple of the block size: a short last block
  const targets = (): LossTargets => {
    const rows = Int32Array.from({ length: 35 }, (_, i) => i + (i > 20 ? 3 : 0)); // rows 21–23 carry no loss
    return { rows, targets: Int32Array.from(rows, (r) => (r * 37 + 11) % V), weights: Float32Array.from(rows, (r) => 0.5 + (r % 3) / 10) };
  };
  const run = (opts: LmLossOptions & { withTransposed?: boolean }) => {
    const h = tf.randomNormal([N, C], 0, 1, 'float32', 4) as tf.Tensor2D;
    const W = tf.randomNormal([V, C], 0, 0.5, 'float32', 5) as tf.Tensor2D;
    const wT = opts.withTransposed ? (tf.transpose(W) as tf.Tensor2D) : undefined;
    const { value, grads } = tf.valueAndGrads((a: tf.Tensor, b: tf.Tensor) => lmLoss(a as tf.Tensor2D, b as tf.Tensor2D, targets(), { ...opts, transposedWeight: wT }))([h, W]);
    const out = { loss: value.dataSync()[0], dh: grads[0].dataSync(), dW: grads[1].dataSync() };
    tf.dispose([h, W, value, ...grads, ...(wT ? [wT] : [])]);
    return out;
  };

  it.each([
    { name: '4 blocks, 3 row chunks', opts: { vocabBlock: 64, chunkRows: 13 } },
    { name: 'kept probabilities', opts: { vocabBlock: 64, chunkRows: 13, keepProbs: true } },
    { name: 'one block, one chunk, kept probabilities', opts: { vocabBlock: 4608, keepProbs: true } },
    { name: 'a precomputed Wᵀ', opts: { vocabBlock: 50, withTransposed: true } },
  ])('$name: the same loss and gradients as the whole-vocabulary loss', ({ opts }) => {
    const plain = run({ chunkRows: 7, withTransposed: opts.withTransposed });
    const before = tf.memory().numTensors;
    const blocked = run(opts);
    expect(tf.memory().numTensors).toBe(before);
    expect(Math.abs(blocked.loss - plain.loss) / plain.loss).toBeLessThan(1e-6);
    expect(relError(blocked.dh, plain.dh)).toBeLessThan(1e-5);
    expect(relError(blocked.dW, plain.dW)).toBeLessThan(1e-5);
    // Rows that carry no loss get no gradient.
    expect(Array.from(blocked.dh.subarray(21 * C, 24 * C)).every((x) => x === 0)).toBe(true);
  });

  it('skips dW for a frozen W (weightGrad false), as the whole-vocabulary loss does', () => {
    const plain = run({ weightGrad: false });
    const blocked = run({ weightGrad: false, vocabBlock: 64, keepProbs: true });
    expect(relError(blocked.dh, plain.dh)).toBeLessThan(1e-5);
    expect(Array.from(blocked.dW).every((x) => x === 0)).toBe(true);
  });
});
