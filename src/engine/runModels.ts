/**
 * The weights a request names (a ModelRef) as a ForwardContext over the loaded base model, so the
 * playground, side by side, batch evaluation, the arena and ARC can use any run without reloading.
 *
 * A run's tensors come from the trainer when it is the run in memory (and the last weights are
 * asked for), else from its checkpoint. Loaded checkpoints stay cached: LoRA adapters are small, so
 * several stay (the course's "one adapter per customer" switches instantly); a full fine-tune is a
 * whole model copy, so only one stays. Entries in use by the current job are never evicted.
 */
import * as tf from '@tensorflow/tfjs-core';
import { transposedWeights, type ForwardContext } from '../model/forward';
import { disposeParams, paramSpecs, type Params } from '../model/params';
import type { ModelRef } from '../protocol/protocol';
import type { CheckpointStore } from '../train/checkpointStore';
import { loraContext, loraParamNames } from '../train/lora';
import { snapshotFromBytes } from '../train/snapshotBytes';

/** The run training in this engine: its tensors belong to the trainer. */
export interface LiveRun {
  runId: string;
  tensors: Params;
}

export interface OpenModel {
  ctx: ForwardContext;
  /** Frees what the context made for this job alone; cached checkpoints stay. */
  release: () => void;
}

interface Entry {
  runId: string;
  full: boolean;
  tensors: Params;
  /** Wᵀ of a full run's matrices (decoding speed); LoRA reuses the base's. */
  transposed: Params | null;
  users: number;
  lastUsed: number;
}

const MAX_FULL = 1;
const MAX_ADAPTERS = 8;

/** The shape each of a run's tensors must have on this base (null: the base has no such weight). */
function expectedShapes(base: ForwardContext, ref: Extract<ModelRef, { kind: 'run' }>, tensors: Params): Record<string, number[] | null> {
  // From the config, not base.params: decoding may hold a base matrix as Wᵀ only (decodeLayout.ts).
  const shapes = new Map(paramSpecs(base.config).map((s) => [s.name, s.shape]));
  if (ref.config.method !== 'lora') return Object.fromEntries(Object.keys(tensors).map((n) => [n, shapes.get(n) ?? null]));
  const r = ref.config.lora.rank;
  return Object.fromEntries(
    loraParamNames(base.config, ref.config.lora).map((n) => {
      const [out, inp] = shapes.get(n.replace(/\.lora_[AB]\.weight$/, '.weight'))!; // A is (r, in), B is (out, r)
      return [n, n.includes('.lora_A.') ? [r, inp] : [out, r]];
    }),
  );
}

/** Why a run's tensors cannot go on this base, or null. */
function mismatch(base: ForwardContext, ref: Extract<ModelRef, { kind: 'run' }>, tensors: Params): string | null {
  for (const [name, want] of Object.entries(expectedShapes(base, ref, tensors))) {
    const t = tensors[name];
    if (!want) return `the loaded model has no ${name}`;
    if (!t) return `it has no ${name}`;
    if (want.join('×') !== t.shape.join('×')) return `${name} is ${t.shape.join('×')}, the loaded model needs ${want.join('×')}`;
  }
  return null;
}

export class RunModels {
  private readonly cache = new Map<string, Entry>();
  private clock = 0;

  constructor(private readonly store: CheckpointStore) {}

  /** `base` must carry its `transposed` copies (the engine makes them once). */
  async open(ref: ModelRef, base: ForwardContext, live: LiveRun | null): Promise<OpenModel> {
    if (ref.kind === 'base') return { ctx: base, release: () => {} };
    const lora = ref.config.method === 'lora';
    const withWeights = (tensors: Params, transposed: Params | undefined): ForwardContext => ({
      params: { ...base.params, ...tensors },
      config: base.config,
      transposed: lora ? base.transposed : { ...base.transposed, ...transposed },
      bf16: base.bf16, // each copy serves only the tensor it was made from: a full run's own W takes W's path
      lora: lora ? loraContext(ref.config.lora, 0, false) : undefined,
    });

    if (live?.runId === ref.runId && ref.checkpoint === 'last') {
      // The trainer replaces its tensors every step, so nothing made from them is cached.
      const transposed = lora ? undefined : transposedWeights(live.tensors, base.config);
      return { ctx: withWeights(live.tensors, transposed), release: () => transposed && disposeParams(transposed) };
    }

    const key = `${ref.runId}/${ref.checkpoint}`;
    let entry = this.cache.get(key);
    if (!entry) {
      const bytes = await this.store.load(ref.runId, ref.checkpoint);
      if (!bytes) {
        throw new Error(
          ref.checkpoint === 'best'
            ? 'this run has no best checkpoint (it ran no evaluation on a test split): use its last weights'
            : 'this run saved no checkpoint (it was stopped before its first one, or its storage was cleared): train it again',
        );
      }
      const snap = snapshotFromBytes(bytes);
      // slice(): the CPU backend would otherwise keep the snapshot's array as the tensor's storage.
      const tensors: Params = Object.fromEntries(Object.entries(snap.trainable).map(([n, t]) => [n, tf.tensor(t.data.slice(), t.shape)]));
      const problem = mismatch(base, ref, tensors);
      if (problem) {
        disposeParams(tensors);
        throw new Error(`this run's checkpoint does not fit the loaded model (${problem}): load the model it was trained on`);
      }
      entry = { runId: ref.runId, full: !lora, tensors, transposed: lora ? null : transposedWeights(tensors, base.config), users: 0, lastUsed: 0 };
      this.cache.set(key, entry);
    }
    const e = entry;
    e.users++;
    e.lastUsed = ++this.clock;
    let released = false;
    return {
      ctx: withWeights(e.tensors, e.transposed ?? undefined),
      release: () => {
        if (released) return;
        released = true;
        e.users--;
        this.evict();
      },
    };
  }

  /** Drops a run's cached weights: it was deleted, or it trains again (its checkpoints change). */
  forget(runId: string): void {
    for (const [key, e] of this.cache) if (e.runId === runId) this.drop(key, e);
  }

  /** The base model is going away: every run's weights go with it. */
  clear(): void {
    for (const [key, e] of this.cache) this.drop(key, e);
  }

  /** Cached run ids, oldest use first (for tests and diagnostics). */
  cachedKeys(): string[] {
    return [...this.cache.entries()].sort((a, b) => a[1].lastUsed - b[1].lastUsed).map(([k]) => k);
  }

  private drop(key: string, e: Entry): void {
    disposeParams(e.tensors);
    if (e.transposed) disposeParams(e.transposed);
    this.cache.delete(key);
  }

  private evict(): void {
    for (const [full, max] of [
      [true, MAX_FULL],
      [false, MAX_ADAPTERS],
    ] as const) {
      const idle = [...this.cache.entries()].filter(([, e]) => e.full === full).sort((a, b) => a[1].lastUsed - b[1].lastUsed);
      let over = idle.length - max;
      for (const [key, e] of idle) {
        if (over <= 0) break;
        if (e.users > 0) continue;
        this.drop(key, e);
        over--;
      }
    }
  }
}
