/** Pure number formatting for the UI: counts, bytes, rates. Decimal units, as the Hub shows sizes. */
import type { GenerateResult } from '../protocol/protocol';
import { byteUnit, formatBytes } from '../shared/units';

type StopReason = GenerateResult['reason'];

const fixed = (n: number, digits: number) => n.toFixed(digits);

/** Parameter and token counts: 70426624 → "70.4M", 6539008 → "6.5M", 1234 → "1.2K". */
export function formatCount(n: number): string {
  const a = Math.abs(n);
  if (a >= 1e9) return `${fixed(n / 1e9, 2)}B`;
  if (a >= 1e6) return `${fixed(n / 1e6, 1)}M`;
  if (a >= 1e3) return `${fixed(n / 1e3, 1)}K`;
  return String(Math.round(n));
}

export { formatBytes } from '../shared/units';

/**
 * Download progress in the total's unit, so the numbers line up while they grow:
 * "12.3 MB / 166.0 MB". Without a total only what has arrived.
 */
export function formatByteProgress(loaded: number, total: number | null): string {
  if (total === null || total <= 0) return formatBytes(loaded);
  const [size, unit] = byteUnit(total);
  if (size === 1) return `${Math.round(loaded)} B / ${Math.round(total)} B`;
  return `${fixed(loaded / size, 1)} ${unit} / ${fixed(total / size, 1)} ${unit}`;
}

/** GPU limits are powers of two, so binary units read naturally: 268435456 → "256 MiB". */
export function formatMiB(bytes: number): string {
  const mib = bytes / 2 ** 20;
  return `${Number.isInteger(mib) ? mib : fixed(mib, 1)} MiB`;
}

/** 34.56 → "34.6 tok/s"; one decimal below 100, none above. */
export function formatTokensPerSecond(tps: number): string {
  if (!Number.isFinite(tps) || tps <= 0) return '– tok/s';
  return `${fixed(tps, tps >= 100 ? 0 : 1)} tok/s`;
}

const STOP_REASONS: Record<StopReason, string> = {
  eos: 'eos',
  length: 'length',
  stop: 'stop string',
  cancelled: 'cancelled',
};

export const formatStopReason = (r: StopReason): string => STOP_REASONS[r];

/** 0.25 → "0.25"; keeps config values as written, without float noise. */
export const formatRatio = (x: number): string => String(Number(x.toPrecision(6)));

/** Whole counts with thousands separators, the same in every locale: 1260 → "1,260". */
export const formatInt = (n: number): string => n.toLocaleString('en-US');

/** "1 line", "2 lines". */
export const plural = (n: number, word: string): string => `${formatInt(n)} ${word}${n === 1 ? '' : 's'}`;
