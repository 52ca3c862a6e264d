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

/** What a training run already does, so the advice leaves out what it cannot change. */
export interface RunShape {
  method: 'full' | 'lora';
  checkpointing: boolean;
}

/**
 * The error as an OutOfMemoryError when it is one (by its message), else null. An error that is
 * one already passes as it is. With `run`, the advice names only the changes that run can make.
 */
export function outOfMemory(e: unknown, backend: string | null, surface: 'studio' | 'cli' = 'studio', run?: RunShape): OutOfMemoryError | null {
  if (e instanceof OutOfMemoryError) return e;
  const message = (e as Error)?.message ?? String(e);
  if (!SIGNS.test(message)) return null;
  const heap = backend === 'wasm' ? "the WASM backend's 4 GiB heap" : backend === 'webgpu' ? "the GPU's memory" : 'memory';
  const what = `${PREFIX}${heap} ran out (${message.split('\n')[0].slice(0, 200)}). `;
  const cli = surface === 'cli';
  const changes = [
    run?.method !== 'lora' && (cli ? 'with --method lora' : 'with LoRA'),
    run?.checkpointing !== true && (cli ? 'with --checkpointing' : 'with activation checkpointing turned on'),
    cli ? 'with a smaller --batch-size or --max-length' : 'with a smaller batch size or max length',
  ].filter((c): c is string => typeof c === 'string');
  const estimate = cli ? 'the estimate, printed first, says what fits' : "the Train tab's estimate says what fits";
  const elsewhere = backend === 'wasm' ? (cli ? ', or --backend webgpu' : ', or use WebGPU') : '';
  const after = cli ? '' : '; the engine restarts, and a run resumes from its last checkpoint';
  return new OutOfMemoryError(`${what}Train ${orList(changes)} (${estimate})${elsewhere}${after}`, e);
}

/** "a", "a or b", "a, b or c". */
function orList(items: string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} or ${items.at(-1)}`;
}
