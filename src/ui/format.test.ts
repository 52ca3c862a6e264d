import { describe, expect, it } from 'vitest';
import { formatByteProgress, formatBytes, formatCount, formatMiB, formatRatio, formatStopReason, formatTokensPerSecond } from './format';

describe('formatCount', () => {
  it('uses K, M and B', () => {
    expect(formatCount(70_426_624)).toBe('70.4M');
    expect(formatCount(162_322_944)).toBe('162.3M');
    expect(formatCount(405_334_016)).toBe('405.3M');
    expect(formatCount(6_539_008)).toBe('6.5M');
    expect(formatCount(1_234)).toBe('1.2K');
    expect(formatCount(999)).toBe('999');
    expect(formatCount(6_900_000_000)).toBe('6.90B');
  });
});

describe('formatBytes', () => {
  it('uses decimal units', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(12_345)).toBe('12.3 kB');
    expect(formatBytes(166e6)).toBe('166.0 MB');
    expect(formatBytes(166e6, 0)).toBe('166 MB');
    expect(formatBytes(1.62e9)).toBe('1.6 GB');
  });
});

describe('formatByteProgress', () => {
  it("writes both numbers in the total's unit", () => {
    expect(formatByteProgress(12.3e6, 166e6)).toBe('12.3 MB / 166.0 MB');
    expect(formatByteProgress(500_000, 166e6)).toBe('0.5 MB / 166.0 MB');
    expect(formatByteProgress(300, 700)).toBe('300 B / 700 B');
  });

  it('shows only what arrived without a total', () => {
    expect(formatByteProgress(12.3e6, null)).toBe('12.3 MB');
  });
});

describe('formatMiB', () => {
  it('prints binary megabytes', () => {
    expect(formatMiB(2 ** 30)).toBe('1024 MiB');
    expect(formatMiB(134_217_728)).toBe('128 MiB');
    expect(formatMiB(1.5 * 2 ** 20 + 1000)).toBe('1.5 MiB');
  });
});

describe('formatTokensPerSecond', () => {
  it('rounds by size and tolerates zero', () => {
    expect(formatTokensPerSecond(34.56)).toBe('34.6 tok/s');
    expect(formatTokensPerSecond(123.4)).toBe('123 tok/s');
    expect(formatTokensPerSecond(0)).toBe('– tok/s');
  });
});

describe('small formatters', () => {
  it('name stop reasons and ratios', () => {
    expect(formatStopReason('stop')).toBe('stop string');
    expect(formatStopReason('eos')).toBe('eos');
    expect(formatRatio(0.25)).toBe('0.25');
    expect(formatRatio(0.1 + 0.2)).toBe('0.3');
  });
});
