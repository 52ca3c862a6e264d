/**
 * Pure helpers for the data page's token displays: the token chips of one example (TokenView) and
 * the token-length histogram (LengthHistogram). Kept apart from the components so they can be
 * unit-tested without a DOM.
 */
import type { HistogramBin } from '../../data/stats';
import type { TokenView, ViewToken } from '../../protocol/dataProtocol';

export type TokenState = 'trained' | 'masked' | 'dropped';

// Whitespace would be invisible (or collapse) inside a chip; these stand-ins show where it is.
const VISIBLE: Record<string, string> = { ' ': '·', '\n': '↵', '\t': '→', '\r': '␍' };

/**
 * The token's text with whitespace made visible. A token that decodes to nothing (a special token
 * the decoder skips) or to U+FFFD (one byte of a multi-byte character) shows its vocabulary piece,
 * which at least tells the tokens apart.
 */
export function visibleText(text: string, piece: string): string {
  if (text === '' || text.includes('\uFFFD')) return piece;
  return text.replace(/[ \n\t\r]/g, (c) => VISIBLE[c]);
}

/** A newline token ends its line of chips, so the chips keep the text's line layout. */
export const breaksLine = (text: string): boolean => text.includes('\n');

export function tokenState(t: ViewToken): TokenState {
  if (!t.kept) return 'dropped';
  return t.loss ? 'trained' : 'masked';
}

export function summarize(view: TokenView): Record<TokenState, number> {
  const counts: Record<TokenState, number> = { trained: 0, masked: 0, dropped: 0 };
  for (const t of view.tokens) counts[tokenState(t)]++;
  counts.dropped += view.omitted;
  return counts;
}

export interface CutPosition {
  /** The marker goes before tokens[index] (index = tokens.length: after the last token). */
  index: number;
  /** Which side of the marker truncation drops: 'before' for left truncation, 'after' for right. */
  side: 'before' | 'after';
  count: number;
}

/** Where truncation cuts. The kept tokens are one contiguous run, so dropped ones lead or trail it. */
export function cutPosition(view: TokenView): CutPosition | null {
  const { tokens } = view;
  let lead = 0;
  while (lead < tokens.length && !tokens[lead].kept) lead++;
  // Dropped tokens not listed (view.omitted) lie beyond the listed ones, on the same side.
  if (lead > 0) return { index: lead, side: 'before', count: lead + view.omitted };
  let tail = tokens.length;
  while (tail > 0 && !tokens[tail - 1].kept) tail--;
  if (tail < tokens.length) return { index: tail, side: 'after', count: tokens.length - tail + view.omitted };
  return null;
}

/** "12–15" for the lengths 12 ≤ n < 16; a bin of one length is just "12". */
export const binLabel = (bin: HistogramBin): string =>
  bin.end - bin.start === 1 ? String(bin.start) : `${bin.start}–${bin.end - 1}`;

/** Some example in the bin may be longer than maxLength, so truncation may cut it. */
export const binOverflows = (bin: HistogramBin, maxLength: number): boolean => bin.end - 1 > maxLength;

/**
 * The bin to mark maxLength at on a categorical axis: the one holding it, or the first bin when
 * every example is longer; null when every example fits (no line is needed).
 */
export function maxLengthBin(bins: HistogramBin[], maxLength: number): HistogramBin | null {
  if (bins.length === 0 || !binOverflows(bins[bins.length - 1], maxLength)) return null;
  return bins.find((b) => b.end > maxLength) ?? null;
}
