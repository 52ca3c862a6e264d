/** Test helpers: the PyTorch golden fixtures under fixtures/ (see fixtures/README.md). */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { transposeHost } from '../model/checkpoint';
import { parseConfig } from '../model/config';
import { paramSpecs } from '../model/params';
import { readSafetensors } from '../model/safetensors';

export const FIXTURES_DIR = fileURLToPath(new URL('../../fixtures/', import.meta.url));

export interface Golden {
  ids: number[][];
  lengths: number[];
  loss: number;
  loss_row0: number;
  greedy: { prompt: number[]; max_new_tokens: number; tokens: number[] };
  dtype: string;
}

export interface Fixture {
  name: string;
  dir: string;
  configJson: unknown;
  weights: Uint8Array;
  golden: Golden;
  /** logits (B, T, V) and grad.<name> tensors, float32. */
  expected: Map<string, { shape: number[]; data: Float32Array }>;
}

export function fixtureNames(): string[] {
  return readdirSync(FIXTURES_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(`${FIXTURES_DIR}${d.name}/golden.json`)) // fixtures/data holds datasets, not models
    .map((d) => d.name)
    .sort();
}

export function loadFixture(name: string): Fixture {
  const dir = `${FIXTURES_DIR}${name}/`;
  return {
    name,
    dir,
    configJson: JSON.parse(readFileSync(`${dir}config.json`, 'utf8')),
    weights: new Uint8Array(readFileSync(`${dir}model.safetensors`)),
    golden: JSON.parse(readFileSync(`${dir}golden.json`, 'utf8')) as Golden,
    expected: readSafetensors(new Uint8Array(readFileSync(`${dir}golden.safetensors`))).tensors,
  };
}

/**
 * The reference gradient of a parameter in the engine's layout: the golden files hold GPT-2's
 * Conv1D gradients as the checkpoint holds those weights, (in, out); the engine keeps (out, in).
 */
export function goldenGrad(f: Fixture, name: string): { shape: number[]; data: Float32Array } {
  const ref = f.expected.get(`grad.${name}`);
  if (!ref) throw new Error(`${f.name} has no reference gradient for ${name}`);
  const spec = paramSpecs(parseConfig(f.configJson)).find((s) => s.name === name);
  if (!spec?.fileTransposed) return ref;
  const [rows, cols] = ref.shape;
  return { shape: [cols, rows], data: transposeHost(ref.data, rows, cols) };
}

/** max|a − b| / max|ref|: a per-tensor relative error that tolerates exact zeros in the reference. */
export function relError(actual: ArrayLike<number>, ref: ArrayLike<number>): number {
  if (actual.length !== ref.length) return Infinity;
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < ref.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i] - ref[i]));
    scale = Math.max(scale, Math.abs(ref[i]));
  }
  return Number.isNaN(diff) ? Infinity : diff / (scale || 1);
}

/**
 * Starts a backend for a test file the way the command line does: 'cpu', 'wasm', or WebGPU through Dawn for Node with the
 * fused kernels ('webgpu') or tfjs's stock kernels only ('webgpu-stock').
 */
export async function startTestBackend(name: 'cpu' | 'wasm' | 'webgpu' | 'webgpu-stock'): Promise<void> {
  if (name === 'webgpu' || name === 'webgpu-stock') {
    const { startWebGPU } = await import('./webgpu');
    return startWebGPU({ fusedKernels: name === 'webgpu' });
  }
  const { initBackend } = await import('../backend/backend');
  const { createRequire } = await import('node:module');
  const path = await import('node:path');
  const dir = path.dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json'));
  await initBackend(name, { wasmPaths: path.join(dir, 'dist') + path.sep });
}
