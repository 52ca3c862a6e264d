/**
 * The trainer's data order and batch shapes, as plain arithmetic on example lengths.
 *
 * Batches are padded to a few fixed lengths (buckets) rather than to each batch's longest row:
 * every new (B, T) makes the backend compile kernels and allocate buffers anew, so a run sees
 * at most one shape per bucket (two with the epoch's last, smaller batch).
 *
 * Gradient accumulation does not cross epoch boundaries: each epoch is cut into optimizer steps
 * of `gradAccum` micro-batches, and the epoch's trailing micro-batches (fewer than `gradAccum`)
 * form one more, shorter step. So an epoch always ends on a step boundary, every epoch has the
 * same number of steps, and a step never mixes two shuffles.
 */
import { makeBatch } from '../data/batch';
import type { EncodedBatch, EncodedExample } from '../data/types';
import { mulberry32 } from '../model/random';

/** Smallest bucket: shorter batches gain little from a tighter fit, and each bucket is one more shape. */
const MIN_BUCKET = 16;

function checkWhole(value: number, what: string, min: number): void {
  if (!Number.isInteger(value) || value < min) throw new Error(`${what} must be a whole number of at least ${min} (got ${value})`);
}

/** Padded lengths batches are rounded up to: powers of two from 16 up to maxLength (maxLength itself last). */
export function buckets(maxLength: number): number[] {
  checkWhole(maxLength, 'max length', 1);
  const out: number[] = [];
  for (let b = MIN_BUCKET; b < maxLength; b *= 2) out.push(b);
  out.push(maxLength);
  return out;
}

/** A micro-batch: indices into the encoded examples, padded to T (one of buckets(maxLength)). */
export interface PlannedBatch {
  rows: number[];
  T: number;
}

/**
 * Epoch `epoch`'s order: a Fisher–Yates shuffle driven by mulberry32(seed ^ (epoch + 1)·φ32),
 * where φ32 = 0x9e3779b1 (the 32-bit golden ratio) spreads consecutive epochs far apart in seed
 * space, so (seed, epoch) pairs do not collide the way seed + epoch·k would.
 * A negative epoch gives the examples in their given order (evaluation: same shapes, no shuffle).
 */
function epochOrder(n: number, seed: number, epoch: number): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  if (epoch < 0) return order;
  const rand = mulberry32((seed ^ Math.imul(epoch + 1, 0x9e3779b1)) >>> 0);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

/**
 * Epoch `epoch`'s micro-batches: a seeded shuffle of the example indices (see epochOrder; a
 * negative epoch keeps the given order), cut into batches of `batchSize` (the last, partial
 * batch kept), each padded to the smallest bucket ≥ its longest row.
 * The same (lengths, batchSize, maxLength, seed, epoch) always gives the same plan.
 */
export function epochBatches(lengths: ArrayLike<number>, batchSize: number, maxLength: number, seed: number, epoch: number): PlannedBatch[] {
  checkWhole(batchSize, 'batch size', 1);
  if (!Number.isInteger(epoch)) throw new Error(`epoch must be a whole number (got ${epoch})`);
  const sizes = buckets(maxLength);
  const order = epochOrder(lengths.length, seed, epoch);
  const out: PlannedBatch[] = [];
  for (let s = 0; s < order.length; s += batchSize) {
    const rows = order.slice(s, s + batchSize);
    let longest = 0;
    for (const r of rows) longest = Math.max(longest, lengths[r]);
    if (longest > maxLength) {
      throw new Error(`example ${rows.find((r) => lengths[r] === longest)} has ${longest} tokens, more than the max length ${maxLength}: encode with the same max length as training uses`);
    }
    out.push({ rows, T: sizes.find((b) => b >= longest)! }); // maxLength is the last bucket, so one always fits
  }
  return out;
}

/** Micro-batches in one epoch. */
const batchesPerEpoch = (examples: number, batchSize: number): number => Math.ceil(examples / batchSize);

/** Optimizer steps in `epochs` epochs with `gradAccum` micro-batches per step (an epoch's trailing partial accumulation counts as a step). */
export function stepsFor(examples: number, batchSize: number, gradAccum: number, epochs: number): number {
  checkWhole(examples, 'the number of examples', 0);
  checkWhole(batchSize, 'batch size', 1);
  checkWhole(gradAccum, 'gradient accumulation', 1);
  checkWhole(epochs, 'epochs', 0);
  return epochs * Math.ceil(batchesPerEpoch(examples, batchSize) / gradAccum);
}

/** The optimizer steps a run takes: maxSteps when set, else the epochs' worth (stepsFor). */
export const totalSteps = (c: { maxSteps: number; batchSize: number; gradAccum: number; epochs: number }, examples: number): number =>
  c.maxSteps > 0 ? c.maxSteps : stepsFor(examples, c.batchSize, c.gradAccum, c.epochs);

/**
 * Where optimizer step `step` (0-based: the number of steps already taken) starts: its epoch,
 * the index of its first micro-batch in epochBatches(…, epoch), and how many micro-batches it
 * accumulates (gradAccum, fewer for an epoch's last step). A resumed run continues from here
 * with exactly the next batch. Steps past `epochs` epochs (a maxSteps beyond them) keep going
 * into later epochs.
 */
export function positionAt(step: number, examples: number, batchSize: number, gradAccum: number): { epoch: number; batch: number; microBatches: number } {
  checkWhole(step, 'step', 0);
  checkWhole(examples, 'the number of examples', 1);
  const perEpoch = stepsFor(examples, batchSize, gradAccum, 1);
  const batch = (step % perEpoch) * gradAccum;
  return { epoch: Math.floor(step / perEpoch), batch, microBatches: Math.min(gradAccum, batchesPerEpoch(examples, batchSize) - batch) };
}

/** The planned rows as a token batch padded to exactly T (makeBatch's max_length padding with maxLength = T). */
export function toBatch(examples: EncodedExample[], rows: number[], T: number, padId: number): EncodedBatch {
  return makeBatch(
    rows.map((r) => examples[r]),
    padId,
    { padding: 'max_length', maxLength: T },
  );
}
