import { describe, expect, it } from 'vitest';
import { DEFAULT_SAMPLING } from './defaults';
import { checkSamplingDraft, parseStopStrings } from './samplingDraft';

describe('checkSamplingDraft', () => {
  it('turns the defaults into greedy params', () => {
    expect(checkSamplingDraft(DEFAULT_SAMPLING)).toEqual({
      ok: true,
      params: { maxNewTokens: 64, temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, seed: 0, stopStrings: [] },
    });
  });

  it('names each invalid field', () => {
    const r = checkSamplingDraft({ ...DEFAULT_SAMPLING, maxNewTokens: '2.5', topP: '0', temperature: '' });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors.maxNewTokens).toBe('Max new tokens: enter a whole number');
    expect(r.errors.topP).toBe('Top-p: must be above 0 and at most 1 (1 = off)');
    expect(r.errors.temperature).toBe('Temperature: enter a number');
    expect(r.errors.seed).toBeUndefined();
  });
});

describe('parseStopStrings', () => {
  it('splits on commas and newlines and reads \\n escapes', () => {
    expect(parseStopStrings('###, Question:\n\n  \\n\\n ')).toEqual(['###', 'Question:', '\n\n']);
    expect(parseStopStrings('')).toEqual([]);
  });
});
