/**
 * ARC (AI2 Reasoning Challenge) multiple choice, scored by log-likelihood the way
 * lm-evaluation-harness scores its `arc_easy` / `arc_challenge` tasks:
 *
 *   context       `Question: {question}\nAnswer:`
 *   continuation  ` {choice}` (target delimiter " " + the choice text)
 *   score         sum of log p(continuation token | everything before it)
 *   acc           argmax of the scores == gold
 *   acc_norm      argmax of score / len(choice) == gold, where len is the raw choice text's length in
 *                 characters without the delimiter (lm-eval's process_results: `len(i) for i in choices`,
 *                 choices = doc_to_choice(doc)); characters are Unicode code points, as Python's len counts.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Tokenizer } from '../data/tokenizer';
import { hiddenStates, lmHead, type ForwardContext } from '../model/forward';
import { arcContext, arcGold, type ArcDoc } from './arcDocs';

export { parseArc, arcContext, arcGold, type ArcDoc } from './arcDocs';

export interface ArcDocResult {
  id: string;
  /** Sum of the continuation's log-probabilities, per choice. */
  scores: number[];
  pred: number;
  predNorm: number;
  gold: number;
}

export interface ArcResult {
  acc: number;
  acc_norm: number;
  n: number;
  perDoc: ArcDocResult[];
}

export interface ArcOptions {
  /** Score only the first `limit` docs (lm-eval's --limit). */
  limit?: number;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

type EncodeOnly = Pick<Tokenizer, 'encode'>;

/**
 * lm-eval's `_encode_pair`: trailing whitespace of the context moves to the start of the
 * continuation, the pair is encoded as one string, and the continuation is what follows the
 * context's own encoding (so a merge across the boundary is charged to the continuation).
 */
export function encodePair(tok: EncodeOnly, context: string, continuation: string): { context: number[]; continuation: number[] } {
  const trailing = context.length - context.trimEnd().length;
  if (trailing > 0) {
    continuation = context.slice(context.length - trailing) + continuation;
    context = context.slice(0, context.length - trailing);
  }
  const whole = tok.encode(context + continuation);
  const contextIds = tok.encode(context);
  return { context: contextIds, continuation: whole.slice(contextIds.length) };
}

/**
 * Sum of log-probabilities of each continuation after the context, one forward per choice.
 * As lm-eval, the last token is never fed (nothing is predicted from it), and a sequence longer
 * than the model's positions keeps its last maxPositions + 1 tokens (the context loses its start).
 */
export async function scoreIds(ctx: ForwardContext, contextIds: number[], continuations: number[][]): Promise<number[]> {
  if (contextIds.length === 0) throw new Error('the context encodes to no tokens: give a non-empty context');
  const P = ctx.config.maxPositions;
  const V = ctx.config.vocabSize;
  const scores: number[] = [];
  for (const cont of continuations) {
    if (cont.length === 0) throw new Error('a continuation encodes to no tokens');
    if (cont.length > P) throw new Error(`a continuation of ${cont.length} tokens is longer than the model's ${P} positions`);
    const whole = [...contextIds, ...cont].slice(-(P + 1));
    const bad = whole.find((id) => id < 0 || id >= V);
    if (bad !== undefined) throw new Error(`token id ${bad} is outside the model's vocabulary of ${V}`);
    const input = whole.slice(0, -1);
    const T = input.length;
    const n = cont.length;
    const logp = tf.tidy(() => {
      const h = hiddenStates(ctx, tf.tensor2d(input, [1, T], 'int32')); // (T, C)
      const rows = tf.slice(h, [T - n, 0], [n, -1]); // (n, C): the positions that predict the continuation
      const lp = tf.logSoftmax(lmHead(ctx, rows)); // (n, V), max-subtracted in float32
      const flat = tf.reshape(lp, [n * V]); // (n·V)
      const at = tf.tensor1d(cont.map((id, r) => r * V + id), 'int32'); // (n): row r's target
      return tf.gather(flat, at); // (n)
    });
    const values = (await logp.data()) as Float32Array;
    logp.dispose();
    // Summed in float64 on the host so n terms add no extra float32 round-off.
    scores.push(values.reduce((s, x) => s + x, 0));
  }
  return scores;
}

/** Sum of log-probabilities of each choice of one doc. */
export async function scoreChoices(ctx: ForwardContext, tok: EncodeOnly, doc: ArcDoc): Promise<number[]> {
  const context = arcContext(doc);
  const pairs = doc.choices.text.map((choice) => encodePair(tok, context, ` ${choice}`));
  // The context's encoding is the same for every choice (encodePair strips the same whitespace each time).
  return scoreIds(ctx, pairs[0].context, pairs.map((p) => p.continuation));
}

/** First index of the largest value (numpy's argmax: ties go to the earliest). */
export function argmax(xs: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i] > xs[best]) best = i;
  return best;
}

/** pred and predNorm from one doc's scores (see the file comment for acc_norm's length). */
export function predictions(scores: readonly number[], choices: readonly string[]): { pred: number; predNorm: number } {
  return { pred: argmax(scores), predNorm: argmax(scores.map((s, i) => s / [...choices[i]].length)) };
}

export async function evaluateArc(ctx: ForwardContext, tok: EncodeOnly, docs: ArcDoc[], opts: ArcOptions = {}): Promise<ArcResult> {
  const todo = opts.limit === undefined ? docs : docs.slice(0, Math.max(0, opts.limit));
  if (todo.length === 0) throw new Error('no ARC docs to score');
  const perDoc: ArcDocResult[] = [];
  for (const doc of todo) {
    opts.signal?.throwIfAborted();
    const scores = await scoreChoices(ctx, tok, doc);
    perDoc.push({ id: doc.id, scores, ...predictions(scores, doc.choices.text), gold: arcGold(doc) });
    opts.onProgress?.(perDoc.length, todo.length);
  }
  const mean = (f: (r: ArcDocResult) => boolean) => perDoc.filter(f).length / perDoc.length;
  return { acc: mean((r) => r.pred === r.gold), acc_norm: mean((r) => r.predNorm === r.gold), n: perDoc.length, perDoc };
}
