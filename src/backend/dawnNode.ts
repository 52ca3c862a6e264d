/**
 * WebGPU outside the browser: Dawn for Node (the `webgpu` npm package's `dawn.node`) installed as
 * `navigator.gpu`, so the CLI and the unit tests run TensorFlow.js's WebGPU backend as a page does.
 *
 * Dawn's Vulkan backend is tried first (a real GPU and its driver: `libvulkan.so.1` plus the vendor's
 * ICD). Without one, Dawn's OpenGL ES backend on Mesa's llvmpipe gives a software adapter in
 * WebGPU's compatibility mode (Debian packages libegl1, libgles2, libegl-mesa0, libgl1-mesa-dri;
 * EGL needs EGL_PLATFORM=surfaceless with no display). TF.js's kernels run there: the tests use it.
 * Node only: never imported by the app's bundle.
 */
import { createRequire } from 'node:module';

export interface DawnGpu {
  /** Which Dawn backend gave the adapter: the platform's own (Vulkan on Linux, Metal, D3D12), or OpenGL ES (software here, compatibility mode). */
  backend: 'native' | 'opengles';
  /** The adapter's own description (vendor, architecture, driver), for logs and the CLI's header line. */
  description: string;
}

type DawnModule = { create: (flags: string[]) => GPU; globals: Record<string, unknown> };

let installed: Promise<DawnGpu | string> | null = null;

/** Whether `navigator.gpu` already exists (a browser, or an earlier install). */
const hasGpu = () => Boolean((globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu);

async function firstAdapter(dawn: DawnModule, want: DawnGpu['backend'] | 'any'): Promise<{ gpu: GPU; adapter: GPUAdapter; backend: DawnGpu['backend'] } | null> {
  const tries: [DawnGpu['backend'], string[], GPURequestAdapterOptions][] = [
    ['native', [], {}],
    ['opengles', ['backend=opengles'], { featureLevel: 'compatibility' } as GPURequestAdapterOptions],
  ];
  for (const [backend, flags, options] of tries) {
    if (want !== 'any' && want !== backend) continue;
    if (backend === 'opengles') process.env.EGL_PLATFORM ??= 'surfaceless';
    const gpu = dawn.create(flags);
    const adapter = await gpu.requestAdapter(options).catch(() => null);
    if (!adapter) continue;
    if (backend === 'opengles') {
      // TF.js asks for an adapter with its own options: keep them in compatibility mode.
      const request = gpu.requestAdapter.bind(gpu);
      (gpu as { requestAdapter: GPU['requestAdapter'] }).requestAdapter = (o?: GPURequestAdapterOptions) => request({ ...o, featureLevel: 'compatibility' } as GPURequestAdapterOptions);
    }
    return { gpu, adapter, backend };
  }
  return null;
}

/**
 * Installs Dawn as `navigator.gpu` (once; later calls return the first result). Returns what it
 * got, or a sentence saying why there is no adapter. `want` restricts the Dawn backend tried.
 */
export function installDawnGpu(want: DawnGpu['backend'] | 'any' = 'any'): Promise<DawnGpu | string> {
  installed ??= (async () => {
    if (hasGpu()) return 'navigator.gpu already exists: Dawn is not needed here';
    let dawn: DawnModule;
    try {
      // NEOX_DAWN_NODE: a dawn.node file on its own (the GPU check carries one instead of node_modules).
      const file = process.env.NEOX_DAWN_NODE;
      dawn = (file ? createRequire(import.meta.url)(file) : await import('webgpu')) as DawnModule;
    } catch (e) {
      const what = process.env.NEOX_DAWN_NODE ? `NEOX_DAWN_NODE=${process.env.NEOX_DAWN_NODE}` : 'Dawn for Node (the "webgpu" package)';
      return `${what} did not load: ${(e as Error).message.split('\n')[0]}`;
    }
    const got = await firstAdapter(dawn, want);
    if (!got) {
      return 'Dawn found no adapter: install a Vulkan driver (libvulkan1 and the GPU vendor\'s ICD), or for a software adapter Mesa\'s EGL/GLES (libegl1 libgles2 libegl-mesa0 libgl1-mesa-dri)';
    }
    Object.assign(globalThis, dawn.globals); // GPUBufferUsage, GPUMapMode, … as in a page
    const nav = ((globalThis as { navigator?: object }).navigator ??= {}) as Record<string, unknown>;
    Object.defineProperty(nav, 'gpu', { value: got.gpu, configurable: true });
    const info = got.adapter.info ?? ({} as GPUAdapterInfo);
    const description = [info.vendor, info.architecture, (info as { device?: string }).device, info.description].filter(Boolean).join(' ') || got.backend;
    return { backend: got.backend, description };
  })();
  return installed;
}
