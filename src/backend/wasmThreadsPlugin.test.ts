import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultWasmThreads } from './backend';
import { patchWasmBackendSource, wasmThreadsPlugin } from './wasmThreadsPlugin';

const dir = path.dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json'));
const backendJs = path.join(dir, 'dist', 'backend_wasm.js');

describe('wasmThreadsPlugin', () => {
  it('hands the pthread workers the unminified factory file instead of the stringified function', () => {
    const code = readFileSync(backendJs, 'utf8');
    const out = patchWasmBackendSource(code, 'var WasmBackendModuleThreadedSimd = (() => {})();');
    expect(out).not.toContain('wasmFactoryThreadedSimd.toString()');
    expect(out).toContain('new Blob(["var WasmBackendModuleThreadedSimd = (() => {})();"]');
    // The main thread still calls the bundled factory.
    expect(out).toContain('wasm = wasmFactoryThreadedSimd(factoryConfig)');
  });

  it('embeds the installed threaded factory, a script that defines the global the worker calls', () => {
    const out = patchWasmBackendSource(readFileSync(backendJs, 'utf8'));
    const literal = /new Blob\(\[("(?:[^"\\]|\\.)*")\]/.exec(out)![1];
    const source = JSON.parse(literal) as string;
    expect(source).toMatch(/^\s*var WasmBackendModuleThreadedSimd = \(\(\) => \{/);
    expect(source).toContain('typeof _scriptDir !== "undefined"');
  });

  it('transforms only tfjs-backend-wasm/dist/backend_wasm.js', () => {
    const transform = wasmThreadsPlugin().transform as (code: string, id: string) => { code: string } | null;
    expect(transform('const x = 1;', '/app/src/main.ts')).toBeNull();
    expect(transform(readFileSync(backendJs, 'utf8'), `${backendJs}?v=1`)!.code).not.toContain('.toString()], {');
  });

  it('fails the build loudly when tfjs changes the code it patches', () => {
    expect(() => patchWasmBackendSource('export const nothing = 0;', '')).toThrow(/wasmThreadsPlugin/);
  });
});

describe('defaultWasmThreads', () => {
  it('uses every core on small machines, half beyond 4, at most 8', () => {
    expect([1, 2, 3, 4, 6, 8, 16, 64].map(defaultWasmThreads)).toEqual([1, 2, 3, 4, 3, 4, 8, 8]);
    expect(defaultWasmThreads(0)).toBe(1);
  });
});
