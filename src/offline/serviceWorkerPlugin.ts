/**
 * Builds the service worker (serviceWorker.ts) into the production build as /sw.js, once every
 * other file is written: the precache list is the final output folder's files (precache.ts says
 * which), and the build id is a hash of their bytes, so any change to any file makes a new worker
 * that the open pages offer as an update. Bundled on its own with esbuild: a service worker
 * script must be one file, sharing no chunk with the app.
 */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { Plugin } from 'vite';
import { precacheList } from './precache.js';

const ENTRY = fileURLToPath(new URL('./serviceWorker.ts', import.meta.url));

function filesUnder(dir: string, base = dir): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? filesUnder(full, base) : [path.relative(base, full).split(path.sep).join('/')];
  });
}

/** The worker's source for the files in `outDir`. */
export async function serviceWorkerSource(outDir: string): Promise<{ source: string; files: string[]; build: string }> {
  const files = precacheList(filesUnder(outDir));
  const hash = createHash('sha256');
  for (const f of files) hash.update(f).update('\0').update(readFileSync(path.join(outDir, f)));
  const buildId = hash.digest('hex').slice(0, 16);
  const out = await build({
    entryPoints: [ENTRY],
    bundle: true,
    write: false,
    format: 'iife',
    target: 'es2022',
    minify: true,
    define: { __PRECACHE__: JSON.stringify({ build: buildId, files }) },
  });
  return { source: out.outputFiles[0].text, files, build: buildId };
}

export function serviceWorkerPlugin(): Plugin {
  let outDir = '';
  return {
    name: 'studio-service-worker',
    apply: 'build',
    configResolved(config) {
      outDir = path.resolve(config.root, config.build.outDir);
    },
    async closeBundle() {
      const { source } = await serviceWorkerSource(outDir);
      writeFileSync(path.join(outDir, 'sw.js'), source);
    },
  };
}
