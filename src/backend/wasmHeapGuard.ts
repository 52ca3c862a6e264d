/**
 * tfjs-wasm 4.22 does not check its allocations: BackendWasm.move places a new tensor at
 * `_malloc(n) >>> 0`, so once the 4 GiB heap is full a failed malloc (0) puts the tensor at the
 * heap's start and the kernels write over whatever lives there. Measured in Chromium (threaded
 * build): a training step of the tiny model at 8 × 2,048 tokens, estimated at 6.1 GB, then never
 * returned (still silent after 3 minutes). Checking malloc's answer makes the same step fail at
 * once, with an error backend/outOfMemory.ts recognises.
 */

/** The part of the Emscripten module tfjs-wasm allocates through. */
export interface WasmAllocator {
  _malloc(bytes: number): number;
  HEAPU8: Uint8Array;
}

const GUARDED = Symbol('mallocChecked');

const gib = (bytes: number): string => `${(bytes / 2 ** 30).toFixed(2)} GiB`;
const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

/**
 * Makes `module._malloc` throw instead of answering 0 (no room) for a non-empty allocation. Idempotent.
 * Emscripten's export starts as a stub that, on its first call, assigns the raw function over
 * `Module._malloc`; the accessor keeps such an assignment behind the check.
 */
export function checkWasmMalloc(module: WasmAllocator): void {
  const marked = module as WasmAllocator & { [GUARDED]?: true };
  if (marked[GUARDED]) return;
  let malloc = module._malloc;
  const checked = (bytes: number): number => {
    const at = malloc.call(module, bytes);
    if (at === 0 && bytes > 0) {
      // Emscripten's own words for a heap that cannot grow, which outOfMemory() recognises.
      throw new Error(`Cannot enlarge memory: no room for ${mib(bytes)} more in a heap of ${gib(module.HEAPU8.buffer.byteLength)}`);
    }
    return at;
  };
  Object.defineProperty(module, '_malloc', {
    configurable: true,
    enumerable: true,
    get: () => checked,
    set: (f: (bytes: number) => number) => {
      malloc = f;
    },
  });
  marked[GUARDED] = true;
}
