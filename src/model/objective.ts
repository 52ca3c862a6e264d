/**
 * The training objective on a token batch: mean next-token cross-entropy, and its gradients.
 */
import * as tf from '@tensorflow/tfjs-core';
import { hiddenStates, transposedOf, type ForwardContext } from './gptNeox';
import { lmLoss, nextTokenTargets, type LossTargets } from './loss';
import type { Params } from './params';

export interface TokenBatch {
  ids: Int32Array; // (B·T) row-major, padded to T
  B: number;
  T: number;
  lengths: ArrayLike<number>; // valid tokens per row; masks come from these, never from the pad id
  labelMask?: Uint8Array; // optional (B·T): which target positions carry loss
}

export function batchTargets(b: TokenBatch): LossTargets {
  return nextTokenTargets(b.ids, b.B, b.T, b.lengths, b.labelMask);
}

/**
 * Scalar mean loss over the batch's target tokens. The LM head's weight gradient is computed
 * unless ctx.trainable leaves embed_out out (or opts.weightGrad says otherwise).
 */
export function batchLoss(ctx: ForwardContext, b: TokenBatch, opts: { chunkRows?: number; weightGrad?: boolean } = {}): tf.Scalar {
  const h = hiddenStates(ctx, tf.tensor2d(b.ids, [b.B, b.T], 'int32')); // (B·T, C)
  const w = 'embed_out.weight';
  const weightGrad = opts.weightGrad ?? ctx.trainable?.has(w) ?? true;
  return lmLoss(h, ctx.params[w] as tf.Tensor2D, batchTargets(b), { chunkRows: opts.chunkRows, weightGrad, transposedWeight: transposedOf(ctx, w) });
}

/**
 * Loss and d loss / d param for the named parameters (the others are held constant: they get no
 * weight-gradient products, via ctx.trainable, and may use ctx.transposed copies).
 * The returned tensors are the caller's to dispose.
 */
export function lossAndGrads(ctx: ForwardContext, names: string[], b: TokenBatch, opts: { chunkRows?: number } = {}): { loss: tf.Scalar; grads: Params } {
  const trainable = new Set(names);
  const { value, grads } = tf.valueAndGrads((...ws: tf.Tensor[]) => {
    const params: Params = { ...ctx.params };
    names.forEach((n, i) => (params[n] = ws[i]));
    return batchLoss({ ...ctx, params, trainable }, b, opts);
  })(names.map((n) => ctx.params[n]));
  return { loss: value as tf.Scalar, grads: Object.fromEntries(names.map((n, i) => [n, grads[i]])) };
}
