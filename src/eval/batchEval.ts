/**
 * Batch evaluation of one model: for each example, the generated answer (as the playground would
 * give it) and the loss of the reference answer (as training measures it). Runs where the model
 * lives (the worker, the CLI); scoring the texts is src/eval/report.ts, which needs no tfjs.
 *
 * The caller owns the context: pass `transposed` weights (transposedWeights) for a frozen model to
 * save a transpose per weight per generated token, as the engine and the CLI do for the base
 * model; a trained context without them works too, only slower. Nothing here creates or keeps
 * tensors beyond one example.
 */
import * as tf from '@tensorflow/tfjs-core';
import { encodeSegments } from '../data/encode';
import type { Tokenizer } from '../data/tokenizer';
import type { Encoder, TokenizeSettings } from '../data/types';
import { generateText } from './generateText';
import type { ForwardContext } from '../model/forward';
import { batchLoss } from '../model/objective';
import type { EvalExample, EvalOutput, EvalSampling } from './evalTypes';

export { DEFAULT_EVAL_SAMPLING, type EvalExample, type EvalOutput, type EvalSampling } from './evalTypes';

export interface EvalOptions {
  sampling: EvalSampling;
  /** The training run's settings, so the target loss is the one its eval loss averages. */
  tokenize: TokenizeSettings;
  signal?: AbortSignal;
  /** Called after each example, in order, so a table can fill in while the rest runs. */
  onRow?: (index: number, out: EvalOutput) => void;
}

const cancelled = () => new DOMException('cancelled', 'AbortError');

/**
 * Loss of the target after the prompt, tokenized as training does (prompt and target encoded
 * separately, EOS appended per the settings, truncated to maxLength) and averaged by the training
 * objective itself over the label mask: one full forward, no KV cache.
 */
export async function targetLoss(ctx: ForwardContext, enc: Encoder, ex: EvalExample, tokenize: TokenizeSettings): Promise<{ loss: number | null; tokens: number }> {
  const e = encodeSegments(
    [
      { text: ex.prompt, train: false },
      { text: ex.target, train: true },
    ],
    enc,
    tokenize,
  );
  const tokens = e.loss.reduce((n, x) => n + x, 0);
  if (tokens === 0) return { loss: null, tokens: 0 };
  const T = e.ids.length;
  const loss = tf.tidy(() => batchLoss(ctx, { ids: Int32Array.from(e.ids), B: 1, T, lengths: [T], labelMask: e.loss }));
  const value = (await loss.data())[0]; // GPU→CPU sync point, once per example
  loss.dispose();
  return { loss: value, tokens };
}

/**
 * Generate an answer for every example (KV-cached decoding, the playground's path, so the texts
 * match what a person sees there) and measure its target loss. One example at a time: prompts
 * differ in length, and batching them would need padding the decoder does not support.
 * Throws an AbortError when the signal aborts, between examples or during a generation.
 */
export async function evaluateExamples(ctx: ForwardContext, tokenizer: Tokenizer, examples: EvalExample[], opts: EvalOptions): Promise<EvalOutput[]> {
  const outputs: EvalOutput[] = [];
  for (let i = 0; i < examples.length; i++) {
    if (opts.signal?.aborted) throw cancelled();
    const ex = examples[i];
    let out: EvalOutput;
    try {
      const gen = await generateText(ctx, tokenizer, { ...opts.sampling, prompt: ex.prompt, useCache: true }, { signal: opts.signal });
      if (gen.reason === 'cancelled') throw cancelled();
      const { loss, tokens } = await targetLoss(ctx, tokenizer, ex, opts.tokenize);
      out = { text: gen.text, reason: gen.reason, newTokens: gen.tokenIds.length, ms: gen.ms, targetLoss: loss, targetTokens: tokens };
    } catch (e) {
      if ((e as Error).name === 'AbortError') throw e;
      // Which row failed (an empty or over-long prompt) is what the user needs to fix it.
      throw new Error(`example ${ex.id}: ${(e as Error).message}`, { cause: e });
    }
    outputs.push(out);
    opts.onRow?.(i, out);
  }
  return outputs;
}
