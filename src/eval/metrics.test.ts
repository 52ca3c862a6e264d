import { describe, expect, it } from 'vitest';
import { exactMatch, lcsLength, meanMetrics, normalizeAnswer, normalizeWhitespace, rougeL, rougeTokens, tokenF1 } from './metrics';

describe('normalizeAnswer', () => {
  it('lower-cases, strips punctuation and articles, collapses whitespace (SQuAD)', () => {
    expect(normalizeAnswer('The  Quick, brown fox!')).toBe('quick brown fox');
    expect(normalizeAnswer('  An apple a day\n')).toBe('apple day');
    // Articles go only as whole words: "theatre" and "another" stay.
    expect(normalizeAnswer('the theatre, another')).toBe('theatre another');
    // Punctuation is removed without a space, as SQuAD does: "U.S." → "us", "e-mail" → "email".
    expect(normalizeAnswer('U.S. e-mail')).toBe('us email');
    expect(normalizeAnswer('')).toBe('');
    expect(normalizeAnswer('The.')).toBe('');
  });

  it('handles Unicode letters and punctuation', () => {
    // ’ « » are Unicode punctuation; ç and é are letters and survive lower-casing.
    expect(normalizeAnswer('Ça VA, l’été « chaud »')).toBe('ça va lété chaud');
    expect(normalizeAnswer('東京。')).toBe('東京');
  });
});

describe('exactMatch', () => {
  it('whitespace mode only trims and collapses whitespace', () => {
    expect(normalizeWhitespace('  Paris \n\t France ')).toBe('Paris France');
    expect(exactMatch('  Paris \n France', 'Paris France')).toBe(1);
    expect(exactMatch('Paris.', 'paris')).toBe(0);
    expect(exactMatch('', '   ')).toBe(1);
  });

  it('squad mode uses normalizeAnswer', () => {
    expect(exactMatch('Paris.', 'paris', 'squad')).toBe(1);
    expect(exactMatch('The Eiffel Tower', 'eiffel tower', 'squad')).toBe(1);
    expect(exactMatch('Paris', 'London', 'squad')).toBe(0);
  });
});

describe('tokenF1', () => {
  it('is 1 for identical answers after normalisation and 0 with no overlap', () => {
    expect(tokenF1('The Cat!', 'cat')).toBe(1);
    expect(tokenF1('dog', 'cat')).toBe(0);
  });

  it('partial overlap', () => {
    // pred {barack, obama}, target {president, barack, obama}: same = 2, P = 2/2, R = 2/3,
    // F1 = 2·1·(2/3) / (1 + 2/3) = (4/3)/(5/3) = 0.8.
    expect(tokenF1('Barack Obama', 'President Barack Obama')).toBeCloseTo(0.8, 12);
  });

  it('uses the Counter intersection for repeated tokens', () => {
    // Articles are dropped first: "the the cat" → [cat], "the cat" → [cat] → 1.
    expect(tokenF1('the the cat', 'the cat')).toBe(1);
    // pred cat×2 dog×1, target cat×1 dog×1: same = min(2,1) + min(1,1) = 2, P = 2/3, R = 2/2,
    // F1 = 2·(2/3)·1 / (2/3 + 1) = (4/3)/(5/3) = 0.8.
    expect(tokenF1('cat cat dog', 'cat dog')).toBeCloseTo(0.8, 12);
    // pred cat×1, target cat×2: same = 1, P = 1, R = 1/2, F1 = 1 / 1.5 = 2/3.
    expect(tokenF1('cat', 'cat cat')).toBeCloseTo(2 / 3, 12);
    // pred cat×3, target cat×1 dog×2: same = 1, P = 1/3, R = 1/3, F1 = 1/3.
    expect(tokenF1('cat cat cat', 'cat dog dog')).toBeCloseTo(1 / 3, 12);
  });

  it('empty answers: both empty → 1, one empty → 0 (after normalisation)', () => {
    expect(tokenF1('', '')).toBe(1);
    expect(tokenF1('the', 'A.')).toBe(1); // both normalise to no tokens
    expect(tokenF1('', 'cat')).toBe(0);
    expect(tokenF1('cat', '  ')).toBe(0);
  });

  it('works on Unicode tokens', () => {
    // [müller, spielte, gut] vs [müller, spielte]: same = 2, P = 2/3, R = 1, F1 = 0.8.
    expect(tokenF1('Müller spielte gut.', 'müller spielte')).toBeCloseTo(0.8, 12);
  });
});

describe('lcsLength', () => {
  it('matches the CLRS example', () => {
    // LCS of ABCBDAB and BDCABA has length 4 (e.g. BCBA).
    expect(lcsLength([...'ABCBDAB'], [...'BDCABA'])).toBe(4);
    expect(lcsLength([], ['a'])).toBe(0);
    expect(lcsLength(['a', 'b'], ['b', 'a'])).toBe(1);
  });
});

describe('rougeL', () => {
  it('tokenises like rouge_score on ASCII: lower-case, split on non-alphanumerics', () => {
    expect(rougeTokens("Hello, World! It's 2024.")).toEqual(['hello', 'world', 'it', 's', '2024']);
    expect(rougeTokens('Привет, мир')).toEqual(['привет', 'мир']);
  });

  it("reproduces Lin (2004)'s examples", () => {
    // Reference "police killed the gunman".
    // S2 "police kill the gunman": LCS = police the gunman = 3, P = R = 3/4 → F = 0.75.
    expect(rougeL('police kill the gunman', 'police killed the gunman')).toBeCloseTo(0.75, 12);
    // S3 "the gunman kill police": LCS = the gunman = 2, P = R = 2/4 → F = 0.5.
    expect(rougeL('the gunman kill police', 'police killed the gunman')).toBeCloseTo(0.5, 12);
  });

  it('hand-computed LCS with unequal lengths', () => {
    // pred [the, cat, sat, on, the, mat] (6), target [the, cat, on, mat] (4): LCS = the cat on mat = 4.
    // P = 4/6, R = 4/4, F = 2·(2/3)·1 / (2/3 + 1) = (4/3)/(5/3) = 0.8.
    expect(rougeL('The cat sat on the mat.', 'the cat on mat')).toBeCloseTo(0.8, 12);
    // pred [a, b, c] vs target [c, b, a]: LCS = 1, P = R = 1/3 → F = 1/3.
    expect(rougeL('a b c', 'c b a')).toBeCloseTo(1 / 3, 12);
  });

  it('ignores punctuation and case, and is 0 when either side is empty', () => {
    expect(rougeL('Hello, world!', 'hello world')).toBe(1);
    expect(rougeL('', 'hello')).toBe(0);
    expect(rougeL('hello', '...')).toBe(0);
    expect(rougeL('', '')).toBe(0);
  });

  it('scores non-Latin scripts', () => {
    // [привет, мир] vs [привет, большой, мир]: LCS = 2, P = 1, R = 2/3 → F = 0.8.
    expect(rougeL('Привет, мир!', 'привет большой мир')).toBeCloseTo(0.8, 12);
  });
});

describe('meanMetrics', () => {
  it('averages each metric', () => {
    const m = meanMetrics([
      { pred: 'Paris', target: 'Paris' }, // EM 1, F1 1, RL 1
      { pred: 'paris.', target: 'Paris' }, // EM 0 (whitespace mode), F1 1, RL 1
      { pred: 'cat cat dog', target: 'cat dog' }, // EM 0, F1 0.8, RL: LCS 2, P 2/3, R 1 → 0.8
      { pred: '', target: 'London' }, // all 0
    ]);
    expect(m.n).toBe(4);
    expect(m.exactMatch).toBeCloseTo(1 / 4, 12);
    expect(m.f1).toBeCloseTo((1 + 1 + 0.8 + 0) / 4, 12);
    expect(m.rougeL).toBeCloseTo((1 + 1 + 0.8 + 0) / 4, 12);
  });

  it('returns zeros with n = 0 for no rows', () => {
    expect(meanMetrics([])).toEqual({ exactMatch: 0, f1: 0, rougeL: 0, n: 0 });
  });
});
