/** Pure formatting for the Train tab: durations, FLOPs, learning rates, losses. */

const pad2 = (n: number) => String(n).padStart(2, '0');

/** Milliseconds as people read a countdown: 850 → "0.9 s", 42_000 → "42 s", 65_000 → "1 min 05 s", 3_720_000 → "1 h 02 min". */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return '–';
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${pad2(s % 60)} s`;
  const m = Math.round(s / 60);
  return `${Math.floor(m / 60)} h ${pad2(m % 60)} min`;
}

const FLOP_UNITS: [number, string][] = [
  [1e15, 'PFLOP'],
  [1e12, 'TFLOP'],
  [1e9, 'GFLOP'],
  [1e6, 'MFLOP'],
  [1e3, 'kFLOP'],
];

/** 2.4e12 → "2.40 TFLOP"; three significant digits. */
export function formatFlops(flops: number): string {
  if (!Number.isFinite(flops) || flops < 0) return '–';
  const unit = FLOP_UNITS.find(([size]) => flops >= size);
  if (!unit) return `${Math.round(flops)} FLOP`;
  return `${(flops / unit[0]).toPrecision(3)} ${unit[1]}`;
}

/** Learning rates as they are written in configs: 1e-4 → "1e-4", 2.5e-5 → "2.5e-5", 0.01 → "0.01", 0 → "0". */
export function formatLr(x: number): string {
  if (!Number.isFinite(x)) return '–';
  if (x === 0) return '0';
  if (Math.abs(x) >= 1e-3) return String(Number(x.toPrecision(3)));
  const [mantissa, exponent] = x.toExponential(2).split('e');
  return `${Number(mantissa)}e${Number(exponent)}`;
}

/** A loss with four significant digits: 2.71828 → "2.718"; NaN → "NaN"; missing → "–". */
export function formatLoss(x: number | null | undefined): string {
  if (x === null || x === undefined) return '–';
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return String(x);
  return x.toPrecision(4);
}

/** Epochs with one decimal: 0.4667 → "0.5". */
export const formatEpoch = (e: number): string => (Number.isFinite(e) ? e.toFixed(1) : '–');

/** The engine's phrases start lower-case (they follow a colon in errors); as a sentence of their own they need a capital. */
export const sentence = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1);
