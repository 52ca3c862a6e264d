/**
 * The training objective on a token batch: mean next-token cross-entropy by default, or any loss
 * of the final hidden states (a HeadLoss: DPO's, preference.ts), and its gradients.
 */
import * as tf from '@tensorflow/tfjs-core';
import { block, checkPositions, disposeRope, embedTokens, finalNorm, hiddenStates, ropeFor, transposedOf, type ForwardContext } from './forward';
import { lmLoss, nextTokenTargets, type LossTargets } from './loss';
import { keepsProbs, VOCAB_BLOCK } from './lossBlocked';
import { layerOf, modelNames, type Params } from './params';

export interface TokenBatch {
  ids: Int32Array; // (B·T) row-major, padded to T
  B: number;
  T: number;
  lengths: ArrayLike<number>; // valid tokens per row; masks come from these, never from the pad id
  labelMask?: Uint8Array; // optional (B·T): which target positions carry loss
  /** Packed rows (several examples per row): each token's position in its example, (B·T). Absent: one example per row. */
  positions?: Int32Array;
}

export function batchTargets(b: TokenBatch): LossTargets {
  return nextTokenTargets(b.ids, b.B, b.T, b.lengths, b.labelMask, b.positions);
}

/**
 * Scalar mean loss over the batch's target tokens. The LM head's weight gradient is computed
 * unless ctx.trainable leaves the head out (or opts.weightGrad says otherwise).
 */
export function batchLoss(ctx: ForwardContext, b: TokenBatch, opts: { chunkRows?: number; weightGrad?: boolean } = {}): tf.Scalar {
  return headLoss(ctx, batchHidden(ctx, b), b, opts); // (B·T, C) → ()
}

/** The final hidden states of a token batch, (B·T, C). */
const batchHidden = (ctx: ForwardContext, b: TokenBatch): tf.Tensor2D => hiddenStates(ctx, tf.tensor2d(b.ids, [b.B, b.T], 'int32'), undefined, b.positions);

/**
 * A loss of the final hidden states h (B·T, C) of batch b, differentiable in h and in the LM head's
 * weight (the default is headLoss: mean next-token cross-entropy).
 */
export type HeadLoss = (ctx: ForwardContext, h: tf.Tensor2D, b: TokenBatch) => tf.Scalar;

/** The loss from final hidden states h (B·T, C): the fused, chunked LM head and cross-entropy. */
export function headLoss(ctx: ForwardContext, h: tf.Tensor2D, b: TokenBatch, opts: { chunkRows?: number; weightGrad?: boolean; blocked?: boolean; targets?: LossTargets } = {}): tf.Scalar {
  const w = modelNames(ctx.config).head; // the embedding itself when tied: tf.grads adds this use's gradient to the lookup's
  const weightGrad = opts.weightGrad ?? ctx.trainable?.has(w) ?? true;
  const targets = opts.targets ?? batchTargets(b);
  // The checkpointed path's loss: vocabulary blocks, and the probabilities kept for the backward
  // when they are small enough (see keepsProbs: the head's segment has the memory to spare).
  const blocked = opts.blocked ? { vocabBlock: VOCAB_BLOCK, keepProbs: keepsProbs(targets.rows.length, ctx.config.vocabSize) } : {};
  return lmLoss(h, ctx.params[w] as tf.Tensor2D, targets, { chunkRows: opts.chunkRows, weightGrad, transposedWeight: transposedOf(ctx, w), ...blocked });
}


export interface LossAndGradsOptions {
  /** Rows per chunk of the fused loss (see lmLoss). */
  chunkRows?: number;
  /**
   * Activation checkpointing per transformer block: the forward keeps only each block's input,
   * and the backward recomputes one block's forward at a time (all but the last). tfjs keeps every
   * saved tensor and every activation gradient of one tf.grads call until its backward pass ends,
   * so the plain path holds all layers' at once; this holds one layer's. Same gradients. The loss
   * then also runs in vocabulary blocks and, where they fit, keeps the forward's probabilities (see
   * lmLoss's vocabBlock and keepProbs), which saves more FLOPs than the recompute costs on
   * Pythia-70m (its LM head is most of the work).
   */
  checkpoint?: boolean;
  /** The loss of the final hidden states: mean next-token cross-entropy (headLoss) when absent. */
  head?: HeadLoss;
}

/**
 * Loss and d loss / d param for the named parameters (the others are held constant: they get no
 * weight-gradient products, via ctx.trainable, and may use ctx.transposed copies).
 * The returned tensors are the caller's to dispose.
 */
export function lossAndGrads(ctx: ForwardContext, names: string[], b: TokenBatch, opts: LossAndGradsOptions = {}): { loss: tf.Scalar; grads: Params } {
  const missing = names.find((n) => ctx.params[n] === undefined);
  if (missing !== undefined) {
    const why = ctx.transposed?.[missing] ? ': it is held for decoding only (as Wᵀ), restore the training layout first (decodeLayout.ts)' : '';
    throw new Error(`cannot train ${missing}: the model has no such parameter${why}`);
  }
  if (opts.checkpoint) return lossAndGradsCheckpointed(ctx, names, b, opts);
  const trainable = new Set(names);
  const { value, grads } = tf.valueAndGrads((...ws: tf.Tensor[]) => {
    const params: Params = { ...ctx.params };
    names.forEach((n, i) => (params[n] = ws[i]));
    const c = { ...ctx, params, trainable };
    return opts.head ? opts.head(c, batchHidden(c, b), b) : batchLoss(c, b, opts); // → ()
  })(names.map((n) => ctx.params[n]));
  return { loss: value as tf.Scalar, grads: Object.fromEntries(names.map((n, i) => [n, grads[i]])) };
}

/** Which segment a parameter belongs to: −1 the embeddings (tokens, GPT-2's positions), 0…L−1 a block, L the final norm and LM head. */
function segmentOf(ctx: ForwardContext, name: string): number {
  const names = modelNames(ctx.config);
  if (name === names.embed || name === names.positions) return -1;
  return layerOf(ctx.config, name) ?? ctx.config.numLayers;
}

/**
 * lossAndGrads with activation checkpointing (see LossAndGradsOptions.checkpoint). Segments are
 * the embedding, each block, and the head: the last block, the final norm, the LM head and the
 * loss (the last block's activations live beside the head's, which it needs anyway, so it is the
 * one block not recomputed). Each backward is its own tf.grads call, given the gradient of the
 * segment's output, so tfjs frees a segment's saved tensors and activation gradients before the
 * next one starts.
 */
function lossAndGradsCheckpointed(ctx: ForwardContext, names: string[], b: TokenBatch, opts: LossAndGradsOptions): { loss: tf.Scalar; grads: Params } {
  const { config } = ctx;
  const L = config.numLayers;
  const H = Math.max(0, L - 1); // the head's segment starts at block H
  const { B, T } = b;
  checkPositions(config, T);
  const trainable = new Set(names);
  const bySegment = new Map<number, string[]>();
  for (const n of names) {
    const seg = Math.min(segmentOf(ctx, n), H); // the last block's parameters and the head's share segment H
    bySegment.set(seg, [...(bySegment.get(seg) ?? []), n]);
  }
  // The lowest segment with trained parameters: below it no input gradient is needed.
  const lowest = Math.min(...bySegment.keys());
  /** The context with the segment's trained tensors swapped in for the ones being differentiated. */
  const withParams = (segment: string[], ws: tf.Tensor[]): ForwardContext => {
    const params: Params = { ...ctx.params };
    segment.forEach((n, i) => (params[n] = ws[i]));
    return { ...ctx, params, trainable };
  };
  const fwd: ForwardContext = { ...ctx, trainable };
  const ids = tf.tensor2d(b.ids, [B, T], 'int32');
  const rope = ropeFor(config, 0, T, b.positions && { positions: b.positions, B });
  const grads: Params = {};
  // Forward with no tape: only the residual stream at each segment's input is kept, (B·T, C) each.
  const xs: tf.Tensor2D[] = [tf.tidy(() => embedTokens(fwd, ids, 0, b.positions))];
  let dy: tf.Tensor2D | null = null;
  let loss: tf.Scalar | null = null;
  try {
    for (let l = 0; l < H; l++) xs.push(tf.tidy(() => block(fwd, xs[l], l, B, T, rope)));
    // Each segment differentiates in its input only when a segment below it trains something.
    // A tied head is the embedding: the head's segment differentiates it too, and its gradient
    // there is added to the lookup's below.
    const { embed: embedName, head: headName } = modelNames(config);
    const tiedTrained = headName === embedName && trainable.has(embedName);
    const head = [...(bySegment.get(H) ?? []), ...(tiedTrained ? [embedName] : [])];
    const withInput = H > lowest;
    const r = tf.valueAndGrads((...args: tf.Tensor[]) => {
      const c = withParams(head, withInput ? args.slice(1) : args);
      let x = withInput ? (args[0] as tf.Tensor2D) : xs[H];
      for (let l = H; l < L; l++) x = block(c, x, l, B, T, rope); // (B·T, C)
      const h = finalNorm(c, x); // (B·T, C)
      return opts.head ? opts.head(c, h, b) : headLoss(c, h, b, { ...opts, blocked: true }); // → ()
    })([...(withInput ? [xs[H]] : []), ...head.map((n) => ctx.params[n])]);
    loss = r.value as tf.Scalar;
    const headGrads = withInput ? r.grads.slice(1) : r.grads;
    head.forEach((n, i) => (grads[n] = headGrads[i]));
    dy = withInput ? (r.grads[0] as tf.Tensor2D) : null;
    for (let l = H - 1; l >= Math.max(lowest, 0); l--) {
      const seg = bySegment.get(l) ?? [];
      const input = l > lowest;
      // Recompute block l's forward on a fresh tape, and backpropagate dy (B·T, C) through it.
      const out = tf.grads((...args: tf.Tensor[]) => {
        const ws = input ? args.slice(1) : args;
        return block(withParams(seg, ws), input ? (args[0] as tf.Tensor2D) : xs[l], l, B, T, rope); // (B·T, C)
      })([...(input ? [xs[l]] : []), ...seg.map((n) => ctx.params[n])], dy!);
      dy!.dispose();
      dy = input ? (out[0] as tf.Tensor2D) : null;
      (input ? out.slice(1) : out).forEach((g, i) => (grads[seg[i]] = g));
    }
    if (lowest === -1) {
      // The embeddings' own gradients (a scatter-add of dy into the rows used), plus a tied head's.
      const seg = bySegment.get(-1)!;
      const gs = tf.grads((...ws: tf.Tensor[]) => embedTokens(withParams(seg, ws), ids, 0, b.positions))(seg.map((n) => ctx.params[n]), dy!);
      seg.forEach((n, i) => {
        const fromHead = grads[n];
        grads[n] = fromHead ? tf.add(fromHead, gs[i]) : gs[i];
        if (fromHead) tf.dispose([fromHead, gs[i]]);
      });
    }
    return { loss, grads: Object.fromEntries(names.map((n) => [n, grads[n]])) };
  } catch (e) {
    tf.dispose([...(loss ? [loss] : []), ...Object.values(grads)]);
    throw e;
  } finally {
    disposeRope(rope);
    tf.dispose([ids, ...xs, ...(dy ? [dy] : [])]);
  }
}
