/**
 * Build-time fix that lets tfjs-backend-wasm 4.22's threaded SIMD build run from a bundle.
 *
 * Why: tfjs starts each pthread worker by handing it the Emscripten factory as source text,
 * `new Blob(['var WasmBackendModuleThreadedSimd = ' + factory.toString()])`. The factory is an
 * inner function that reads `_scriptDir`, a variable of the IIFE around it; `toString()` keeps
 * the reference but not the closure. Unminified, every read is guarded (`typeof _scriptDir`), but
 * a minifier knows the variable is declared, renames it (`e`) and folds the guard away, so each
 * worker throws "ReferenceError: e is not defined" and the backend never starts.
 *
 * Fix: hand the workers the package's own unminified factory file (read here at build time)
 * instead of the stringified bundled function. The file defines the same global and guards its
 * CommonJS/AMD exports, so it runs as a classic worker script as is. The main thread keeps using
 * the bundled factory; only the text given to workers changes.
 *
 * Applied to the production build (rolldown) and to the dev server's dependency pre-bundle.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Plugin } from 'vite';

const TARGET = /[\\/]@tensorflow[\\/]tfjs-backend-wasm[\\/]dist[\\/]backend_wasm\.js$/;
const STRINGIFIED = /`var WasmBackendModuleThreadedSimd = `\s*\+\s*wasmFactoryThreadedSimd\.toString\(\)/;

/** The unminified Emscripten factory of the threaded SIMD build, as shipped in the package. */
function factorySource(): string {
  const require = createRequire(import.meta.url);
  const pkg = require.resolve('@tensorflow/tfjs-backend-wasm/package.json');
  return readFileSync(pkg.replace(/package\.json$/, 'wasm-out/tfjs-backend-wasm-threaded-simd.js'), 'utf8');
}

/** Rewrites tfjs's worker-script Blob to the package's unminified factory (see above). */
export function patchWasmBackendSource(code: string, source: string = factorySource()): string {
  if (!STRINGIFIED.test(code)) {
    throw new Error(
      'tfjs-backend-wasm: the threaded build no longer stringifies its factory as 4.22 does; ' +
        'check src/backend/wasmThreadsPlugin.ts against the installed version',
    );
  }
  return code.replace(STRINGIFIED, () => JSON.stringify(source));
}

/** The Vite plugin (app and worker bundles; the dev server's unminified pre-bundle needs no fix). */
export function wasmThreadsPlugin(): Plugin {
  return {
    name: 'tfjs-wasm-threads',
    transform(code: string, id: string) {
      if (!TARGET.test(id.split('?')[0])) return null;
      return { code: patchWasmBackendSource(code), map: null };
    },
  };
}
