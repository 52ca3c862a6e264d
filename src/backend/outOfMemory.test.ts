import { describe, expect, it } from 'vitest';
import { outOfMemory } from './outOfMemory';

describe('outOfMemory', () => {
  it.each([
    'Aborted(OOM). Build with -sASSERTIONS for more info.',
    'memory access out of bounds',
    'Cannot enlarge memory arrays to size 4294967296 bytes',
    'Array buffer allocation failed',
    'Invalid typed array length: 2147483648',
  ])('names what ran out and what to change for "%s"', (message) => {
    const e = outOfMemory(new Error(message), 'wasm');
    expect(e?.name).toBe('OutOfMemoryError');
    expect(e?.message).toMatch(/^out of memory: the WASM backend's 4 GiB heap ran out \(.+\)\. Train with LoRA/);
  });

  it('leaves other errors alone, and words the GPU case for WebGPU', () => {
    expect(outOfMemory(new Error('the train split is empty'), 'wasm')).toBeNull();
    expect(outOfMemory(new Error('Array buffer allocation failed'), 'webgpu')?.message).toMatch(/the GPU's memory ran out/);
  });

  it('advises only what the run can still change, and passes an error that is one already', () => {
    const cause = new Error('memory access out of bounds');
    expect(outOfMemory(cause, 'wasm', 'studio', { method: 'lora', checkpointing: true })?.message).toMatch(
      /\. Train with a smaller batch size or max length \(the Train tab's estimate says what fits\), or use WebGPU; the engine restarts/,
    );
    expect(outOfMemory(cause, 'wasm', 'studio', { method: 'full', checkpointing: true })?.message).toMatch(/\. Train with LoRA or with a smaller batch size or max length \(/);
    expect(outOfMemory(cause, 'wasm', 'cli', { method: 'lora', checkpointing: false })?.message).toMatch(
      /\. Train with --checkpointing or with a smaller --batch-size or --max-length \(the estimate, printed first, says what fits\), or --backend webgpu$/,
    );
    const once = outOfMemory(cause, 'wasm')!;
    expect(outOfMemory(once, 'wasm', 'studio', { method: 'lora', checkpointing: true })).toBe(once);
  });
});
