/**
 * Autoregressive decoding with a KV cache: one prefill over the prompt, then one token per step.
 * Only the last position's logits (V floats) are read back each step.
 */
import * as tf from '@tensorflow/tfjs-core';
import { hiddenStates, lmHead, type ForwardContext, type KVCache } from './forward';
import { mulberry32 } from './random';
import { sampleNext, type SamplingOptions } from './sampling';

export interface GenerateOptions extends SamplingOptions {
  maxNewTokens: number;
  seed: number;
  eosTokenIds: readonly number[]; // the ids that end generation (end-of-sequence and end-of-turn tokens); [] never stops
  useCache: boolean; // false recomputes the whole sequence each step (benchmarks, checks)
}

export type StopReason = 'eos' | 'length' | 'stop' | 'cancelled';

export interface GenerateCallbacks {
  /** Called with each new id; return true to stop (e.g. a stop string was produced). */
  onToken?: (id: number, all: number[]) => boolean | void;
  signal?: AbortSignal;
}

function emptyCache(layers: number): KVCache {
  return { k: new Array(layers), v: new Array(layers), length: 0 };
}

function disposeCache(c: KVCache): void {
  for (const t of [...c.k, ...c.v]) t?.dispose();
}

/**
 * Logits of the last position after feeding `ids` (continuing `cache` if given).
 * The cache's tensors are swapped for the extended ones; the old ones are freed.
 */
function stepLogits(ctx: ForwardContext, ids: number[], cache: KVCache | null): tf.Tensor1D {
  const old = cache ? { k: [...cache.k], v: [...cache.v] } : null;
  const out = tf.tidy(() => {
    const h = hiddenStates(ctx, tf.tensor2d(Int32Array.from(ids), [1, ids.length], 'int32'), cache ?? undefined); // (T, C)
    const last = tf.slice(h, [ids.length - 1, 0], [1, -1]); // (1, C)
    const logits = tf.reshape(lmHead(ctx, last), [-1]) as tf.Tensor1D; // (V,)
    return { logits, k: cache ? cache.k : [], v: cache ? cache.v : [] };
  });
  if (cache && old) {
    // The extended k/v are kept by tidy (returned); drop the previous ones.
    for (let i = 0; i < old.k.length; i++) {
      if (old.k[i] && old.k[i] !== cache.k[i]) old.k[i].dispose();
      if (old.v[i] && old.v[i] !== cache.v[i]) old.v[i].dispose();
    }
  }
  return out.logits;
}

export async function generate(
  ctx: ForwardContext,
  prompt: number[],
  o: GenerateOptions,
  cb: GenerateCallbacks = {},
): Promise<{ ids: number[]; reason: StopReason }> {
  if (prompt.length === 0) throw new Error('the prompt is empty: type something to continue');
  const uniform = mulberry32(o.seed);
  const all = [...prompt];
  const ids: number[] = [];
  const cache = o.useCache ? emptyCache(ctx.config.numLayers) : null;
  let reason: StopReason = 'length';
  try {
    let feed = prompt;
    while (ids.length < o.maxNewTokens) {
      if (cb.signal?.aborted) {
        reason = 'cancelled';
        break;
      }
      const logitsT = stepLogits(ctx, cache ? feed : all, cache);
      const logits = (await logitsT.data()) as Float32Array; // GPU→CPU sync point, once per token
      logitsT.dispose();
      const next = sampleNext(logits, all, o, uniform);
      if (o.eosTokenIds.includes(next)) {
        reason = 'eos';
        break;
      }
      ids.push(next);
      all.push(next);
      feed = [next];
      if (cb.onToken?.(next, ids) === true) {
        reason = 'stop';
        break;
      }
    }
  } finally {
    if (cache) disposeCache(cache);
  }
  return { ids, reason };
}
