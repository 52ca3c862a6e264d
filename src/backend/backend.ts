/**
 * The only place that picks and initialises the TensorFlow.js backend:
 * WebGPU where the browser offers an adapter, else WASM (threaded when the page is
 * cross-origin isolated), else the plain-JS CPU backend. It reports which one runs and why.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '#tf-gradients';
import { getThreadsCount, setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import type { BackendChoice, BackendInfo, BackendName } from '../protocol/protocol';
import { matmulGflops } from './matmulSpeed';
import { checkWasmMalloc, type WasmAllocator } from './wasmHeapGuard';
import { registerWasmOptimizer } from './wasmOptimizer';
import { registerBf16RowDots } from './rowDots';
import { registerInferenceKernels } from './wasmInference';
import { registerSmallOps } from './wasmSmallOps';
import { registerWasmKernelFixes, setKeepPackedOperands } from './wasmKernels';
import { watchConsole } from './xnnStatus';
import { setFusedKernels } from './webgpu/register';
import { registerWebGPUKernelFixes } from './webgpu/addN';

export interface BackendEnv {
  /** Where the tfjs WASM binaries are: a directory prefix, or a file name → URL map (Vite asset URLs). */
  wasmPaths: string | Record<string, string>;
  /** WASM threads to ask for; default {@link defaultWasmThreads} of the logical cores. 1 = the single-threaded SIMD build. */
  wasmThreads?: number;
  /** WebGPU only: use the fused kernels (default true); false runs tfjs's stock kernels, for comparison. */
  fusedKernels?: boolean;
  /**
   * How 'auto' measures a backend when a real GPU and WASM are both there (GFLOP/s of the backend in
   * use); default a 512³ matmul (see probeSpeed). Tests pass their own.
   */
  probe?: () => Promise<number>;
  /** Called once if the WebGPU device is lost (driver reset, GPU process crash, tab in background too long). */
  onDeviceLost?: (message: string) => void;
}

interface WebGPUBackendLike {
  device: GPUDevice;
  adapterInfo?: { vendor?: string; architecture?: string };
}

const isolated = (): boolean => (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;

/** Software WebGPU adapters: CPU emulations that run the studio far slower than WASM does. */
const SOFTWARE_ADAPTER = /swiftshader|llvmpipe|lavapipe|softpipe|software|basic render/i;

/**
 * Why an adapter is a fallback or software one (a CPU emulation), or null for a real GPU. Such an
 * adapter runs a training step tens of times slower than the WASM backend (SwiftShader's matmul:
 * about 0.6 GFLOP/s here, WASM's 58), so 'auto' never picks it; asking for webgpu still can.
 */
export function softwareAdapter(adapter: { isFallbackAdapter?: boolean; info?: Partial<GPUAdapterInfo> & { isFallbackAdapter?: boolean } }): string | null {
  const info = adapter.info ?? {};
  const name = [info.vendor, info.architecture, (info as { device?: string }).device, info.description].filter(Boolean).join(' ');
  if (adapter.isFallbackAdapter || info.isFallbackAdapter) return `the only WebGPU adapter is a fallback one${name ? ` (${name})` : ''}`;
  if (SOFTWARE_ADAPTER.test(name)) return `the only WebGPU adapter is a software emulation (${name})`;
  return null;
}

async function tryWebGPU(env: BackendEnv, auto: boolean): Promise<BackendInfo | string> {
  const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
  if (!gpu) return 'navigator.gpu is missing (browser without WebGPU, or WebGPU disabled)';
  const adapter = await gpu.requestAdapter().catch(() => null);
  if (!adapter) return 'the browser offers no WebGPU adapter (no supported GPU or driver)';
  const software = softwareAdapter(adapter as unknown as Parameters<typeof softwareAdapter>[0]);
  if (auto && software) return `${software}, slower than the CPU`;
  await import('@tensorflow/tfjs-backend-webgpu'); // registers 'webgpu'; loaded only where it can run
  if (!(await tf.setBackend('webgpu').catch(() => false))) return 'the WebGPU backend failed to start';
  await tf.ready();
  registerWebGPUKernelFixes();
  setFusedKernels(env.fusedKernels ?? true);
  const backend = tf.backend() as unknown as WebGPUBackendLike;
  const info = adapter.info ?? ({} as GPUAdapterInfo);
  backend.device.lost.then((lost) => {
    if (lost.reason !== 'destroyed') env.onDeviceLost?.(`the GPU device was lost (${lost.message || lost.reason}): save nothing more on WebGPU; restart on WASM to continue`);
  });
  return {
    name: 'webgpu',
    reason: software ? `webgpu requested; ${software}: expect it to be slow` : 'WebGPU adapter available',
    adapter: { vendor: info.vendor ?? '', architecture: info.architecture ?? '', description: info.description ?? '' },
    limits: { maxBufferSize: backend.device.limits.maxBufferSize, maxStorageBufferBindingSize: backend.device.limits.maxStorageBufferBindingSize },
    wasmThreads: null,
    crossOriginIsolated: isolated(),
  };
}

/**
 * How many threads the WASM backend should use here: every logical core on small machines (a
 * 2-core machine gets 2), half of them beyond 4 (tfjs's own rule, which assumes two hyperthreads
 * per physical core), never more than the 8 pthread workers tfjs 4.22 starts.
 */
export function defaultWasmThreads(logicalCores: number): number {
  const n = Math.max(1, Math.floor(logicalCores) || 1);
  return Math.min(8, n <= 4 ? n : Math.ceil(n / 2));
}

/**
 * tfjs 4.22 caps the thread pool at navigator.hardwareConcurrency / 2 (read once, when the WASM
 * module starts), so a 2-core machine would get 1 thread whatever setThreadsCount asks for. While
 * the module starts, this worker's navigator reports twice the wanted count; then the real value
 * comes back (the override is an own property shadowing the prototype's getter).
 */
async function withReportedCores<T>(cores: number, start: () => Promise<T>): Promise<T> {
  const nav = globalThis.navigator as Navigator | undefined;
  if (!nav) return start();
  Object.defineProperty(nav, 'hardwareConcurrency', { value: cores, configurable: true });
  try {
    return await start();
  } finally {
    delete (nav as { hardwareConcurrency?: number }).hardwareConcurrency;
  }
}

async function tryWasm(env: BackendEnv, why: string): Promise<BackendInfo | string> {
  // The threaded SIMD build needs SharedArrayBuffer, i.e. a cross-origin isolated page (COOP +
  // COEP headers; see vite.config.ts) and never runs in Node (tfjs's flag says false there). Its
  // pthread workers only start from a bundle with the fix in wasmThreadsPlugin.ts.
  const cores = (globalThis.navigator as Navigator | undefined)?.hardwareConcurrency ?? 1;
  const wanted = env.wasmThreads ?? defaultWasmThreads(cores);
  if (wanted <= 1) tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false); // the plain SIMD build: no idle workers
  const threaded = wanted > 1 && (await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')) === true;
  setWasmPaths(env.wasmPaths as string);
  if (threaded) setThreadsCount(wanted);
  watchConsole(); // before the module starts: it binds console.warn as its stderr then
  const start = () => tf.setBackend('wasm').catch(() => false);
  if (!(await (threaded ? withReportedCores(2 * wanted, start) : start()))) return 'the WASM backend failed to start';
  await tf.ready();
  registerWasmKernelFixes();
  registerBf16RowDots();
  registerInferenceKernels();
  registerSmallOps();
  registerWasmOptimizer();
  checkWasmMalloc((tf.backend() as unknown as { wasm: WasmAllocator }).wasm);
  const threads = getThreadsCount();
  const threadNote =
    threads > 1
      ? `${threads} threads`
      : wanted <= 1 || tf.env().getBool('IS_NODE')
        ? '1 thread'
        : isolated()
          ? '1 thread (this browser has no WebAssembly threads)'
          : '1 thread (the page is not cross-origin isolated: serve it with COOP/COEP headers for threads)';
  return { name: 'wasm', reason: `${why}; WASM with ${threadNote}`, adapter: null, limits: null, wasmThreads: threads, crossOriginIsolated: isolated() };
}

async function startCpu(why: string): Promise<BackendInfo> {
  await tf.setBackend('cpu');
  await tf.ready();
  return { name: 'cpu', reason: `${why}; plain JavaScript CPU backend (slow)`, adapter: null, limits: null, wasmThreads: null, crossOriginIsolated: isolated() };
}

/** The start-up probe: a 512³ matmul, best of 3 (about a tenth of a second on either backend of a laptop). */
const probeSpeed = (): Promise<number> => matmulGflops(512, 3);

const gflops = (x: number): string => (x >= 10 ? x.toFixed(0) : x.toPrecision(2));

/**
 * 'auto' with a real GPU: the same matmul on WebGPU and on WASM, and the faster one runs (a weak
 * integrated GPU can lose to a many-core CPU). The reason says both figures. Starts WASM too; if
 * WASM cannot start, WebGPU stays.
 */
export async function chooseByProbe(gpu: BackendInfo, env: BackendEnv): Promise<BackendInfo> {
  const probe = env.probe ?? probeSpeed;
  const onGpu = await probe();
  const wasm = await tryWasm(env, 'faster than WebGPU in the start-up probe');
  if (typeof wasm === 'string') {
    await tf.setBackend('webgpu');
    return { ...gpu, reason: `WebGPU adapter available (WASM did not start: ${wasm})` };
  }
  const onWasm = await probe();
  if (onGpu >= onWasm) {
    await tf.setBackend('webgpu');
    return { ...gpu, reason: `WebGPU: ${gflops(onGpu)} GFLOP/s against WASM's ${gflops(onWasm)} in the start-up probe` };
  }
  return { ...wasm, reason: `${wasm.reason}: ${gflops(onWasm)} against ${gflops(onGpu)} GFLOP/s (choose webgpu to use the GPU anyway)` };
}

/**
 * Start the requested backend; 'auto' tries webgpu (a real GPU only: see softwareAdapter; then
 * the faster of it and WASM: see chooseByProbe) → wasm → cpu, and says why each was skipped.
 */
export async function initBackend(choice: BackendChoice, env: BackendEnv): Promise<BackendInfo> {
  const order: BackendName[] = choice === 'auto' ? ['webgpu', 'wasm', 'cpu'] : [choice];
  let why = choice === 'auto' ? '' : `${choice} requested`;
  for (const name of order) {
    if (name === 'cpu') return startCpu(why || 'cpu requested');
    const r = name === 'webgpu' ? await tryWebGPU(env, choice === 'auto') : await tryWasm(env, why || 'wasm requested');
    if (typeof r !== 'string') return choice === 'auto' && name === 'webgpu' ? chooseByProbe(r, env) : r;
    if (choice !== 'auto') throw new Error(`${name} backend unavailable: ${r}. Choose "auto" to fall back to another backend`);
    why = `${name} unavailable: ${r}`;
  }
  throw new Error('no TensorFlow.js backend could start');
}

/**
 * The WASM backend's heap size in bytes, or null on another backend. A WASM memory never shrinks,
 * so this is the high-water mark of everything the backend held at once (tensors, XNNPACK's packed
 * weights, the allocator's fragments): the number the 4 GiB limit applies to.
 */
export function wasmHeapBytes(): number | null {
  if (tf.getBackend() !== 'wasm') return null;
  const heap = (tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } }).wasm?.HEAPU8;
  return heap ? heap.buffer.byteLength : null;
}

/**
 * Runs a training job with the products it makes leaving no packed weight copies behind on WASM
 * (see keepPackedOperands in wasmKernels.ts): a weight's packed copy speeds decoding, but a
 * training step reads each weight once per pass, and the copies would double the weights' memory.
 */
export async function whileTraining<T>(job: () => Promise<T>): Promise<T> {
  setKeepPackedOperands(false);
  try {
    return await job();
  } finally {
    setKeepPackedOperands(true);
  }
}
