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

/**
 * Packed rows (sequence packing): each batch row is its examples one after another, then padding
 * to T. `positions` restart at 0 where each example starts and the padding continues the last
 * example's, so the model keeps attention and positions within each example (model/layers.ts
 * PackedRows) and the loss skips each example's last token, which would predict the next example.
 */
export function packBatch(rows: EncodedExample[][], padId: number, T: number): EncodedBatch & { positions: Int32Array } {
  if (rows.length === 0) throw new Error('a batch needs at least one row');
  const B = rows.length;
  const ids = new Int32Array(B * T).fill(padId); // (B·T)
  const labelMask = new Uint8Array(B * T); // (B·T)
  const positions = new Int32Array(B * T); // (B·T)
  const lengths = new Int32Array(B);
  for (let b = 0; b < B; b++) {
    let at = b * T;
    for (const e of rows[b]) {
      if (at + e.ids.length > (b + 1) * T) throw new Error(`packed row ${b} holds more than ${T} tokens: pack with the same max length as the batches`);
      ids.set(e.ids, at);
      labelMask.set(e.loss, at);
      for (let i = 0; i < e.ids.length; i++) positions[at + i] = i;
      at += e.ids.length;
    }
    lengths[b] = at - b * T;
    const last = lengths[b] > 0 ? positions[at - 1] + 1 : 0;
    for (let i = 0; at + i < (b + 1) * T; i++) positions[at + i] = last + i; // padding: never a target, never seen by a real token
  }
  return { ids, B, T, lengths, labelMask, positions };
}
