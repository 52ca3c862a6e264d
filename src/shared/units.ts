/**
 * Byte sizes in words, for every layer (the estimate's reasons in train/, the panels in ui/):
 * decimal units, as the Hub shows sizes. The lowest layer: it imports nothing.
 */
const BYTE_UNITS: [number, string][] = [
  [1e9, 'GB'],
  [1e6, 'MB'],
  [1e3, 'kB'],
];

/** The unit a size is written in: [its size in bytes, its name]. */
export function byteUnit(bytes: number): [number, string] {
  return BYTE_UNITS.find(([size]) => Math.abs(bytes) >= size) ?? [1, 'B'];
}

/** 166e6 → "166.0 MB" (or "166 MB" with digits 0); below 1 kB whole bytes: "512 B". */
export function formatBytes(bytes: number, digits = 1): string {
  const [size, unit] = byteUnit(bytes);
  return size === 1 ? `${Math.round(bytes)} B` : `${(bytes / size).toFixed(digits)} ${unit}`;
}
