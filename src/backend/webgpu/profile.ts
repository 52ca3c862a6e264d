/**
 * Counts what a piece of WebGPU work costs the CPU side: compute dispatches, pipeline
 * compilations, GPU→CPU reads (buffer maps for reading), queue submits and new GPU buffers.
 * For models this small, dispatch count and stalls decide the speed, not FLOPs, so these are the
 * numbers a fused kernel has to move (see docs/BENCHMARKS.md).
 *
 * It wraps methods of the backend's own GPUDevice instance (and of the encoders it makes) and
 * the backend's two read paths, once; the counters only move inside a countWebGPU call.
 */

import type { WebGPUBackendInternals } from './dispatch';

export interface WebGPUCounts {
  /** dispatchWorkgroups calls: kernel launches, including the several some tfjs kernels issue. */
  dispatches: number;
  /** Compute pipelines created (shader compilations). 0 after warm-up when shapes stay fixed. */
  pipelines: number;
  /** GPU→CPU reads of tensor data (tfjs's async read and its synchronous fallback). Each one is a stall. */
  readbacks: number;
  /** queue.submit calls. */
  submits: number;
  /** Bytes of new GPU buffers (tfjs pools and reuses freed buffers of the same size). */
  bytesAllocated: number;
}

const zero = (): WebGPUCounts => ({ dispatches: 0, pipelines: 0, readbacks: 0, submits: 0, bytesAllocated: 0 });

let live: WebGPUCounts | null = null;
const patched = new WeakSet<object>();

type AnyFn = (...args: never[]) => unknown;
/** Replaces obj[key] on the instance with a wrapper that calls `before` then the original. */
function wrap<T extends object>(obj: T, key: keyof T & string, before: (...args: unknown[]) => void, after?: (result: unknown) => void): void {
  const original = obj[key] as unknown as AnyFn;
  const wrapped = function (this: unknown, ...args: unknown[]) {
    before(...args);
    const r = original.apply(this, args as never[]);
    after?.(r);
    return r;
  };
  Object.defineProperty(obj, key, { value: wrapped, configurable: true, writable: true });
}

function instrument(backend: CountedBackend): void {
  if (patched.has(backend)) return;
  patched.add(backend);
  const { device } = backend;
  wrap(backend, 'getBufferData', () => live && live.readbacks++);
  wrap(backend, 'readSync', (dataId) => live && backend.tensorMap.get(dataId as object)?.values == null && live.readbacks++);
  const pipeline = () => live && live.pipelines++;
  wrap(device, 'createComputePipeline', pipeline);
  wrap(device, 'createComputePipelineAsync', pipeline);
  wrap(device.queue, 'submit', () => live && live.submits++);
  wrap(device, 'createBuffer', (desc) => live && (live.bytesAllocated += (desc as GPUBufferDescriptor).size));
  wrap(device, 'createCommandEncoder', () => undefined, (encoder) => {
    wrap(encoder as GPUCommandEncoder, 'beginComputePass', () => undefined, (pass) => {
      wrap(pass as GPUComputePassEncoder, 'dispatchWorkgroups', () => live && live.dispatches++);
    });
  });
}

/** The parts of tfjs's WebGPU backend this needs: dispatch.ts's, and the two read paths. */
export interface CountedBackend extends Pick<WebGPUBackendInternals, 'device' | 'commandEncoder' | 'tensorMap' | 'endComputePassEncoder' | 'submitQueue'> {
  getBufferData(buffer: GPUBuffer): Promise<ArrayBuffer>;
  readSync(dataId: object): unknown;
}

/** Ends tfjs's open compute pass and submits it, so later dispatches go to an encoder made after instrument(). */
function flush(backend: CountedBackend): void {
  if (!backend.commandEncoder) return;
  backend.endComputePassEncoder();
  backend.submitQueue();
}

/**
 * Runs `work` and returns what it cost on the backend's device. Not reentrant: one count at a time.
 */
export async function countWebGPU<T>(backend: CountedBackend, work: () => Promise<T>): Promise<{ result: T; counts: WebGPUCounts }> {
  if (live) throw new Error('countWebGPU is already counting: one count at a time');
  instrument(backend);
  flush(backend);
  const counts = zero();
  live = counts;
  try {
    return { result: await work(), counts };
  } finally {
    live = null;
  }
}
