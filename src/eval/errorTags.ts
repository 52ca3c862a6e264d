/**
 * Automatic error analysis: heuristic tags for one generated output against its prompt and target.
 * Tags are hints to sort and filter results, not verdicts, so every rule is a simple, explainable
 * threshold (named below) rather than a model.
 */
import { rougeTokens, tokenF1 } from './metrics';

export type ErrorTag = 'empty' | 'repetition' | 'too-long' | 'too-short' | 'echo' | 'no-stop' | 'off-topic';

export interface TagInput {
  prompt: string;
  output: string;
  target: string;
  stopReason: 'eos' | 'length' | 'stop' | 'cancelled';
  /** The refusal answers of the dataset's guardrail rows, if any. */
  guardrailAnswers?: string[];
}

/** Word n-gram size for repetition: 4 words rarely recur by chance in a short answer. */
export const REPEAT_NGRAM = 4;
/** An n-gram (or line) must occur at least this many times to count as a loop. */
export const REPEAT_MIN_COUNT = 3;
/** Lines shorter than this (after trimming) are ignored for line repetition: "}", "-", "" are normal. */
export const REPEAT_MIN_LINE_CHARS = 8;
/** too-long when output words > TOO_LONG_FACTOR × target words + TOO_LONG_SLACK. */
export const TOO_LONG_FACTOR = 2;
export const TOO_LONG_SLACK = 5;
/** too-short when output words < TOO_SHORT_FACTOR × target words … */
export const TOO_SHORT_FACTOR = 0.5;
/** … and only for targets of at least this many words: "Paris" for "The city of Paris" is fine. */
export const TOO_SHORT_MIN_TARGET_WORDS = 4;
/** echo needs a verbatim run of at least this many words copied from the prompt … */
export const ECHO_MIN_WORDS = 5;
/** … covering at least this fraction of the output's words. */
export const ECHO_MIN_OUTPUT_FRACTION = 0.5;
/** … while containing less than this fraction of the target's answer words. */
export const ECHO_MAX_ANSWER_RECALL = 0.5;
/** Token F1 at or above which an answer counts as "the same as" a guardrail answer. */
export const GUARDRAIL_F1 = 0.8;

/** Display order, also the order errorTags returns tags in. */
export const TAG_ORDER: readonly ErrorTag[] = ['empty', 'no-stop', 'repetition', 'echo', 'off-topic', 'too-long', 'too-short'];

export const TAG_LABELS: Record<ErrorTag, { label: string; description: string }> = {
  empty: { label: 'Empty', description: 'The output is blank (nothing but whitespace).' },
  repetition: {
    label: 'Repetition',
    description: `The output loops: a ${REPEAT_NGRAM}-word sequence or a line occurs ${REPEAT_MIN_COUNT}+ times, more often than in the target.`,
  },
  'too-long': {
    label: 'Too long',
    description: `The output has more than ${TOO_LONG_FACTOR}× the target's words plus ${TOO_LONG_SLACK}.`,
  },
  'too-short': {
    label: 'Too short',
    description: `The output has fewer than ${TOO_SHORT_FACTOR}× the target's words (targets of ${TOO_SHORT_MIN_TARGET_WORDS}+ words only).`,
  },
  echo: {
    label: 'Echoes prompt',
    description: `At least ${ECHO_MIN_OUTPUT_FRACTION * 100}% of the output (${ECHO_MIN_WORDS}+ words in a row) is copied verbatim from the prompt, and it lacks most of the target's answer words.`,
  },
  'no-stop': {
    label: 'Never stopped',
    description: 'Generation hit the token limit without producing end-of-sequence.',
  },
  'off-topic': {
    label: 'Wrongly refused',
    description: `The output is a guardrail refusal (token F1 ≥ ${GUARDRAIL_F1} with a guardrail answer) but the target is a real answer: the model treated an in-scope question as off-topic.`,
  },
};

/** Whitespace-separated words, the unit for the length rules (what a reader would count). */
function wordCount(s: string): number {
  return s.split(/\s+/u).filter((w) => w !== '').length;
}

/** Occurrence count of every n-gram of `tokens`; overlapping occurrences count, so a single word looping counts too. */
function ngramCounts(tokens: readonly string[], n: number): Map<string, number> {
  const m = new Map<string, number>();
  for (let i = 0; i + n <= tokens.length; i++) {
    const key = tokens.slice(i, i + n).join(' ');
    m.set(key, (m.get(key) ?? 0) + 1);
  }
  return m;
}

function lineCounts(s: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const raw of s.split(/\r?\n/u)) {
    const line = raw.trim().replace(/\s+/gu, ' ').toLowerCase();
    if (line.length < REPEAT_MIN_LINE_CHARS) continue;
    m.set(line, (m.get(line) ?? 0) + 1);
  }
  return m;
}

/** Some unit repeats ≥ REPEAT_MIN_COUNT times in the output and more often than in the target (so lyrics or refrains that the target itself repeats do not count). */
function repeatsBeyondTarget(out: Map<string, number>, target: Map<string, number>): boolean {
  for (const [key, n] of out) if (n >= REPEAT_MIN_COUNT && n > (target.get(key) ?? 0)) return true;
  return false;
}

/**
 * repetition: any REPEAT_NGRAM-word sequence (ROUGE tokens: lower-cased, punctuation ignored)
 * occurs REPEAT_MIN_COUNT+ times, or any line of REPEAT_MIN_LINE_CHARS+ characters does
 * (case- and spacing-insensitive); in both cases more often than in the target.
 */
function isRepetitive(output: string, target: string): boolean {
  const ngrams = repeatsBeyondTarget(
    ngramCounts(rougeTokens(output), REPEAT_NGRAM),
    ngramCounts(rougeTokens(target), REPEAT_NGRAM),
  );
  return ngrams || repeatsBeyondTarget(lineCounts(output), lineCounts(target));
}

/** Length of the longest contiguous run of tokens shared by `a` and `b` (longest common substring over words), O(n·m) with two rows. */
export function longestCommonRun(a: readonly string[], b: readonly string[]): number {
  let prev = new Array<number>(b.length + 1).fill(0);
  let cur = new Array<number>(b.length + 1).fill(0);
  let best = 0;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      cur[j] = a[i - 1] === b[j - 1] ? prev[j - 1] + 1 : 0;
      if (cur[j] > best) best = cur[j];
    }
    [prev, cur] = [cur, prev];
  }
  return best;
}

/**
 * The target's answer words: its distinct tokens that are not in the prompt ("paris" for
 * "The capital of France is Paris." after "What is the capital of France?"), or all of them
 * when the target is copied wholly from the prompt (extractive QA over a passage).
 */
function answerTokens(promptTokens: readonly string[], target: string): Set<string> {
  const inPrompt = new Set(promptTokens);
  const all = new Set(rougeTokens(target));
  const novel = new Set([...all].filter((t) => !inPrompt.has(t)));
  return novel.size > 0 ? novel : all;
}

/**
 * echo: the output is mostly a copy of the prompt and misses the answer. Precisely: the longest
 * verbatim word run shared by output and prompt is ≥ ECHO_MIN_WORDS and ≥ ECHO_MIN_OUTPUT_FRACTION
 * of the output's words, and the output contains < ECHO_MAX_ANSWER_RECALL of the target's answer
 * words ({@link answerTokens}). Measuring against the output, not a "question part", needs no
 * knowledge of the prompt template and is unaffected by long context passages; the answer check
 * keeps answers that restate the question ("Paris is the capital of France") or quote the right
 * passage sentence from being tagged.
 */
function isEcho(prompt: string, output: string, target: string): boolean {
  const out = rougeTokens(output);
  const promptTokens = rougeTokens(prompt);
  const run = longestCommonRun(out, promptTokens);
  if (run < ECHO_MIN_WORDS || run < ECHO_MIN_OUTPUT_FRACTION * out.length) return false;
  const answer = answerTokens(promptTokens, target);
  if (answer.size === 0) return true;
  const outSet = new Set(out);
  const found = [...answer].filter((t) => outSet.has(t)).length;
  return found / answer.size < ECHO_MAX_ANSWER_RECALL;
}

function matchesGuardrail(s: string, answers: readonly string[]): boolean {
  return answers.some((g) => tokenF1(s, g) >= GUARDRAIL_F1);
}

/**
 * Tags for one output, in TAG_ORDER. An empty output gets only 'empty' (and 'no-stop' if it
 * applies): every content rule is meaningless for it, and too-short would just repeat 'empty'.
 */
export function errorTags(x: TagInput): ErrorTag[] {
  const tags = new Set<ErrorTag>();
  const empty = x.output.trim() === '';
  if (empty) tags.add('empty');
  if (x.stopReason === 'length') tags.add('no-stop');
  if (!empty) {
    if (isRepetitive(x.output, x.target)) tags.add('repetition');
    if (isEcho(x.prompt, x.output, x.target)) tags.add('echo');
    const guard = x.guardrailAnswers ?? [];
    if (guard.length > 0 && matchesGuardrail(x.output, guard) && !matchesGuardrail(x.target, guard)) tags.add('off-topic');
    const outWords = wordCount(x.output);
    const targetWords = wordCount(x.target);
    if (outWords > TOO_LONG_FACTOR * targetWords + TOO_LONG_SLACK) tags.add('too-long');
    if (targetWords >= TOO_SHORT_MIN_TARGET_WORDS && outWords < TOO_SHORT_FACTOR * targetWords) tags.add('too-short');
  }
  return TAG_ORDER.filter((t) => tags.has(t));
}
