/**
 * Reference-based text metrics for batch evaluation: exact match, SQuAD token F1 and ROUGE-L.
 * Pure string code (no tfjs) so it runs in the worker, the CLI and tests alike.
 */

/** Articles dropped by SQuAD's normalisation; matched as whole tokens. */
const ARTICLES = new Set(['a', 'an', 'the']);

/**
 * Punctuation and symbols. SQuAD removes Python's `string.punctuation` (ASCII only, which mixes
 * Unicode categories P and S: `!"#$%&'()*+,-./:;<=>?@[\]^_\`{|}~`); taking the whole of both
 * Unicode categories gives the same result on ASCII and also strips « », ” , 。 and friends.
 */
const PUNCT_RE = /[\p{P}\p{S}]/gu;

/**
 * SQuAD-style answer normalisation (the official v1.1/v2.0 eval script's `normalize_answer`):
 * lower-case, remove punctuation, remove the articles a/an/the, collapse whitespace.
 *
 * SQuAD removes articles with the regex `\b(a|an|the)\b` before splitting on whitespace; once
 * punctuation is gone, tokens are runs of word characters, so dropping whole tokens is the same
 * thing, and it avoids JavaScript's ASCII-only `\b` misbehaving next to accented letters.
 */
export function normalizeAnswer(s: string): string {
  const noPunct = s.toLowerCase().replace(PUNCT_RE, '');
  return noPunct
    .split(/\s+/u)
    .filter((t) => t !== '' && !ARTICLES.has(t))
    .join(' ');
}

/** Trim and collapse whitespace runs to one space: the "whitespace-normalised" comparison. */
export function normalizeWhitespace(s: string): string {
  return s.trim().replace(/\s+/gu, ' ');
}

/**
 * 1 when prediction and target are equal after normalisation, else 0 (a number so it averages).
 * 'whitespace' (default) is strict apart from spacing, so "Paris." ≠ "paris";
 * 'squad' uses {@link normalizeAnswer}, the lenient SQuAD convention.
 */
export function exactMatch(pred: string, target: string, mode: 'whitespace' | 'squad' = 'whitespace'): number {
  const norm = mode === 'squad' ? normalizeAnswer : normalizeWhitespace;
  return norm(pred) === norm(target) ? 1 : 0;
}

function counts(tokens: string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const t of tokens) m.set(t, (m.get(t) ?? 0) + 1);
  return m;
}

/** Harmonic mean of precision and recall, 0 when both are 0. */
function f1Of(precision: number, recall: number): number {
  return precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
}

/**
 * SQuAD token F1: tokens are {@link normalizeAnswer} split on spaces; the overlap is the
 * multiset (Counter) intersection, so a token repeated in the prediction only counts as often
 * as it appears in the target. If either side has no tokens the score is 1 when both are empty
 * and 0 otherwise, as in the official script.
 */
export function tokenF1(pred: string, target: string): number {
  const p = normalizeAnswer(pred).split(' ').filter((t) => t !== '');
  const g = normalizeAnswer(target).split(' ').filter((t) => t !== '');
  if (p.length === 0 || g.length === 0) return p.length === g.length ? 1 : 0;
  const gc = counts(g);
  let same = 0;
  for (const [tok, n] of counts(p)) same += Math.min(n, gc.get(tok) ?? 0);
  if (same === 0) return 0;
  return f1Of(same / p.length, same / g.length);
}

/**
 * ROUGE tokeniser: lower-case, every run of non-alphanumerics is a separator. The `rouge_score`
 * package's default keeps only [a-z0-9], which would turn "café" into "caf" and Cyrillic or CJK
 * text into nothing; letters and digits of any script give identical tokens on ASCII text and
 * keep non-English answers scorable.
 */
export function rougeTokens(s: string): string[] {
  return s
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((t) => t !== '');
}

/** Length of the longest common subsequence, by dynamic programming with two rows: O(n·m) time, O(m) memory. */
export function lcsLength(a: readonly string[], b: readonly string[]): number {
  let prev = new Array<number>(b.length + 1).fill(0);
  let cur = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      cur[j] = a[i - 1] === b[j - 1] ? prev[j - 1] + 1 : Math.max(prev[j], cur[j - 1]);
    }
    [prev, cur] = [cur, prev];
  }
  return prev[b.length];
}

/**
 * ROUGE-L F-measure with β = 1: F1 of LCS precision (LCS / prediction tokens) and recall
 * (LCS / target tokens), over {@link rougeTokens}. Like `rouge_score`, 0 when either side has no tokens.
 */
export function rougeL(pred: string, target: string): number {
  const p = rougeTokens(pred);
  const g = rougeTokens(target);
  if (p.length === 0 || g.length === 0) return 0;
  const lcs = lcsLength(p, g);
  return f1Of(lcs / p.length, lcs / g.length);
}

export interface MeanMetrics {
  /** Whitespace-normalised exact match rate. */
  exactMatch: number;
  f1: number;
  rougeL: number;
  /** Rows averaged; 0 means the other fields are 0 by convention, not measured. */
  n: number;
}

/** Mean of each metric over the rows (exact match in 'whitespace' mode, the definition). */
export function meanMetrics(rows: readonly { pred: string; target: string }[]): MeanMetrics {
  const n = rows.length;
  if (n === 0) return { exactMatch: 0, f1: 0, rougeL: 0, n: 0 };
  let em = 0;
  let f1 = 0;
  let rl = 0;
  for (const { pred, target } of rows) {
    em += exactMatch(pred, target);
    f1 += tokenF1(pred, target);
    rl += rougeL(pred, target);
  }
  return { exactMatch: em / n, f1: f1 / n, rougeL: rl / n, n };
}
