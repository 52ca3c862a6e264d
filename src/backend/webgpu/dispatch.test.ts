/** The raw dispatch path the fused kernels share: every thread index, past one grid row too. */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { startWebGPU } from '../../testing/webgpu';
import { dispatch, output, type WebGPUBackendInternals } from './dispatch';

beforeAll(() => startWebGPU());

describe('dispatch', () => {
  it.each([
    [1000, 64],
    [70_001, 1], // more workgroups than one grid dimension holds (65,535): a 2-D grid
  ])('%i threads in workgroups of %i: every index is written by its own thread, none skipped', async (threads, workgroup) => {
    const b = tf.backend() as unknown as WebGPUBackendInternals;
    const seen = tf.engine().makeTensorFromTensorInfo(output(b, [threads])); // every slot written below
    dispatch(b, {
      key: 'test_index',
      bindings: { seen: { t: seen, write: true } },
      threads,
      workgroup,
      body: `fn main(gid: u32, lane: u32, group: u32) { seen[gid] = f32(gid); }`,
    });
    const s = await seen.data();
    expect(Array.from(s).every((v, i) => v === i)).toBe(true);
    seen.dispose();
  });

  it('refuses a barrier kernel whose threads do not fill whole workgroups', () => {
    const b = tf.backend() as unknown as WebGPUBackendInternals;
    const out = output(b, [10]);
    expect(() => dispatch(b, { key: 'test_guard', bindings: { out: { t: out, write: true } }, threads: 10, workgroup: 64, guard: false, body: 'fn main(gid: u32, lane: u32, group: u32) {}' })).toThrow(/not a multiple of the workgroup size 64/);
    (b as unknown as { disposeData(id: object): void }).disposeData(out.dataId);
  });

  it('a shader that does not compile is named with the compiler message at its next use, not read back as zeros', async () => {
    const b = tf.backend() as unknown as WebGPUBackendInternals;
    const out = output(b, [64]);
    // `target` is a reserved word in WGSL: the mistake that first hid a kernel's output behind zeros.
    const broken = { key: 'test_reserved', bindings: { out: { t: out, write: true } }, threads: 64, body: 'fn main(gid: u32, lane: u32, group: u32) { let target = 1.0; out[gid] = target; }' };
    const errors: unknown[] = [];
    const log = console.error;
    console.error = (...a: unknown[]) => errors.push(a.join(' '));
    try {
      dispatch(b, broken);
      await b.device.queue.onSubmittedWorkDone();
      await new Promise((r) => setTimeout(r, 0));
    } finally {
      console.error = log;
    }
    expect(String(errors[0])).toMatch(/test_reserved does not compile/);
    expect(() => dispatch(b, broken)).toThrow(/the WebGPU kernel test_reserved does not compile: .+/);
    (b as unknown as { disposeData(id: object): void }).disposeData(out.dataId);
  });
});
