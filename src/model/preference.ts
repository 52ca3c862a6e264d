/**
 * Direct Preference Optimization (Rafailov et al. 2023) as TRL's DPOTrainer computes it with
 * loss_type "sigmoid". A pair batch holds n chosen rows, then the n rejected rows of the same
 * pairs; each row's log-probability is the sum of log p(token) over its response tokens (the
 * batch's label mask). With π the policy's and ρ the reference model's:
 *
 *   z_i    = β · ((π_chosen − π_rejected) − (ρ_chosen − ρ_rejected))
 *   loss   = mean_i −(1 − ε)·log σ(z_i) − ε·log σ(−z_i)        (ε: label smoothing, 0 = plain DPO)
 *   reward = β · (π − ρ), chosen and rejected; accuracy = share of pairs with chosen > rejected
 *
 * At the reference (π = ρ) every z is 0 and the loss is ln 2. scripts/dpo_reference.py is the
 * PyTorch reference the tests compare against.
 */
import * as tf from '@tensorflow/tfjs-core';
import { hiddenStates, type ForwardContext } from './forward';
import type { LossTargets } from './loss';
import { batchTargets, headLoss, type HeadLoss, type TokenBatch } from './objective';

export interface DpoSettings {
  /** β: how far the policy may move from the reference (TRL's default 0.1). */
  beta: number;
  /** ε: the assumed share of pairs whose labels are flipped (cDPO); 0 is plain DPO. */
  labelSmoothing: number;
}

/** The batch's targets per row, each weighted 1 (a sum, not a mean); empty for a row with none. */
function rowTargets(b: TokenBatch): LossTargets[] {
  const all = batchTargets(b);
  const rows: number[][] = Array.from({ length: b.B }, () => []);
  all.rows.forEach((r, i) => rows[Math.floor(r / b.T)].push(i));
  return rows.map((idx) => ({
    rows: Int32Array.from(idx, (i) => all.rows[i]),
    targets: Int32Array.from(idx, (i) => all.targets[i]),
    weights: new Float32Array(idx.length).fill(1),
  }));
}

/** Σ log p(target) over each row's targets, (B,), differentiable in h (B·T, C) and the head's weight. */
export function sequenceLogps(ctx: ForwardContext, h: tf.Tensor2D, b: TokenBatch): tf.Tensor1D {
  // One fused, chunked loss per row: the same FLOPs as one call, and no (rows, vocab) logits kept.
  const perRow = rowTargets(b).map((t) => (t.rows.length ? tf.neg(headLoss(ctx, h, b, { targets: t })) : tf.scalar(0)));
  return tf.stack(perRow) as tf.Tensor1D;
}

/** log σ(z) = min(z, 0) − log(1 + e^−|z|): stable for any z, and only ops every backend has. */
const logSigmoid = (z: tf.Tensor): tf.Tensor => tf.sub(tf.minimum(z, 0), tf.log(tf.add(1, tf.exp(tf.neg(tf.abs(z))))));

/** The DPO loss from the policy's sequence log-probabilities (2n,), differentiable, against the reference's. */
export function dpoLoss(policy: tf.Tensor1D, reference: Float32Array, s: DpoSettings): tf.Scalar {
  const n = policy.shape[0] / 2;
  if (!Number.isInteger(n) || reference.length !== policy.shape[0]) throw new Error(`a DPO batch holds n chosen rows then n rejected ones (got ${policy.shape[0]} rows, ${reference.length} reference values)`);
  const ref = tf.tensor1d(reference);
  const margin = tf.sub(tf.sub(tf.slice(policy, 0, n), tf.slice(policy, n, n)), tf.sub(tf.slice(ref, 0, n), tf.slice(ref, n, n))); // (n)
  const z = tf.mul(margin, s.beta);
  const losses = tf.sub(tf.mul(logSigmoid(z), -(1 - s.labelSmoothing)), tf.mul(logSigmoid(tf.neg(z)), s.labelSmoothing)); // (n)
  return tf.mean(losses) as tf.Scalar;
}

/**
 * DPO as lossAndGrads' head (see LossAndGradsOptions.head). The policy's sequence log-probabilities
 * are left in `out.policy` for the metrics: the caller disposes them.
 */
export function dpoHead(reference: Float32Array, s: DpoSettings, out: { policy?: tf.Tensor1D }): HeadLoss {
  return (ctx, h, b) => {
    const policy = sequenceLogps(ctx, h, b);
    out.policy?.dispose();
    out.policy = tf.keep(policy);
    return dpoLoss(policy, reference, s);
  };
}

/** Each row's sequence log-probability under ctx with no gradient (the reference's in a step; both models' in an evaluation), on the host. */
export async function scoreSequences(ctx: ForwardContext, b: TokenBatch): Promise<Float32Array> {
  const t = tf.tidy(() => sequenceLogps(ctx, hiddenStates(ctx, tf.tensor2d(b.ids, [b.B, b.T], 'int32'), undefined, b.positions), b));
  try {
    return (await t.data()) as Float32Array;
  } finally {
    t.dispose();
  }
}

/** What a DPO step or evaluation reports: means over its pairs. */
export interface PreferenceMetrics {
  /** β·(π − ρ) of the chosen answers: rises as the policy prefers them more than the reference did. */
  chosenReward: number;
  rejectedReward: number;
  /** chosenReward − rejectedReward. */
  margin: number;
  /** The share of pairs whose chosen reward is above the rejected one. */
  accuracy: number;
  pairs: number;
}

/** The metrics of one pair batch from both models' sequence log-probabilities (2n each). */
export function preferenceMetrics(policy: ArrayLike<number>, reference: ArrayLike<number>, beta: number): PreferenceMetrics {
  const n = policy.length / 2;
  let chosen = 0;
  let rejected = 0;
  let right = 0;
  for (let i = 0; i < n; i++) {
    const c = beta * (policy[i] - reference[i]);
    const r = beta * (policy[n + i] - reference[n + i]);
    chosen += c;
    rejected += r;
    if (c > r) right++;
  }
  return { chosenReward: chosen / n, rejectedReward: rejected / n, margin: (chosen - rejected) / n, accuracy: right / n, pairs: n };
}

/** Pair-weighted means of several batches' metrics (the micro-batches of a step, the test split's batches). */
export function meanPreference(parts: PreferenceMetrics[]): PreferenceMetrics {
  const pairs = parts.reduce((n, p) => n + p.pairs, 0);
  const mean = (k: 'chosenReward' | 'rejectedReward' | 'margin' | 'accuracy') => parts.reduce((s, p) => s + p[k] * p.pairs, 0) / pairs;
  return { chosenReward: mean('chosenReward'), rejectedReward: mean('rejectedReward'), margin: mean('margin'), accuracy: mean('accuracy'), pairs };
}
