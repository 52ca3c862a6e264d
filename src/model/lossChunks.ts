/** The loss rows in chunks, shared by both fused losses (loss.ts, lossBlocked.ts). */
import * as tf from '@tensorflow/tfjs-core';
import type { LossTargets } from './loss';

/** Row ranges [s, e) of the loss rows, at most `size` each. */
export interface RowChunk {
  s: number;
  e: number;
}
export function rowChunks(M: number, size: number): RowChunk[] {
  const chunks: RowChunk[] = [];
  for (let s = 0; s < M; s += size) chunks.push({ s, e: Math.min(M, s + size) });
  return chunks;
}

/**
 * One chunk's rows, targets and weights as tensors. Made where they are used, inside the forward
 * or the backward: tensors a gradFunc only closes over are freed by tf.grads before it runs.
 */
export function chunkTensors(t: LossTargets, c: RowChunk) {
  return {
    rows: tf.tensor1d(t.rows.subarray(c.s, c.e), 'int32'),
    targets: tf.tensor1d(t.targets.subarray(c.s, c.e), 'int32'),
    weights: tf.tensor1d(t.weights.subarray(c.s, c.e), 'float32'),
    n: c.e - c.s,
  };
}
