/**
 * Next-token cross-entropy through the LM head, fused and chunked (as llm.c's fused classifier).
 *
 * The [tokens, vocab] logits are never materialised for all tokens at once: forward computes
 * logsumexp and the target logit chunk by chunk; backward recomputes each chunk's logits and
 * turns them into gradients straight away. No one-hot: the target entries are scattered (or, with
 * the fused WebGPU kernels, each chunk's logits go to its loss, and back to their gradient, in one
 * kernel: backend/webgpu/crossEntropy.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import { crossEntropyFused, crossEntropyGradFused, fusedKernelsOn } from './fused';
import { chunkTensors, rowChunks, type RowChunk } from './lossChunks';
import { lmLossBlocked } from './lossBlocked';

/** Which rows of the (B·T, C) hidden states predict which token, and with what weight. */
export interface LossTargets {
  rows: Int32Array; // row index into (B·T) hidden states
  targets: Int32Array; // the next token id each row predicts
  weights: Float32Array; // per-row weight; they sum to 1 for a mean loss
}

/**
 * Targets from sequence lengths (never from the pad id: pad = EOS for Pythia, and the EOS that ends
 * each example must be learned). Row b predicts ids[b, t+1] from position t for t + 1 < lengths[b].
 * `labelMask`, if given, marks which target positions carry loss (e.g. the completion only).
 * `positions`, for packed rows, mark where each example starts (position 0): the token before
 * it ends another example and predicts nothing.
 */
export function nextTokenTargets(ids: Int32Array, B: number, T: number, lengths: ArrayLike<number>, labelMask?: Uint8Array, positions?: Int32Array): LossTargets {
  const rows: number[] = [];
  const targets: number[] = [];
  for (let b = 0; b < B; b++) {
    const len = Math.min(lengths[b], T);
    for (let t = 0; t + 1 < len; t++) {
      if (labelMask && !labelMask[b * T + t + 1]) continue;
      if (positions && positions[b * T + t + 1] === 0) continue;
      rows.push(b * T + t);
      targets.push(ids[b * T + t + 1]);
    }
  }
  const n = rows.length;
  return { rows: Int32Array.from(rows), targets: Int32Array.from(targets), weights: new Float32Array(n).fill(n ? 1 / n : 0) };
}

/** Rows per chunk so a chunk's logits stay near 2^24 floats (64 MiB), whatever the vocabulary. */
export const defaultChunkRows = (vocab: number): number => Math.max(16, Math.floor((1 << 24) / vocab));

/**
 * Σ weights·CE(h[rows] Wᵀ, targets), differentiable in h (N, C) and, if `weightGrad`, in W (V, C).
 * With weightGrad false (frozen embed_out, e.g. LoRA), the dW matmuls are skipped.
 */
export interface LmLossOptions {
  /** Rows per chunk (default: see defaultChunkRows, or blockedChunkRows with vocabBlock). */
  chunkRows?: number;
  /** Compute dW (false for a frozen embed_out: the dW matmuls are skipped). */
  weightGrad?: boolean;
  /** A precomputed Wᵀ (C, V), for a frozen W. */
  transposedWeight?: tf.Tensor2D;
  /**
   * Split the vocabulary into blocks of at most this many entries (see lmLossBlocked): faster on
   * WASM, less memory per chunk. Absent: whole-vocabulary chunks, as this function always did.
   */
  vocabBlock?: number;
  /** With vocabBlock: keep the forward's probabilities (rows × V floats) instead of recomputing the logits in the backward. */
  keepProbs?: boolean;
}

export function lmLoss(h: tf.Tensor2D, W: tf.Tensor2D, t: LossTargets, opts: LmLossOptions = {}): tf.Scalar {
  if (opts.vocabBlock) return lmLossBlocked(h, W, t, { ...opts, vocabBlock: opts.vocabBlock });
  const M = t.rows.length;
  if (M === 0) throw new Error('no tokens carry loss: every example is empty or fully masked');
  const chunk = opts.chunkRows ?? defaultChunkRows(W.shape[0]);
  const weightGrad = opts.weightGrad ?? true;
  const chunks = rowChunks(M, chunk);
  const slice = (c: RowChunk) => chunkTensors(t, c);
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [h2, w2, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
    // Untransposed matMuls only (see matmul.ts): Wᵀ is made once and kept for the backward pass.
    // With the fused WebGPU kernels the shader reads W transposed instead: no (C, V) copy at all.
    const fused = fusedKernelsOn() && !opts.transposedWeight;
    const wT = fused ? w2 : (opts.transposedWeight ?? tf.transpose(w2)); // (C, V), or W (V, C) read transposed
    const logitsOf = (hc: tf.Tensor2D, wT: tf.Tensor2D) => tf.matMul(hc, wT, false, fused); // (n, V)
    save([h2, w2, wT]); // tf.grads frees unsaved intermediates before the backward pass
    let total: tf.Scalar = tf.scalar(0);
    for (const c of chunks) {
      // Each chunk's (n, V) logits are freed before the next chunk's exist.
      const next = tf.tidy(() => {
        const { rows, targets, weights } = slice(c);
        const hc = tf.gather(h2, rows); // (n, C)
        if (fused) return tf.add(total, tf.sum(crossEntropyFused(logitsOf(hc, wT), targets, weights))) as tf.Scalar; // one kernel from logits to per-row loss
        const lse = tf.logSumExp(logitsOf(hc, wT), 1); // (n,)
        const targetLogit = tf.sum(tf.mul(hc, tf.gather(w2, targets)), 1); // (n,) = logits[i, target_i]
        return tf.add(total, tf.sum(tf.mul(tf.sub(lse, targetLogit), weights))) as tf.Scalar;
      });
      total.dispose();
      total = next;
    }
    return {
      value: total,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [h2, w2, wT] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
        const [N, C] = h2.shape;
        const dhRows: tf.Tensor[] = [];
        let dWT: tf.Tensor | null = null; // accumulated as (C, V): hcᵀ·g needs no transposed matMul; (V, C) = gᵀ·hc when fused
        for (const c of chunks) {
          // One chunk's (n, V) probabilities and gradients at a time: the tape would otherwise keep
          // every chunk's until the whole backward pass ends (≈1.8 GB for Pythia-70m at 8×128).
          const [dhRow, part] = tf.tidy(() => {
            const { rows, targets, weights, n } = slice(c);
            const hc = tf.gather(h2, rows); // (n, C)
            // dlogits = (softmax - onehot(target)) · weight · dy: one kernel when fused, else the
            // one-hot part as a sparse scatter.
            const dlogits = () => {
              const scale = tf.mul(weights, dy); // (n,)
              const probs = tf.softmax(logitsOf(hc, wT)); // (n, V)
              const idx = tf.stack([tf.range(0, n, 1, 'int32'), targets], 1) as tf.Tensor2D; // (n, 2)
              return tf.sub(tf.mul(probs, tf.expandDims(scale, 1)), tf.scatterND(idx, scale, [n, w2.shape[0]]));
            };
            const g = fused ? crossEntropyGradFused(logitsOf(hc, wT), targets, weights, dy) : dlogits(); // (n, V)
            const dhc = tf.matMul(g, w2); // (n, V) @ (V, C) → (n, C)
            const sum = !weightGrad ? null : fused ? tf.matMul(g, hc, true, false) : tf.matMul(tf.transpose(hc), g); // (V, C) read transposed, or (C, n) @ (n, V) → (C, V)
            return sum ? [dhc, dWT ? tf.add(dWT, sum) : sum] : [dhc];
          });
          dhRows.push(dhRow);
          if (part) {
            dWT?.dispose();
            dWT = part;
          }
        }
        const dW = dWT ? (fused ? dWT : tf.transpose(dWT)) : tf.zerosLike(w2); // (V, C)
        // Rows are distinct, so one scatter places every chunk's rows; unused rows get 0.
        const dh = tf.scatterND(tf.expandDims(tf.tensor1d(t.rows, 'int32'), 1), dhRows.length === 1 ? dhRows[0] : tf.concat(dhRows, 0), [N, C]);
        return [dh, dW];
      },
    };
  });
  return f(h, W) as tf.Scalar;
}
