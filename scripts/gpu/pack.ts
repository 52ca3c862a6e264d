/**
 * npm run gpu:pack: what the GPU machine needs besides the repository, in .gpu/ (git-ignored,
 * carried with the tree; about 30 MB of the 64 MiB allowed): the WebGPU bench and the export
 * fixture maker as single-file bundles that need no node_modules, and Dawn's dawn.node for linux-x64.
 */
import { copyFileSync, mkdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { build } from 'esbuild';

const OUT = '.gpu';
mkdirSync(OUT, { recursive: true });
const entries = { bench: 'scripts/gpu/bench.ts', export_fixtures: 'scripts/export_fixtures.ts' };
await build({
  entryPoints: entries,
  outdir: OUT,
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  conditions: ['node'],
  // The webgpu package is loaded only without NEOX_DAWN_NODE; its CommonJS dependencies need require.
  external: ['webgpu'],
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  ignoreAnnotations: true, // tfjs marks its packages side-effect free, but importing a backend registers it
  logLevel: 'warning',
});
const require = createRequire(import.meta.url);
const dawn = path.join(path.dirname(require.resolve('webgpu/package.json')), 'dist', 'linux-x64', 'dawn.node');
copyFileSync(dawn, path.join(OUT, 'dawn.node'));
for (const f of ['bench.mjs', 'export_fixtures.mjs', 'dawn.node']) {
  process.stdout.write(`${OUT}/${f}: ${(statSync(path.join(OUT, f)).size / 2 ** 20).toFixed(1)} MiB\n`);
}
