import { describe, expect, it } from 'vitest';
import type { HistogramBin } from '../../data/stats';
import type { TokenView, ViewToken } from '../../protocol/dataProtocol';
import { binLabel, binOverflows, breaksLine, cutPosition, maxLengthBin, summarize, tokenState, visibleText } from './tokenDisplay';

/** A token from a compact spec: t(text, { loss, kept, special }). */
function t(text: string, flags: Partial<Pick<ViewToken, 'loss' | 'kept' | 'special'>> = {}, piece = text): ViewToken {
  return { id: text.length, text, piece, special: false, loss: false, kept: true, ...flags };
}

function view(tokens: ViewToken[], omitted = 0): TokenView {
  return { tokens, omitted, fullLength: tokens.length + omitted, truncated: tokens.filter((x) => !x.kept).length + omitted };
}

const EOS = t('', { special: true, loss: true }, '<|endoftext|>');

describe('visibleText', () => {
  it('shows spaces, tabs and carriage returns', () => {
    expect(visibleText(' the', 'Ġthe')).toBe('·the');
    expect(visibleText('\tx  y', '')).toBe('→x··y');
    expect(visibleText('\r\n', 'čĊ')).toBe('␍↵');
  });

  it('shows newlines, and a newline token breaks the line', () => {
    expect(visibleText('\n\n', 'ĊĊ')).toBe('↵↵');
    expect(breaksLine('\n')).toBe(true);
    expect(breaksLine(' \n  ')).toBe(true);
    expect(breaksLine('↵')).toBe(false);
    expect(breaksLine(' word')).toBe(false);
  });

  it('falls back to the piece for empty or undecodable text', () => {
    expect(visibleText('', '<|endoftext|>')).toBe('<|endoftext|>');
    expect(visibleText('\uFFFD', 'âĢ')).toBe('âĢ');
  });

  it('leaves plain text alone', () => {
    expect(visibleText('Hello', 'Hello')).toBe('Hello');
  });
});

describe('tokenState and summarize', () => {
  it('tells trained, masked and dropped tokens apart', () => {
    expect(tokenState(t('a', { loss: true }))).toBe('trained');
    expect(tokenState(t('a'))).toBe('masked');
    expect(tokenState(t('a', { kept: false }))).toBe('dropped');
    expect(tokenState(EOS)).toBe('trained');
  });

  it('counts each state', () => {
    const v = view([t('a', { kept: false }), t('b'), t('c'), t('d', { loss: true }), EOS]);
    expect(summarize(v)).toEqual({ trained: 2, masked: 2, dropped: 1 });
    expect(summarize(view([]))).toEqual({ trained: 0, masked: 0, dropped: 0 });
  });

  it('counts special tokens by their state too', () => {
    const specials = view([t('', { special: true }, '<|im_start|>'), EOS, t('', { special: true, kept: false }, '<|im_end|>')]);
    expect(summarize(specials)).toEqual({ trained: 1, masked: 1, dropped: 1 });
  });
});

describe('tokens left out of a long view', () => {
  it('count with the dropped ones, on the side of the cut', () => {
    const left = view([t('a', { kept: false }), t('b'), t('c', { loss: true })], 500);
    expect(cutPosition(left)).toEqual({ index: 1, side: 'before', count: 501 });
    expect(summarize(left)).toEqual({ trained: 1, masked: 1, dropped: 501 });
    const right = view([t('a'), t('b', { kept: false })], 9);
    expect(cutPosition(right)).toEqual({ index: 1, side: 'after', count: 10 });
  });
});

describe('cutPosition', () => {
  it('is null when nothing is cut', () => {
    expect(cutPosition(view([t('a'), t('b', { loss: true })]))).toBeNull();
    expect(cutPosition(view([]))).toBeNull();
  });

  it('is null for all-special sequences that fit', () => {
    expect(cutPosition(view([EOS, EOS]))).toBeNull();
  });

  it('marks left truncation after the dropped head', () => {
    const v = view([t('a', { kept: false }), t('b', { kept: false }), t('c'), t('d', { loss: true })]);
    expect(cutPosition(v)).toEqual({ index: 2, side: 'before', count: 2 });
  });

  it('marks right truncation before the dropped tail', () => {
    const v = view([t('a'), t('b', { loss: true }), t('c', { kept: false }), { ...EOS, loss: false, kept: false }]);
    expect(cutPosition(v)).toEqual({ index: 2, side: 'after', count: 2 });
  });

  it('puts the marker after every token when all are dropped', () => {
    const v = view([t('a', { kept: false }), t('b', { kept: false })]);
    expect(cutPosition(v)).toEqual({ index: 2, side: 'before', count: 2 });
  });
});

describe('histogram helpers', () => {
  const bins: HistogramBin[] = [
    { start: 10, end: 15, count: 3 },
    { start: 15, end: 20, count: 5 },
    { start: 20, end: 25, count: 1 },
  ];

  it('labels bins by their inclusive range', () => {
    expect(binLabel(bins[0])).toBe('10–14');
    expect(binLabel({ start: 7, end: 8, count: 1 })).toBe('7');
  });

  it('flags bins that reach past maxLength, straddling ones included', () => {
    expect(bins.map((b) => binOverflows(b, 16))).toEqual([false, true, true]);
    expect(bins.map((b) => binOverflows(b, 19))).toEqual([false, false, true]);
  });

  it('marks maxLength at the bin that holds it', () => {
    expect(maxLengthBin(bins, 16)).toBe(bins[1]);
    expect(maxLengthBin(bins, 19)).toBe(bins[1]);
    expect(maxLengthBin(bins, 20)).toBe(bins[2]);
  });

  it('marks the first bin when every example is longer', () => {
    expect(maxLengthBin(bins, 4)).toBe(bins[0]);
  });

  it('needs no mark when every example fits', () => {
    expect(maxLengthBin(bins, 24)).toBeNull();
    expect(maxLengthBin(bins, 1000)).toBeNull();
    expect(maxLengthBin([], 10)).toBeNull();
  });
});
