/**
 * Text in, text out: tokenize the prompt, decode with the model, stream the new text.
 * Shared by the worker engine and the command line so both give the same tokens.
 */
import type { Tokenizer } from '../data/tokenizer';
import { generate } from '../model/generate';
import type { ForwardContext } from '../model/forward';
import type { StopReason } from '../model/generate';
import { TextStream } from './textStream';

/** One generation's prompt and sampling (the engine's GenerateParams adds which model answers). */
export interface TextGeneration {
  prompt: string;
  maxNewTokens: number;
  temperature: number;
  topK: number;
  topP: number;
  repetitionPenalty: number;
  seed: number;
  stopStrings: string[];
  useCache: boolean;
}

export interface GenerateResult {
  text: string;
  tokenIds: number[];
  reason: StopReason;
  promptTokens: number;
  ms: number;
  tokensPerSecond: number;
}

export const DEFAULT_GENERATE: TextGeneration = {
  prompt: '',
  maxNewTokens: 64,
  temperature: 0, // greedy: the same answer every time, the fairest way to compare models
  topK: 0,
  topP: 1,
  repetitionPenalty: 1,
  seed: 0,
  stopStrings: [],
  useCache: true,
};

function validate(p: TextGeneration, maxPositions: number): void {
  const bad = (what: string) => {
    throw new Error(what);
  };
  if (!Number.isInteger(p.maxNewTokens) || p.maxNewTokens < 1) bad(`max new tokens must be a whole number ≥ 1, got ${p.maxNewTokens}`);
  if (p.maxNewTokens > maxPositions) bad(`max new tokens (${p.maxNewTokens}) exceeds the model's ${maxPositions} positions`);
  if (!(p.temperature >= 0)) bad(`temperature must be ≥ 0 (0 = greedy), got ${p.temperature}`);
  if (!Number.isInteger(p.topK) || p.topK < 0) bad(`top-k must be a whole number ≥ 0 (0 = off), got ${p.topK}`);
  if (!(p.topP > 0 && p.topP <= 1)) bad(`top-p must be in (0, 1] (1 = off), got ${p.topP}`);
  if (!(p.repetitionPenalty > 0)) bad(`repetition penalty must be > 0 (1 = off), got ${p.repetitionPenalty}`);
}

export async function generateText(
  ctx: ForwardContext,
  tokenizer: Tokenizer,
  p: TextGeneration,
  hooks: { onDelta?: (delta: string, tokenCount: number) => void; signal?: AbortSignal } = {},
): Promise<GenerateResult> {
  validate(p, ctx.config.maxPositions);
  const typed = tokenizer.encode(p.prompt);
  // The BOS a tokenizer puts before every text (Llama 2's <s>), as training saw it.
  const prompt = tokenizer.bosTokenId !== null && typed.length > 0 && typed[0] !== tokenizer.bosTokenId ? [tokenizer.bosTokenId, ...typed] : typed;
  if (prompt.length === 0) throw new Error('the prompt is empty: type some text for the model to continue');
  const room = ctx.config.maxPositions - prompt.length;
  if (room < 1) throw new Error(`the prompt is ${prompt.length} tokens, the model's limit is ${ctx.config.maxPositions}: shorten it`);
  const stream = new TextStream((ids) => tokenizer.decode(ids), p.stopStrings.filter((s) => s.length > 0));
  const t0 = performance.now();
  const { ids, reason } = await generate(
    ctx,
    prompt,
    { ...p, maxNewTokens: Math.min(p.maxNewTokens, room), eosTokenIds: tokenizer.stopTokenIds },
    {
      signal: hooks.signal,
      onToken: (_id, all) => {
        const delta = stream.push(all);
        if (delta) hooks.onDelta?.(delta, all.length);
        return stream.stopped;
      },
    },
  );
  const ms = performance.now() - t0;
  const rest = stream.flush();
  if (rest) hooks.onDelta?.(rest, ids.length);
  return { text: stream.text, tokenIds: ids, reason, promptTokens: prompt.length, ms, tokensPerSecond: ids.length / (ms / 1000) };
}
