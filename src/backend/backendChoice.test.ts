/** The backend 'auto' picks: never a software WebGPU adapter over WASM. */
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { initBackend, softwareAdapter } from './backend';
import { installDawnGpu } from './dawnNode';

describe('softwareAdapter', () => {
  it.each([
    [{ isFallbackAdapter: true, info: { vendor: 'x', architecture: '', description: '' } }, /fallback/],
    [{ info: { isFallbackAdapter: true, vendor: '', architecture: '', description: '' } }, /fallback/],
    [{ info: { vendor: 'google', architecture: 'swiftshader', description: 'SwiftShader Device (Subzero)' } }, /software emulation \(google swiftshader/],
    [{ info: { vendor: '', architecture: '', device: 'llvmpipe-llvm-15-0-6-256-bits-', description: 'OpenGL version OpenGL ES 3.2 Mesa 22.3.6' } }, /software emulation \(llvmpipe/],
    [{ info: { vendor: 'nvidia', architecture: 'hopper', description: 'NVIDIA H100 80GB HBM3' } }, null],
    [{ info: { vendor: 'apple', architecture: 'metal-3', description: '' } }, null],
  ])('%j → %s', (adapter, want) => {
    const got = softwareAdapter(adapter);
    if (want === null) expect(got).toBeNull();
    else expect(got).toMatch(want);
  });
});

describe("'auto' with only a software adapter", () => {
  it('starts WASM and says why WebGPU was skipped; asking for webgpu still gets it', async () => {
    const dawn = await installDawnGpu();
    if (typeof dawn === 'string') throw new Error(dawn);
    const { createRequire } = await import('node:module');
    const path = await import('node:path');
    const wasmPaths = path.join(path.dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep;
    const auto = await initBackend('auto', { wasmPaths });
    expect(auto.name).toBe('wasm');
    expect(auto.reason).toMatch(/^webgpu unavailable: the only WebGPU adapter is a (software emulation|fallback one).*slower than the CPU; WASM/);
    const asked = await initBackend('webgpu', { wasmPaths });
    expect(asked.name).toBe('webgpu');
    expect(tf.getBackend()).toBe('webgpu');
    expect(asked.reason).toMatch(/expect it to be slow/);
  });
});
