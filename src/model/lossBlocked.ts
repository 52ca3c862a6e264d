/**
 * The LM head's loss with the vocabulary in blocks as well as the rows in chunks (lmLoss's
 * `vocabBlock` option; see loss.ts for the whole-vocabulary version and what both share). Every
 * product's shared dimension stays at most C or one block, which XNNPACK runs at full speed on
 * WASM, and the checkpointed path can keep the forward's probabilities for its backward.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LmLossOptions, LossTargets } from './loss';
import { chunkTensors, rowChunks, type RowChunk } from './lossChunks';

/**
 * Vocabulary blocks for the WASM backend's matmuls: XNNPACK runs the LM head's products at about
 * half speed once their shared dimension passes ~8k (g·W, (rows, V) @ (V, C)), and at full speed
 * with blocks of ≤ 4608 (measured in Chromium, 2 threads: 31 against 56 GFLOP/s).
 */
export const VOCAB_BLOCK = 4608;

/** The most of the forward's probabilities (rows × V floats) the blocked loss is asked to keep for its backward. */
export const KEEP_PROBS_BYTES = 256 * 2 ** 20;

/** Whether `rows` loss rows' probabilities fit KEEP_PROBS_BYTES. */
export const keepsProbs = (rows: number, vocab: number): boolean => rows * vocab * 4 <= KEEP_PROBS_BYTES;

/** Rows per chunk of the blocked loss: one block's (rows, Vb) tensors stay near 2^24 floats. */
export const blockedChunkRows = (vocabBlock: number): number => Math.max(16, Math.floor((1 << 24) / vocabBlock));

/** [start, size) of each vocabulary block: equal sizes, at most maxBlock. */
export function vocabBlocks(V: number, maxBlock: number): { s: number; n: number }[] {
  const count = Math.ceil(V / maxBlock);
  const size = Math.ceil(V / count);
  return Array.from({ length: count }, (_, j) => ({ s: j * size, n: Math.min(V, (j + 1) * size) - j * size })).filter((b) => b.n > 0);
}

/**
 * lmLoss with the vocabulary in blocks of at most opts.vocabBlock (and rows in chunks): the same
 * value and gradients, with every matmul's shared dimension at most C or Vb. The forward keeps
 * each row's logsumexp (and, with keepProbs, the probabilities, so the backward multiplies them
 * straight away instead of recomputing the logits: a quarter of the LM head's FLOPs).
 */
export function lmLossBlocked(h: tf.Tensor2D, W: tf.Tensor2D, t: LossTargets, opts: LmLossOptions & { vocabBlock: number }): tf.Scalar {
  const M = t.rows.length;
  if (M === 0) throw new Error('no tokens carry loss: every example is empty or fully masked');
  const [V, C] = W.shape;
  const blocks = vocabBlocks(V, opts.vocabBlock);
  const chunk = opts.chunkRows ?? blockedChunkRows(blocks[0].n);
  const weightGrad = opts.weightGrad ?? true;
  const keepProbs = opts.keepProbs ?? false;
  const chunks = rowChunks(M, chunk);
  // Per chunk and block, the rows whose target falls in the block: the one-hot part of dlogits.
  const hits = chunks.map((c) =>
    blocks.map((b) => {
      const idx: number[] = [];
      for (let i = c.s; i < c.e; i++) if (t.targets[i] >= b.s && t.targets[i] < b.s + b.n) idx.push(i - c.s, t.targets[i] - b.s);
      return Int32Array.from(idx);
    }),
  );
  const tensors = (c: RowChunk) => chunkTensors(t, c);
  /** Wᵀ by block, (C, Vb) each: the right operand of the logits' products (untransposed matMuls only). */
  const blockWT = (w: tf.Tensor2D) =>
    blocks.map((b) => tf.tidy(() => (opts.transposedWeight ? tf.slice(opts.transposedWeight, [0, b.s], [C, b.n]) : tf.transpose(tf.slice(w, [b.s, 0], [b.n, C])))));
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [h2, w2, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
    const wT = blockWT(w2);
    let total: tf.Scalar = tf.scalar(0);
    const kept: tf.Tensor[] = []; // per chunk: its logsumexp (n,), or its probabilities by block (n, Vb)
    for (const c of chunks) {
      const { rows, targets, weights } = tensors(c);
      const hc = tf.gather(h2, rows); // (n, C)
      let lse: tf.Tensor1D;
      if (keepProbs) {
        // One exp pass: shift every block by the row max over the whole vocabulary, keep e = exp(l − m),
        // then probabilities e / Σe and logsumexp m + log Σe.
        const logits = wT.map((wb) => tf.matMul(hc, wb)); // (n, Vb) each
        const m = tf.tidy(() => tf.max(tf.stack(logits.map((l) => tf.max(l, 1)), 1), 1, true)); // (n, 1)
        const e = logits.map((l) => {
          const x = tf.tidy(() => tf.exp(tf.sub(l, m)));
          l.dispose();
          return x;
        });
        const sum = tf.tidy(() => tf.sum(tf.concat(e.map((x) => tf.sum(x, 1, true)), 1), 1, true)); // (n, 1)
        for (const x of e) {
          kept.push(tf.div(x, sum)); // (n, Vb) probabilities
          x.dispose();
        }
        lse = tf.tidy(() => tf.reshape(tf.add(m, tf.log(sum)), [-1]) as tf.Tensor1D); // (n,)
        tf.dispose([m, sum]);
      } else {
        // Block by block, each block's logits freed as soon as its logsumexp is known.
        const lseBlocks = wT.map((wb) => tf.tidy(() => tf.logSumExp(tf.matMul(hc, wb), 1))); // (n,) each
        lse = tf.tidy(() => tf.logSumExp(tf.stack(lseBlocks, 1), 1) as tf.Tensor1D); // (n,) over the whole vocabulary
        tf.dispose(lseBlocks);
        kept.push(lse);
      }
      const loss = tf.tidy(() => {
        const targetLogit = tf.sum(tf.mul(hc, tf.gather(w2, targets)), 1); // (n,) = logits[i, target_i]
        return tf.add(total, tf.sum(tf.mul(tf.sub(lse, targetLogit), weights))) as tf.Scalar;
      });
      if (keepProbs) lse.dispose();
      tf.dispose([rows, targets, weights, hc, total]);
      total = loss;
    }
    save([h2, w2, ...kept]);
    tf.dispose([...wT, ...kept]); // save() holds its own copies
    return {
      value: total,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [h2, w2, ...rest] = saved as tf.Tensor2D[];
        const wRows = blocks.map((b) => tf.slice(w2, [b.s, 0], [b.n, C])); // (Vb, C): the right operand of dh
        const wTb = keepProbs ? [] : blockWT(w2);
        const dhRows: tf.Tensor[] = [];
        const dWb: (tf.Tensor | null)[] = blocks.map(() => null); // by block, (Vb, C) = gᵀ·hc: XNNPACK's fastest shape of the three
        chunks.forEach((c, ci) => {
          const { rows, targets, weights, n } = tensors(c);
          const hc = tf.gather(h2, rows); // (n, C)
          const scale = tf.mul(weights, dy); // (n,)
          const scaleCol = tf.expandDims(scale, 1); // (n, 1)
          const lse = keepProbs ? null : tf.expandDims(rest[ci], 1); // (n, 1)
          let dh: tf.Tensor | null = null;
          blocks.forEach((b, j) => {
            // One block's (n, Vb) tensors at a time; the saved probabilities are freed once used
            // (tfjs's own dispose of saved tensors at the end is then a no-op).
            const [dhNext, dWNext] = tf.tidy(() => {
              const probs = keepProbs ? rest[ci * blocks.length + j] : tf.exp(tf.sub(tf.matMul(hc, wTb[j]), lse!)); // (n, Vb)
              const hit = hits[ci][j];
              let g = tf.mul(probs, scaleCol); // (n, Vb)
              if (hit.length > 0) {
                const k = hit.length / 2;
                const at = tf.tensor1d(hit.filter((_, i) => i % 2 === 0), 'int32'); // the rows whose target is in this block
                g = tf.sub(g, tf.scatterND(tf.tensor2d(hit, [k, 2], 'int32'), tf.gather(scale, at), [n, b.n])); // − onehot · weight
              }
              const d = tf.matMul(g, wRows[j]); // (n, Vb) @ (Vb, C) → (n, C)
              const dhSum = dh ? tf.add(dh, d) : d;
              if (!weightGrad) return [dhSum];
              const part = tf.matMul(tf.transpose(g), hc); // (Vb, n) @ (n, C) → (Vb, C)
              return [dhSum, dWb[j] ? tf.add(dWb[j]!, part) : part];
            });
            if (keepProbs) rest[ci * blocks.length + j].dispose();
            dh?.dispose();
            dh = dhNext;
            if (dWNext) {
              dWb[j]?.dispose();
              dWb[j] = dWNext;
            }
          });
          tf.dispose([rows, targets, weights, hc, scale, scaleCol, ...(lse ? [lse] : [])]);
          dhRows.push(dh!);
        });
        tf.dispose([...wRows, ...wTb]);
        const done = dWb.filter((d): d is tf.Tensor => d !== null);
        const dW = weightGrad ? (done.length === 1 ? done[0] : tf.concat(done, 0)) : tf.zerosLike(w2); // (V, C)
        if (done.length > 1) tf.dispose(done);
        const dh = tf.tidy(() => tf.scatterND(tf.expandDims(tf.tensor1d(t.rows, 'int32'), 1), dhRows.length === 1 ? dhRows[0] : tf.concat(dhRows, 0), [h2.shape[0], C]));
        tf.dispose(dhRows);
        return [dh, dW];
      },
    };
  });
  return f(h, W) as tf.Scalar;
}
