/** bench.html: runs one backend's benchmarks in a worker; lines go to the console for scripts/bench.ts. */
const backend = new URLSearchParams(location.search).get('backend') ?? 'wasm';
const out = document.getElementById('out')!;
const worker = new Worker(new URL('./bench.worker.ts', import.meta.url), { type: 'module' });
worker.onmessage = (e: MessageEvent<{ line?: unknown; done?: boolean; error?: string }>) => {
  const m = e.data;
  if (m.line) {
    console.log(`BENCH ${JSON.stringify(m.line)}`);
    out.textContent += `${JSON.stringify(m.line)}\n`;
  }
  if (m.error) console.log(`BENCH_ERROR ${m.error}`);
  if (m.done || m.error) document.title = 'bench-done';
};
worker.postMessage({ backend });
