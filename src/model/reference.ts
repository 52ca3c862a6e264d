/**
 * GPT-NeoX's forward and next-token loss written as plainly as tfjs allows: the specification
 * that gptNeox.ts, loss.ts and objective.ts optimise (fused kernels, KV cache, LoRA, a chunked
 * loss, checkpointing, hand-written gradients), and the oracle a test holds them to
 * (reference.test.ts). No cache, no adapters, no chunks, no custom gradients: tf.grads
 * differentiates it as it stands. Read it before the optimised files.
 */
import * as tf from '@tensorflow/tfjs-core';
import { headSize, rotaryDims, type ModelConfig } from './config';
import type { Params } from './params';

/** Mean cross-entropy of predicting ids[b][t + 1] from ids[b][..t], over t + 1 < lengths[b]. */
export function referenceLoss(params: Params, c: ModelConfig, ids: number[][], lengths: number[]): tf.Scalar {
  const [B, T, C, nH, hs, rd] = [ids.length, ids[0].length, c.hiddenSize, c.numHeads, headSize(c), rotaryDims(c)];
  const p = (name: string) => params[name];
  const linear = (x: tf.Tensor, name: string) => tf.add(tf.matMul(x as tf.Tensor2D, p(`${name}.weight`) as tf.Tensor2D, false, true), p(`${name}.bias`)); // x Wᵀ + b
  const norm = (x: tf.Tensor, name: string) => {
    const { mean, variance } = tf.moments(x, -1, true);
    return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, c.layerNormEps))), p(`${name}.weight`)), p(`${name}.bias`));
  };
  const gelu = (x: tf.Tensor) => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.div(x, Math.SQRT2)))); // exact, as torch's "gelu"
  // Rotary on the first rd dims of each head: angle t·base^(−2i/rd), the halves rotated as rotate_half does.
  const inv = Array.from({ length: rd / 2 }, (_, i) => 1 / c.rotaryBase ** ((2 * i) / rd));
  const angles = tf.tensor2d(Array.from({ length: T }, (_, t) => [...inv, ...inv].map((f) => t * f)), [T, rd]); // (T, rd)
  const rotate = (x: tf.Tensor) => {
    const r = tf.slice(x, [0, 0, 0, 0], [-1, -1, -1, rd]);
    const half = tf.split(r, 2, 3);
    const turned = tf.concat([tf.neg(half[1]), half[0]], 3);
    return tf.concat([tf.add(tf.mul(r, tf.cos(angles)), tf.mul(turned, tf.sin(angles))), tf.slice(x, [0, 0, 0, rd], [-1, -1, -1, hs - rd])], 3);
  };
  const future = tf.tensor2d(Array.from({ length: T * T }, (_, i) => (i % T > Math.floor(i / T) ? -1e30 : 0)), [T, T]); // key after query: masked

  let x = tf.gather(p('gpt_neox.embed_in.weight'), tf.tensor1d(ids.flat(), 'int32')); // (B·T, C)
  for (let l = 0; l < c.numLayers; l++) {
    const at = `gpt_neox.layers.${l}`;
    const qkv = tf.reshape(linear(norm(x, `${at}.input_layernorm`), `${at}.attention.query_key_value`), [B, T, nH, 3 * hs]); // per head [q | k | v]
    const [q, k, v] = tf.split(qkv, 3, 3).map((t) => tf.transpose(t, [0, 2, 1, 3])); // (B, nH, T, hs) each
    const scores = tf.add(tf.div(tf.matMul(rotate(q), rotate(k), false, true), Math.sqrt(hs)), future); // (B, nH, T, T)
    const heads = tf.reshape(tf.transpose(tf.matMul(tf.softmax(scores), v), [0, 2, 1, 3]), [B * T, C]);
    const attn = linear(heads, `${at}.attention.dense`);
    const mlp = (h: tf.Tensor) => linear(gelu(linear(norm(h, `${at}.post_attention_layernorm`), `${at}.mlp.dense_h_to_4h`)), `${at}.mlp.dense_4h_to_h`);
    // Parallel residual (Pythia): both branches read the block's input. Sequential: the MLP reads x + attention.
    x = c.useParallelResidual ? tf.add(tf.add(x, attn), mlp(x)) : tf.add(tf.add(x, attn), mlp(tf.add(x, attn)));
  }
  const logits = tf.matMul(norm(x, 'gpt_neox.final_layer_norm') as tf.Tensor2D, p('embed_out.weight') as tf.Tensor2D, false, true); // (B·T, V)

  const rows: number[] = [];
  const targets: number[] = [];
  for (let b = 0; b < B; b++) {
    for (let t = 0; t + 1 < Math.min(lengths[b], T); t++) {
      rows.push(b * T + t); // position t predicts token t + 1
      targets.push(ids[b][t + 1]);
    }
  }
  const logProbs = tf.logSoftmax(tf.gather(logits, tf.tensor1d(rows, 'int32'))); // (M, V)
  return tf.neg(tf.mean(tf.sum(tf.mul(logProbs, tf.oneHot(tf.tensor1d(targets, 'int32'), c.vocabSize)), 1))) as tf.Scalar;
}
