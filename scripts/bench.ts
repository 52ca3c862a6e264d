/**
 * npm run bench: builds the app, serves it with COOP/COEP (so WASM may use threads), and runs
 * the engine benchmarks in headless Chromium once per backend, then the data pipeline's. One JSON line per figure on
 * stdout; all lines also in .bench/results.jsonl. Not a test: nothing here passes or fails.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { chromium } from '@playwright/test';
import { CHROMIUM_ARGS } from '../playwright.config';

const PORT = 4174;
/** The build to serve (`vite build --outDir DIR`); the default dist when unset. */
const OUT_DIR = process.env.BENCH_OUT_DIR;
/** Backends to run, in order; `wasm@1` is WASM held to N threads (default: the backend's own choice). */
const BACKENDS = (process.env.BENCH_BACKENDS ?? 'wasm,webgpu').split(',').filter(Boolean);
/**
 * The bigger shapes (src/bench/shapeBenchmarks.ts), one page each: BENCH_SHAPES=160m,410m runs
 * decoding, LoRA and full fine-tune steps of each on WASM; off by default (about 15 minutes).
 */
const SHAPES = (process.env.BENCH_SHAPES ?? '').split(',').filter(Boolean);
/** Which of the shape measurements to run (BENCH_SHAPE_RUNS=decode,lora,full, the default). */
const SHAPE_RUNS = (process.env.BENCH_SHAPE_RUNS ?? 'decode,lora,full').split(',').filter(Boolean);
/** BENCH_SHAPE_THREADS=1 holds the shapes' WASM to that many threads (default: the backend's own choice). */
const SHAPE_THREADS = process.env.BENCH_SHAPE_THREADS ? `&threads=${Number(process.env.BENCH_SHAPE_THREADS)}` : '';
/** The data suite (parse, tokenize and batch 50,000 examples) runs unless BENCH_DATA=0. */
const DATA = process.env.BENCH_DATA !== '0';
/** Sequence packing on lamini_docs (padded against packed training steps, WASM; a few minutes) runs unless BENCH_PACKING=0. */
const PACKING = process.env.BENCH_PACKING !== '0';

async function waitForServer(url: string, ms: number, exited: () => boolean): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // With --strictPort vite exits when the port is taken: never measure someone else's server.
    if (exited()) throw new Error(`vite preview exited: is port ${PORT} in use by another server?`);
    if (await fetch(url).then((r) => r.ok, () => false)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`preview server did not start at ${url}`);
}

async function main(): Promise<void> {
  const outDir = OUT_DIR ? ['--outDir', OUT_DIR] : [];
  // detached: its own process group, so the vite process under npx stops with it (see finally).
  const server = spawn('npx', ['vite', 'preview', '--port', String(PORT), '--strictPort', '--host', '127.0.0.1', ...outDir], { stdio: 'ignore', detached: true });
  const lines: string[] = [];
  const machine = { figure: 'machine', cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length, memory_gib: Math.round(os.totalmem() / 2 ** 30), node: process.version };
  try {
    await waitForServer(`http://127.0.0.1:${PORT}/bench.html`, 30_000, () => server.exitCode !== null);
    const browser = await chromium.launch({ executablePath: process.env.CHROME_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
    lines.push(JSON.stringify({ ...machine, browser: browser.version(), load_average: os.loadavg().map((l) => +l.toFixed(2)) }));
    console.log(lines[0]);
    const runs = [
      ...BACKENDS.map((b) => {
        const [name, threads] = b.split('@');
        return { label: b, query: `backend=${name}${threads ? `&threads=${threads}` : ''}` };
      }),
      ...SHAPES.flatMap((shape) => SHAPE_RUNS.map((run) => ({ label: `wasm ${shape} ${run}`, query: `backend=wasm${SHAPE_THREADS}&shape=${shape}&run=${run}` }))),
      ...(PACKING ? [{ label: 'wasm packing', query: 'backend=wasm&suite=packing' }] : []),
      ...(DATA ? [{ label: 'data', query: 'suite=data' }] : []),
    ];
    for (const { label: backend, query } of runs) {
      const page = await browser.newPage();
      page.on('console', (m) => {
        const text = m.text();
        if (text.startsWith('BENCH ')) {
          lines.push(text.slice(6));
          console.log(text.slice(6));
        } else if (text.startsWith('BENCH_ERROR ')) {
          const line = JSON.stringify({ backend, figure: 'error', message: text.slice(12) });
          lines.push(line);
          console.log(line);
        }
      });
      await page.goto(`http://127.0.0.1:${PORT}/bench.html?${query}`);
      await page.waitForFunction(() => document.title === 'bench-done', undefined, { timeout: 20 * 60_000 });
      await page.close();
    }
    await browser.close();
  } finally {
    if (server.pid && server.exitCode === null) process.kill(-server.pid);
  }
  mkdirSync('.bench', { recursive: true });
  writeFileSync('.bench/results.jsonl', `${lines.join('\n')}\n`);
}

main().catch((e) => {
  console.error(`error: ${(e as Error).message}`);
  process.exit(1);
});
