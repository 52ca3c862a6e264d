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
 *
 * With sequence packing, a batch row holds several examples (first-fit decreasing into rows of
 * max length; attention stays within each, see model/layers.ts PackedRows), so far fewer padded
 * tokens are computed when examples are short. Then batchSize counts rows, not examples, as
 * transformers' per-device batch size does with packing.
 */
import { makeBatch, packBatch } from '../data/batch';
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
  /** Every example in the batch (packed: the batch rows' examples, one row after another). */
  rows: number[];
  T: number;
  /** Packed: each batch row's examples, in order. Absent: one example per batch row. */
  packs?: number[][];
}

/**
 * First-fit decreasing: the examples in `order` (longest first; equal lengths keep their order)
 * into rows of at most `capacity` tokens, each into the first row with room. A max-tree over
 * the rows' free space finds that row in O(log n), so a 100k-example dataset packs in
 * milliseconds. The number of rows depends only on the lengths, not on the order.
 */
export function packRows(order: readonly number[], lengths: ArrayLike<number>, capacity: number): number[][] {
  const sorted = [...order].sort((a, b) => lengths[b] - lengths[a]); // stable: ties keep `order`
  let size = 1;
  while (size < sorted.length) size *= 2;
  const free = new Int32Array(2 * size).fill(capacity); // free[size + r]: row r's room; inner nodes: their subtree's max
  const rows: number[][] = [];
  for (const e of sorted) {
    const len = lengths[e];
    if (len > capacity) throw new Error(`example ${e} has ${len} tokens, more than the max length ${capacity}: encode with the same max length as training uses`);
    let node = 1;
    while (node < size) node = free[2 * node] >= len ? 2 * node : 2 * node + 1; // leftmost row with room (an unused row always has it)
    const r = node - size;
    (rows[r] ??= []).push(e);
    free[node] -= len;
    for (node >>= 1; node >= 1; node >>= 1) free[node] = Math.max(free[2 * node], free[2 * node + 1]);
  }
  return rows;
}

/** Batch rows in one epoch: the examples, or with packing the packed rows (packRows). */
export function epochRows(lengths: ArrayLike<number>, maxLength: number, packing: boolean): number {
  if (!packing) return lengths.length;
  return packRows(epochOrder(lengths.length, 0, -1), lengths, maxLength).length;
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
 * batch kept), each padded to the smallest bucket ≥ its longest row. With `packing`, the
 * shuffled examples are packed into rows (packRows), the rows shuffled again, and cut the same way.
 * The same (lengths, batchSize, maxLength, seed, epoch, packing) always gives the same plan.
 */
export function epochBatches(lengths: ArrayLike<number>, batchSize: number, maxLength: number, seed: number, epoch: number, packing = false): PlannedBatch[] {
  checkWhole(batchSize, 'batch size', 1);
  if (!Number.isInteger(epoch)) throw new Error(`epoch must be a whole number (got ${epoch})`);
  const sizes = buckets(maxLength);
  const order = epochOrder(lengths.length, seed, epoch);
  if (packing) return packedBatches(order, lengths, batchSize, maxLength, sizes, seed, epoch);
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

/** packRows on the epoch's order, the rows in a second seeded order (rows of equal fill would otherwise stay together), in batches. */
function packedBatches(order: number[], lengths: ArrayLike<number>, batchSize: number, maxLength: number, sizes: number[], seed: number, epoch: number): PlannedBatch[] {
  const packs = packRows(order, lengths, maxLength);
  const rowOrder = epochOrder(packs.length, (seed ^ 0x5bd1e995) >>> 0, epoch);
  const out: PlannedBatch[] = [];
  for (let s = 0; s < rowOrder.length; s += batchSize) {
    const batch = rowOrder.slice(s, s + batchSize).map((r) => packs[r]);
    let longest = 0;
    for (const p of batch) longest = Math.max(longest, p.reduce((n, e) => n + lengths[e], 0));
    out.push({ rows: batch.flat(), T: sizes.find((b) => b >= longest)!, packs: batch });
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

/** A planned batch as a token batch padded to exactly T (makeBatch's max_length padding with maxLength = T; packed rows: packBatch). */
export function toBatch(examples: EncodedExample[], planned: PlannedBatch, padId: number): EncodedBatch {
  const pick = (rows: number[]) => rows.map((r) => examples[r]);
  if (planned.packs) return packBatch(planned.packs.map(pick), padId, planned.T);
  return makeBatch(pick(planned.rows), padId, { padding: 'max_length', maxLength: planned.T });
}

/** What packing would do to an epoch: rows and computed (padded) tokens with and without it. */
export interface PackingPlan {
  examples: number;
  /** Batch rows per epoch when packed. */
  packedRows: number;
  /** Tokens computed per epoch (every batch's B·T): padded buckets, and packed. */
  paddedTokens: number;
  packedTokens: number;
  /** The longest packed batch's length: the sequence length the estimate should assume when packing. */
  packedSeqLen: number;
  /** paddedTokens / packedTokens: how many times fewer tokens packing computes. */
  gain: number;
}

/** The smallest gain at which packing is on by default: below it the bigger T's attention and the mask eat most of it. */
export const PACKING_MIN_GAIN = 1.25;

const computedTokens = (plan: PlannedBatch[]): number => plan.reduce((n, b) => n + (b.packs?.length ?? b.rows.length) * b.T, 0);

/** Epoch 0's batches both ways, for lengths already cut to maxLength (as the encoded examples are). */
export function planPacking(lengths: ArrayLike<number>, batchSize: number, maxLength: number): PackingPlan {
  const padded = epochBatches(lengths, batchSize, maxLength, 0, 0);
  const packed = epochBatches(lengths, batchSize, maxLength, 0, 0, true);
  const paddedTokens = computedTokens(padded);
  const packedTokens = computedTokens(packed);
  return {
    examples: lengths.length,
    packedRows: packed.reduce((n, b) => n + b.packs!.length, 0),
    paddedTokens,
    packedTokens,
    packedSeqLen: packed.reduce((n, b) => Math.max(n, b.T), 0),
    gain: packedTokens > 0 ? paddedTokens / packedTokens : 1,
  };
}

/**
 * The run's packing: the user's choice where they made one; else on for a run measured in epochs
 * (maxSteps 0) where it computes PACKING_MIN_GAIN× fewer tokens, so the run ends that much sooner.
 * A run of a set number of steps keeps one example per row: packed, each of its steps would learn
 * from several times the examples and take about as many times longer (the Quick look's 30 steps
 * on the course data: about 2× the time).
 */
export const resolvePacking = (asked: boolean | undefined, plan: PackingPlan, maxSteps: number): boolean => asked ?? (maxSteps === 0 && plan.gain >= PACKING_MIN_GAIN);
