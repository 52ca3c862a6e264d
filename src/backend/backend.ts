/**
 * The only place that picks and initialises the TensorFlow.js backend:
 * WebGPU where the browser offers an adapter, else WASM (threaded when the page is
 * cross-origin isolated), else the plain-JS CPU backend. It reports which one runs and why.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '#tf-gradients';
import { getThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import type { BackendChoice, BackendInfo, BackendName } from '../protocol/protocol';

export interface BackendEnv {
  /** Where the tfjs WASM binaries are: a directory prefix, or a file name → URL map (Vite asset URLs). */
  wasmPaths: string | Record<string, string>;
  /** Called once if the WebGPU device is lost (driver reset, GPU process crash, tab in background too long). */
  onDeviceLost?: (message: string) => void;
}

interface WebGPUBackendLike {
  device: GPUDevice;
  adapterInfo?: { vendor?: string; architecture?: string };
}

const isolated = (): boolean => (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;

async function tryWebGPU(env: BackendEnv): Promise<BackendInfo | string> {
  const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
  if (!gpu) return 'navigator.gpu is missing (browser without WebGPU, or WebGPU disabled)';
  const adapter = await gpu.requestAdapter().catch(() => null);
  if (!adapter) return 'the browser offers no WebGPU adapter (no supported GPU or driver)';
  await import('@tensorflow/tfjs-backend-webgpu'); // registers 'webgpu'; loaded only where it can run
  if (!(await tf.setBackend('webgpu').catch(() => false))) return 'the WebGPU backend failed to start';
  await tf.ready();
  const backend = tf.backend() as unknown as WebGPUBackendLike;
  const info = adapter.info ?? ({} as GPUAdapterInfo);
  backend.device.lost.then((lost) => {
    if (lost.reason !== 'destroyed') env.onDeviceLost?.(`the GPU device was lost (${lost.message || lost.reason}): save nothing more on WebGPU; restart on WASM to continue`);
  });
  return {
    name: 'webgpu',
    reason: 'WebGPU adapter available',
    adapter: { vendor: info.vendor ?? '', architecture: info.architecture ?? '', description: info.description ?? '' },
    limits: { maxBufferSize: backend.device.limits.maxBufferSize, maxStorageBufferBindingSize: backend.device.limits.maxStorageBufferBindingSize },
    wasmThreads: null,
    crossOriginIsolated: isolated(),
  };
}

async function tryWasm(env: BackendEnv, why: string): Promise<BackendInfo | string> {
  // The threaded build's pthread workers crash in a bundled app ("e is not defined" inside the
  // inlined worker blob, tfjs 4.22), so the single-threaded SIMD build is used even when isolated.
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  setWasmPaths(env.wasmPaths as string);
  if (!(await tf.setBackend('wasm').catch(() => false))) return 'the WASM backend failed to start';
  await tf.ready();
  const threads = getThreadsCount();
  const threadNote = threads > 1 ? `${threads} threads` : '1 thread (tfjs 4.22 threads fail when bundled)';
  return { name: 'wasm', reason: `${why}; WASM with ${threadNote}`, adapter: null, limits: null, wasmThreads: threads, crossOriginIsolated: isolated() };
}

async function startCpu(why: string): Promise<BackendInfo> {
  await tf.setBackend('cpu');
  await tf.ready();
  return { name: 'cpu', reason: `${why}; plain JavaScript CPU backend (slow)`, adapter: null, limits: null, wasmThreads: null, crossOriginIsolated: isolated() };
}

/** Start the requested backend; 'auto' tries webgpu → wasm → cpu and says why each was skipped. */
export async function initBackend(choice: BackendChoice, env: BackendEnv): Promise<BackendInfo> {
  const order: BackendName[] = choice === 'auto' ? ['webgpu', 'wasm', 'cpu'] : [choice];
  let why = choice === 'auto' ? '' : `${choice} requested`;
  for (const name of order) {
    if (name === 'cpu') return startCpu(why || 'cpu requested');
    const r = name === 'webgpu' ? await tryWebGPU(env) : await tryWasm(env, why || 'wasm requested');
    if (typeof r !== 'string') return r;
    if (choice !== 'auto') throw new Error(`${name} backend unavailable: ${r}. Choose "auto" to fall back to another backend`);
    why = `${name} unavailable: ${r}`;
  }
  throw new Error('no TensorFlow.js backend could start');
}
