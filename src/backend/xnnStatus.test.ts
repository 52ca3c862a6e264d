import { describe, expect, it } from 'vitest';
import { outOfMemory } from './outOfMemory';
import { noteModuleOutput, takeXnnFailure } from './xnnStatus';

const LINE = 'XNN status for xnn_create_fully_connected_nc_f32 is not successful. Got status 6. Use -c dbg to see XNN logs.';

describe('XNNPACK failures tfjs-wasm only prints', () => {
  it('are noted from the module’s stderr once, taken once, and read as out of memory for status 6', () => {
    noteModuleOutput('some other line');
    expect(takeXnnFailure()).toBeNull();
    noteModuleOutput(LINE);
    noteModuleOutput(LINE.replace('fully_connected', 'convolution2d'));
    const e = takeXnnFailure()!;
    expect(e.message).toMatch(/^a matrix product failed inside XNNPACK, so its result is garbage: XNN status for xnn_create_fully_connected_nc_f32 .* Got status 6 \(XNNPACK ran out of memory\)$/);
    expect(takeXnnFailure()).toBeNull();
    expect(outOfMemory(e, 'wasm')?.message).toMatch(/^out of memory: the WASM backend's 4 GiB heap ran out \(a matrix product failed inside XNNPACK/);
    expect(outOfMemory(e, 'wasm', 'cli')?.message).toMatch(/Train with --method lora, with --checkpointing or with a smaller --batch-size .* or --backend webgpu$/);
  });

  it('other statuses are failures, not out of memory', () => {
    noteModuleOutput(LINE.replace('status 6', 'status 2'));
    const e = takeXnnFailure()!;
    expect(e.message).toMatch(/Got status 2$/);
    expect(outOfMemory(e, 'wasm')).toBeNull();
  });
});
