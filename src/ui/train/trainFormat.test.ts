import { describe, expect, it } from 'vitest';
import { formatDuration, formatEpoch, formatFlops, formatLoss, formatLr, sentence } from './trainFormat';

describe('formatDuration', () => {
  it('reads like a countdown', () => {
    expect(formatDuration(870)).toBe('0.9 s');
    expect(formatDuration(42_000)).toBe('42 s');
    expect(formatDuration(65_000)).toBe('1 min 05 s');
    expect(formatDuration(59_600)).toBe('1 min 00 s');
    expect(formatDuration(3_720_000)).toBe('1 h 02 min');
  });
  it('shows a dash for what is unknown', () => {
    expect(formatDuration(null)).toBe('–');
    expect(formatDuration(undefined)).toBe('–');
    expect(formatDuration(Number.NaN)).toBe('–');
    expect(formatDuration(-1)).toBe('–');
  });
});

describe('formatFlops', () => {
  it('keeps three significant digits in the largest unit', () => {
    expect(formatFlops(2.4e12)).toBe('2.40 TFLOP');
    expect(formatFlops(123_456_789)).toBe('123 MFLOP');
    expect(formatFlops(999)).toBe('999 FLOP');
    expect(formatFlops(Number.POSITIVE_INFINITY)).toBe('–');
  });
});

describe('formatLr', () => {
  it('writes small rates in e-notation, as configs do', () => {
    expect(formatLr(1e-4)).toBe('1e-4');
    expect(formatLr(2.5e-5)).toBe('2.5e-5');
    expect(formatLr(0.00012345)).toBe('1.23e-4');
    expect(formatLr(0.01)).toBe('0.01');
    expect(formatLr(0)).toBe('0');
  });
});

describe('formatLoss and formatEpoch', () => {
  it('rounds and names the odd values', () => {
    expect(formatLoss(2.71828)).toBe('2.718');
    expect(formatLoss(Number.NaN)).toBe('NaN');
    expect(formatLoss(null)).toBe('–');
    expect(formatEpoch(0.4667)).toBe('0.5');
  });
});

describe('sentence', () => {
  it('capitalises the first letter only', () => {
    expect(sentence('needs ~460 MB, 11% of WASM')).toBe('Needs ~460 MB, 11% of WASM');
    expect(sentence('')).toBe('');
  });
});
