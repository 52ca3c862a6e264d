import { describe, expect, it } from 'vitest';
import { outOfMemory } from './outOfMemory';
import { checkWasmMalloc, type WasmAllocator } from './wasmHeapGuard';

/** An Emscripten-shaped module: `_malloc` starts as a stub that assigns the raw function over itself. */
function fakeModule(heapBytes: number): WasmAllocator & { raw: (n: number) => number } {
  let top = 8;
  const raw = (n: number): number => {
    if (top + n > heapBytes) return 0;
    const at = top;
    top += n;
    return at;
  };
  const m = { HEAPU8: new Uint8Array(heapBytes), raw } as WasmAllocator & { raw: typeof raw };
  m._malloc = (n: number) => (m._malloc = raw)(n);
  return m;
}

describe('checkWasmMalloc', () => {
  it('throws a recognised out-of-memory error where malloc answers 0, also after the stub replaced itself', () => {
    const m = fakeModule(1024);
    checkWasmMalloc(m);
    expect(m._malloc(100)).toBe(8); // the stub's first call assigns the raw function...
    expect(m._malloc(100)).toBe(108); // ...which stays behind the check
    let thrown: unknown;
    try {
      m._malloc(4096);
    } catch (e) {
      thrown = e;
    }
    expect((thrown as Error).message).toMatch(/^Cannot enlarge memory: no room for 0\.0 MiB more in a heap of 0\.00 GiB$/);
    expect(outOfMemory(thrown, 'wasm')?.message).toMatch(/^out of memory: the WASM backend's 4 GiB heap ran out \(Cannot enlarge memory/);
    expect(m._malloc(0)).toBe(208); // an empty allocation is not a failure
  });

  it('guards once, however often it is installed', () => {
    const m = fakeModule(64);
    checkWasmMalloc(m);
    const guarded = m._malloc;
    checkWasmMalloc(m);
    expect(m._malloc).toBe(guarded);
    expect(() => m._malloc(100)).toThrow(/Cannot enlarge memory/);
  });
});
