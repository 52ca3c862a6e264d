/** Encoded examples → padded (B·T) batches in the trainer's TokenBatch shape. */
import type { EncodedBatch, EncodedExample, TokenizeSettings } from './types';

export type BatchSettings = Pick<TokenizeSettings, 'padding' | 'maxLength'>;

export function makeBatch(rows: EncodedExample[], padId: number, s: BatchSettings): EncodedBatch {
  if (rows.length === 0) throw new Error('a batch needs at least one example');
  let longest = 0;
  for (const r of rows) longest = Math.max(longest, r.ids.length);
  if (s.padding === 'max_length' && longest > s.maxLength) {
    throw new Error(`an example has ${longest} tokens, more than maxLength ${s.maxLength}: encode with the same maxLength as the batches`);
  }
  const B = rows.length;
  // At least 1 so an all-empty batch still has a shape; its lengths say nothing is real.
  const T = Math.max(1, s.padding === 'max_length' ? s.maxLength : longest);
  const ids = new Int32Array(B * T).fill(padId); // (B·T)
  const labelMask = new Uint8Array(B * T); // (B·T), 0 in the padding
  const lengths = new Int32Array(B); // (B)
  for (let b = 0; b < B; b++) {
    const r = rows[b];
    ids.set(r.ids, b * T);
    labelMask.set(r.loss, b * T);
    lengths[b] = r.ids.length;
  }
  return { ids, B, T, lengths, labelMask };
}

/** Batches of `batchSize` in the given order (the last one may be smaller). */
export function* batchesOf(rows: EncodedExample[], batchSize: number, padId: number, s: BatchSettings): Generator<EncodedBatch> {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`batch size must be a whole number of at least 1 (got ${batchSize})`);
  for (let i = 0; i < rows.length; i += batchSize) yield makeBatch(rows.slice(i, i + batchSize), padId, s);
}
