/**
 * What a backend throws when its memory runs out, turned into one message that says what ran out
 * and what to change. tfjs-wasm does not check its allocations: past its 4 GiB heap an Emscripten
 * abort ("Aborted(…)"), an access past the heap ("memory access out of bounds") or a failed growth
 * surfaces from whichever kernel ran; JavaScript's own allocations fail with a RangeError. After a
 * WASM abort the module is unusable, so the message also says the engine restarts.
 */
const SIGNS = /Aborted\(|memory access out of bounds|Cannot enlarge memory|out of memory|Array buffer allocation failed|Invalid typed array length|Got status 6\b/i;

/** How the message starts, as it reaches the page (errors cross the worker boundary as text). */
const PREFIX = 'out of memory: ';

/** Whether an error (from the engine, through the worker) is an OutOfMemoryError's. */
export const isOutOfMemory = (e: unknown): boolean => ((e as Error)?.message ?? '').startsWith(PREFIX);

export class OutOfMemoryError extends Error {
  constructor(what: string, cause: unknown) {
    super(what, { cause });
    this.name = 'OutOfMemoryError';
  }
}

/** The error as an OutOfMemoryError when it is one (by its message), else null. */
export function outOfMemory(e: unknown, backend: string | null, surface: 'studio' | 'cli' = 'studio'): OutOfMemoryError | null {
  const message = (e as Error)?.message ?? String(e);
  if (!SIGNS.test(message)) return null;
  const heap = backend === 'wasm' ? "the WASM backend's 4 GiB heap" : backend === 'webgpu' ? "the GPU's memory" : 'memory';
  const what = `${PREFIX}${heap} ran out (${message.split('\n')[0].slice(0, 200)}). `;
  const advice =
    surface === 'cli'
      ? `Train with --method lora or --checkpointing, or a smaller --batch-size or --max-length (the estimate, printed first, says what fits)${backend === 'wasm' ? ', or --backend webgpu' : ''}`
      : `Train with LoRA, turn on activation checkpointing, or lower the batch size or max length (the Train tab's estimate says what fits)${backend === 'wasm' ? ', or use WebGPU' : ''}; the engine restarts, and a run resumes from its last checkpoint`;
  return new OutOfMemoryError(what + advice, e);
}
