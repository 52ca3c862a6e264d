/**
 * bench.html: runs one suite in a worker (the engine on ?backend=…[&threads=N][&shape=160m|410m&run=decode|lora|full],
 * sequence packing on ?backend=…&suite=packing, or ?suite=data); lines go to
 * the console for scripts/bench.ts. Meanwhile the page times its own timer ticks, so a run that
 * blocked the main thread would show as a long stall.
 */
import alpaca from '../../fixtures/data/course/alpaca_data_first128.json';
import lamini from '../../fixtures/data/course/lamini_docs.jsonl?raw';

const params = new URLSearchParams(location.search);
const suite = params.get('suite') ?? 'engine';
const out = document.getElementById('out')!;
const worker =
  suite === 'data'
    ? new Worker(new URL('./dataBench.worker.ts', import.meta.url), { type: 'module' })
    : new Worker(new URL('./bench.worker.ts', import.meta.url), { type: 'module' });

const TICK_MS = 10;
let last = performance.now();
let maxStall = 0;
const ticker = setInterval(() => {
  const now = performance.now();
  maxStall = Math.max(maxStall, now - last - TICK_MS);
  last = now;
}, TICK_MS);

function report(line: unknown): void {
  console.log(`BENCH ${JSON.stringify(line)}`);
  out.textContent += `${JSON.stringify(line)}\n`;
}

worker.onmessage = (e: MessageEvent<{ line?: Record<string, unknown>; done?: boolean; error?: string }>) => {
  const m = e.data;
  if (m.line) report(m.line);
  if (m.error) console.log(`BENCH_ERROR ${m.error}`);
  if (m.done || m.error) {
    clearInterval(ticker);
    if (suite === 'data') report({ figure: 'data_main_thread_max_stall_ms', value: Math.round(maxStall), tick_ms: TICK_MS });
    document.title = 'bench-done';
  }
};
const threads = params.get('threads');
const shape = params.get('shape');
worker.postMessage(
  suite === 'data'
    ? { rows: alpaca }
    : {
        backend: params.get('backend') ?? 'wasm',
        threads: threads ? Number(threads) : undefined,
        ...(shape ? { shape, run: params.get('run') ?? 'decode' } : {}),
        ...(suite === 'packing' ? { packingRows: lamini.trim().split('\n').map((l) => JSON.parse(l)) } : {}),
      },
);
