/**
 * Batch evaluation results as scores and files: per-row metrics and tags, a per-model summary, and
 * the CSV / JSONL downloads. Pure (no tfjs), so the UI table and the CLI share it.
 */
import Papa from 'papaparse';
import type { Segment } from '../data/types';
import type { EvalExample, EvalOutput } from './evalTypes';
import { errorTags, TAG_ORDER, type ErrorTag } from './errorTags';
import { exactMatch, normalizeWhitespace, rougeL, tokenF1 } from './metrics';

/**
 * A rendered example as prompt and target: the target is the last trained segment and the prompt
 * everything before it, so a conversation is judged on its final reply with the earlier turns as
 * context (for single-turn templates: the prompt and the answer). Null when either is empty, as
 * for plain-text data, which has no prompt to answer.
 */
export function evalExampleOf(id: string, segments: readonly Segment[]): EvalExample | null {
  const last = segments.findLastIndex((s) => s.train);
  if (last < 0) return null;
  const prompt = segments
    .slice(0, last)
    .map((s) => s.text)
    .join('');
  const target = segments[last].text;
  return prompt === '' || target === '' ? null : { id, prompt, target };
}

export interface RowScores {
  /** Whitespace-normalised exact match, 0 or 1. */
  exact: number;
  f1: number;
  rougeL: number;
  tags: ErrorTag[];
}

export function scoreRow(example: EvalExample, out: Pick<EvalOutput, 'text' | 'reason'>, guardrailAnswers: readonly string[]): RowScores {
  return {
    exact: exactMatch(out.text, example.target),
    f1: tokenF1(out.text, example.target),
    rougeL: rougeL(out.text, example.target),
    tags: errorTags({ prompt: example.prompt, output: out.text, target: example.target, stopReason: out.reason, guardrailAnswers: [...guardrailAnswers] }),
  };
}

export interface ModelSummary {
  n: number;
  exactMatch: number;
  tokenF1: number;
  rougeL: number;
  /** Target loss averaged over every trained token (not per example), as the training eval loss is. */
  evalLoss: number | null;
  perplexity: number | null;
  /** Generated tokens over generation time, all examples together. */
  tokensPerSecond: number;
  /** Examples carrying each tag (every tag present, 0 when unused). */
  tagCounts: Record<ErrorTag, number>;
}

/**
 * Token-weighted mean of the target losses: Σ loss·tokens / Σ tokens, so a long answer weighs as
 * much as its tokens do and the result equals the training eval loss over the same examples.
 * Null when no example has a trained token.
 */
export function meanTargetLoss(outputs: readonly Pick<EvalOutput, 'targetLoss' | 'targetTokens'>[]): number | null {
  let total = 0;
  let tokens = 0;
  for (const o of outputs) {
    if (o.targetLoss === null) continue;
    total += o.targetLoss * o.targetTokens;
    tokens += o.targetTokens;
  }
  return tokens === 0 ? null : total / tokens;
}

function checkAligned(examples: readonly EvalExample[], outputs: readonly unknown[], model?: string): void {
  if (outputs.length !== examples.length) {
    throw new Error(`${model === undefined ? 'the' : `model "${model}":`} ${outputs.length} outputs for ${examples.length} examples: evaluate every example before scoring`);
  }
}

/** A summary over the examples a model has answered so far (outputs[i] null: not yet); null before the first answer. */
export function summarizeAnswered(examples: EvalExample[], outputs: readonly (EvalOutput | null | undefined)[], guardrailAnswers: readonly string[]): ModelSummary | null {
  const done = examples.flatMap((ex, i) => (outputs[i] ? [{ ex, out: outputs[i] }] : []));
  return done.length ? summarize(done.map((d) => d.ex), done.map((d) => d.out), guardrailAnswers) : null;
}

export function summarize(examples: EvalExample[], outputs: EvalOutput[], guardrailAnswers: readonly string[]): ModelSummary {
  checkAligned(examples, outputs);
  const tagCounts = Object.fromEntries(TAG_ORDER.map((t) => [t, 0])) as Record<ErrorTag, number>;
  let exact = 0;
  let f1 = 0;
  let rl = 0;
  let newTokens = 0;
  let ms = 0;
  examples.forEach((ex, i) => {
    const s = scoreRow(ex, outputs[i], guardrailAnswers);
    exact += s.exact;
    f1 += s.f1;
    rl += s.rougeL;
    for (const t of s.tags) tagCounts[t]++;
    newTokens += outputs[i].newTokens;
    ms += outputs[i].ms;
  });
  const n = examples.length;
  const mean = (x: number) => (n === 0 ? 0 : x / n);
  const evalLoss = meanTargetLoss(outputs);
  return {
    n,
    exactMatch: mean(exact),
    tokenF1: mean(f1),
    rougeL: mean(rl),
    evalLoss,
    perplexity: evalLoss === null ? null : Math.exp(evalLoss),
    tokensPerSecond: ms > 0 ? newTokens / (ms / 1000) : 0,
    tagCounts,
  };
}

/** How often an answer must recur verbatim to count as a canned guardrail answer. */
export const GUARDRAIL_MIN_COUNT = 3;
/**
 * Longest canned answer, in words, taken for a refusal. Refusals are a sentence or two; longer
 * answers that recur are FAQ duplicates. In the course's Lamini data, 11 answers recur 3+ times:
 * the 8 of at most 22 words are refusals, greetings and "not available yet" replies, the 3 of 28
 * to 42 words are product facts, which an output repeating would wrongly count as a refusal.
 */
export const GUARDRAIL_MAX_WORDS = 25;

/**
 * The canned replies a dataset trains for out-of-scope questions ("Let's keep the discussion
 * relevant to Lamini."): targets that occur at least `minCount` times, identical after whitespace
 * normalisation, of at most GUARDRAIL_MAX_WORDS words. Most frequent first (ties: first seen),
 * normalised. errorTags uses them for 'off-topic' (a real question answered with a refusal).
 */
export function guardrailAnswersOf(targets: readonly string[], minCount = GUARDRAIL_MIN_COUNT): string[] {
  const counts = new Map<string, number>();
  for (const t of targets) {
    const n = normalizeWhitespace(t);
    if (n !== '') counts.set(n, (counts.get(n) ?? 0) + 1);
  }
  return [...counts]
    .filter(([answer, c]) => c >= minCount && answer.split(' ').length <= GUARDRAIL_MAX_WORDS)
    .sort((a, b) => b[1] - a[1]) // stable: equal counts keep first-seen order
    .map(([answer]) => answer);
}

/** Ratings are keyed by example id; guardrail answers default to the examples' own canned targets. */
function reportRows(
  examples: EvalExample[],
  outputsByModel: Record<string, EvalOutput[]>,
  ratings: Record<string, string>,
  guardrailAnswers: readonly string[] | undefined,
) {
  const guard = guardrailAnswers ?? guardrailAnswersOf(examples.map((e) => e.target));
  const models = Object.keys(outputsByModel);
  for (const m of models) checkAligned(examples, outputsByModel[m], m);
  return {
    models,
    rows: examples.map((ex, i) => ({
      ex,
      rating: ratings[ex.id] ?? null,
      byModel: models.map((m) => {
        const out = outputsByModel[m][i];
        return { model: m, out, scores: scoreRow(ex, out, guard) };
      }),
    })),
  };
}

/**
 * One row per example for a spreadsheet: id, prompt, target, then for each model its output,
 * exact, f1, rougeL, tags (space-separated) and stop reason, then the person's rating ('' if none).
 * Fields are quoted where they hold commas, quotes or newlines, so texts survive a round trip.
 */
export function reportCsv(
  examples: EvalExample[],
  outputsByModel: Record<string, EvalOutput[]>,
  ratings: Record<string, string> = {},
  guardrailAnswers?: readonly string[],
): string {
  const { models, rows } = reportRows(examples, outputsByModel, ratings, guardrailAnswers);
  const fields = ['id', 'prompt', 'target', ...models.flatMap((m) => ['output', 'exact', 'f1', 'rougeL', 'tags', 'stop'].map((c) => `${m} ${c}`)), 'rating'];
  const data = rows.map((r) => [
    r.ex.id,
    r.ex.prompt,
    r.ex.target,
    ...r.byModel.flatMap(({ out, scores }) => [out.text, scores.exact, scores.f1, scores.rougeL, scores.tags.join(' '), out.reason]),
    r.rating ?? '',
  ]);
  // A cell starting with = + - @ tab or CR would run as a formula in a spreadsheet (model output
  // is untrusted text): prefix it with ' as OWASP advises. Papa's own escapeFormulae pattern
  // misses multi-line cells, hence the pattern here.
  return Papa.unparse({ fields, data }, { escapeFormulae: /^[=+\-@\t\r]/ });
}

/**
 * One JSON object per line and example: {id, prompt, target, models: {<model>: {output, exact, f1,
 * rouge_l, tags, stop, new_tokens, ms, target_loss, target_tokens}}, rating (null if none)}.
 */
export function reportJsonl(
  examples: EvalExample[],
  outputsByModel: Record<string, EvalOutput[]>,
  ratings: Record<string, string> = {},
  guardrailAnswers?: readonly string[],
): string {
  const { rows } = reportRows(examples, outputsByModel, ratings, guardrailAnswers);
  return rows
    .map((r) => {
      const models = Object.fromEntries(
        r.byModel.map(({ model, out, scores }) => [
          model,
          {
            output: out.text,
            exact: scores.exact,
            f1: scores.f1,
            rouge_l: scores.rougeL,
            tags: scores.tags,
            stop: out.reason,
            new_tokens: out.newTokens,
            ms: out.ms,
            target_loss: out.targetLoss,
            target_tokens: out.targetTokens,
          },
        ]),
      );
      return `${JSON.stringify({ id: r.ex.id, prompt: r.ex.prompt, target: r.ex.target, models, rating: r.rating })}\n`;
    })
    .join('');
}
