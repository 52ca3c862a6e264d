/** The backend 'auto' picks: never a software WebGPU adapter over WASM. */
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { chooseByProbe, initBackend, softwareAdapter, type BackendEnv } from './backend';
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

describe("'auto' with a real GPU: the start-up probe picks the faster of WebGPU and WASM", () => {
  /** A probe that reports the given GFLOP/s for whichever backend is in use, and records which it measured. */
  const fakeProbe = (speeds: Record<string, number>, seen: string[]): BackendEnv['probe'] => async () => {
    seen.push(tf.getBackend());
    return speeds[tf.getBackend()];
  };

  it.each([
    [{ webgpu: 900, wasm: 40 }, 'webgpu', /^WebGPU: 900 GFLOP\/s against WASM's 40 in the start-up probe$/],
    [{ webgpu: 12, wasm: 58 }, 'wasm', /^faster than WebGPU in the start-up probe; WASM with \d+ threads?.*: 58 against 12 GFLOP\/s \(choose webgpu to use the GPU anyway\)$/],
  ])('%j → %s, and the header says both figures', async (speeds, want, reason) => {
    const { createRequire } = await import('node:module');
    const path = await import('node:path');
    const wasmPaths = path.join(path.dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep;
    const dawn = await installDawnGpu();
    if (typeof dawn === 'string') throw new Error(dawn);
    const gpu = await initBackend('webgpu', { wasmPaths });
    const seen: string[] = [];
    const got = await chooseByProbe(gpu, { wasmPaths, probe: fakeProbe(speeds, seen) });
    expect(seen).toEqual(['webgpu', 'wasm']); // each measured once, on itself
    expect(got.name).toBe(want);
    expect(tf.getBackend()).toBe(want); // the backend left running is the one reported
    expect(got.reason).toMatch(reason);
  });
});
