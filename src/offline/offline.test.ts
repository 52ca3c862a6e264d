/**
 * The service worker's parts that run outside a browser: the headers it adds, what it precaches
 * and its build id, and the page's side (the one isolation reload, the update offer) against a
 * fake ServiceWorkerContainer. The worker itself runs in the browser test (e2e/offline.spec.ts).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { applyUpdate, startAppShell, useAppShell, type ShellEnv } from './appShell';
import { SUPPLIED_BY, withIsolation } from './isolation';
import { precacheList } from './precache';
import { serviceWorkerSource } from './serviceWorkerPlugin';

describe('withIsolation', () => {
  it('adds COOP/COEP (and its mark) to a response without them, keeping status, body and other headers', async () => {
    const res = withIsolation(new Response('hello', { status: 203, headers: { 'Content-Type': 'text/html' } }));
    expect(res.status).toBe(203);
    expect(res.headers.get('Cross-Origin-Opener-Policy')).toBe('same-origin');
    expect(res.headers.get('Cross-Origin-Embedder-Policy')).toBe('require-corp');
    expect(res.headers.get('Content-Type')).toBe('text/html');
    expect(res.headers.get(SUPPLIED_BY)).toBe('service-worker');
    expect(await res.text()).toBe('hello');
  });

  it('leaves a response the server already isolated as it is', () => {
    const served = new Response('x', { headers: { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' } });
    expect(withIsolation(served)).toBe(served);
  });
});

describe('precache', () => {
  it('keeps the app shell and leaves out onnxruntime\'s 27 MB WASM, the benchmark page and the worker itself', () => {
    const built = ['index.html', 'assets/main-1.js', 'assets/worker-2.js', 'assets/tfjs-backend-wasm-simd-3.wasm', 'tokenizers/pythia/tokenizer.json', 'datasets/studio-help.jsonl', 'assets/ort-wasm-simd-threaded.asyncify-4.wasm', 'assets/ort-wasm-simd-threaded.asyncify-5.mjs', 'bench.html', 'assets/bench-6.js', 'assets/dataBench.worker-7.js', 'sw.js', 'assets/main-1.js.map'];
    expect(precacheList(built)).toEqual(['assets/main-1.js', 'assets/tfjs-backend-wasm-simd-3.wasm', 'assets/worker-2.js', 'datasets/studio-help.jsonl', 'index.html', 'tokenizers/pythia/tokenizer.json']);
  });

  it('the built worker lists the files, and its build id changes with any byte of them', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sw-'));
    try {
      mkdirSync(path.join(dir, 'assets'));
      writeFileSync(path.join(dir, 'index.html'), '<html></html>');
      writeFileSync(path.join(dir, 'assets', 'main-1.js'), 'console.log(1)');
      writeFileSync(path.join(dir, 'assets', 'ort-wasm-simd-threaded.asyncify-4.wasm'), 'big');
      const a = await serviceWorkerSource(dir);
      expect(a.files).toEqual(['assets/main-1.js', 'index.html']);
      expect(a.source).toContain('"assets/main-1.js"');
      expect(a.source).not.toContain('ort-wasm');
      expect(a.source).toContain(a.build);
      writeFileSync(path.join(dir, 'index.html'), '<html> </html>');
      expect((await serviceWorkerSource(dir)).build).not.toBe(a.build);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** A ServiceWorkerContainer and registration as far as the page uses them. */
function fakeBrowser(opts: { controlled: boolean; isolated: boolean; supplied?: boolean }) {
  const listeners: Record<string, (() => void)[]> = {};
  const regListeners: Record<string, (() => void)[]> = {};
  const messages: unknown[] = [];
  const worker = (state: string) => {
    const l: (() => void)[] = [];
    return {
      state,
      postMessage: (m: unknown) => messages.push(m),
      addEventListener: (_: string, f: () => void) => l.push(f),
      become(s: string) {
        this.state = s;
        l.forEach((f) => f());
      },
    };
  };
  const registration = { waiting: null as ReturnType<typeof worker> | null, installing: null as ReturnType<typeof worker> | null, addEventListener: (t: string, f: () => void) => (regListeners[t] ??= []).push(f) };
  const container = {
    controller: opts.controlled ? {} : null,
    register: async () => registration,
    addEventListener: (t: string, f: () => void) => (listeners[t] ??= []).push(f),
  };
  const session = new Map<string, string>();
  let reloads = 0;
  const env: ShellEnv = {
    serviceWorker: container as unknown as ServiceWorkerContainer,
    isolated: () => opts.isolated,
    reload: () => reloads++,
    session: { getItem: (k) => session.get(k) ?? null, setItem: (k, v) => void session.set(k, v) },
    fetch: async () => new Response('', { headers: opts.supplied ? { [SUPPLIED_BY]: 'service-worker' } : {} }),
    base: new URL('https://studio.example/app/'),
  };
  return {
    env,
    registration,
    worker,
    messages,
    reloads: () => reloads,
    fire: (t: string) => (listeners[t] ?? []).forEach((f) => f()),
    fireReg: (t: string) => (regListeners[t] ?? []).forEach((f) => f()),
    control: () => {
      container.controller = {};
    },
    /** A new worker found by the registration, still installing. */
    install: () => {
      const next = worker('installing');
      registration.installing = next;
      (regListeners.updatefound ?? []).forEach((f) => f());
      return next;
    },
  };
}

describe('the page\'s side', () => {
  beforeEach(() => useAppShell.setState({ isolation: null, updateReady: false }));

  it('on a host without the headers: reloads once, when the worker takes control, and never again in that tab', async () => {
    const b = fakeBrowser({ controlled: false, isolated: false });
    await startAppShell(b.env);
    expect(b.reloads()).toBe(0);
    b.control();
    b.fire('controllerchange');
    expect(b.reloads()).toBe(1);
    // The reloaded page is still not isolated (a browser that ignores the headers): no loop.
    const again = { ...b.env };
    await startAppShell(again);
    expect(b.reloads()).toBe(1);
    expect(useAppShell.getState().isolation).toBe('none');
  });

  it('says who isolated the page: the worker (its mark on the page\'s response) or the server', async () => {
    const viaWorker = fakeBrowser({ controlled: true, isolated: true, supplied: true });
    await startAppShell(viaWorker.env);
    expect(useAppShell.getState().isolation).toBe('service-worker');
    const viaServer = fakeBrowser({ controlled: true, isolated: true });
    await startAppShell(viaServer.env);
    expect(useAppShell.getState().isolation).toBe('server');
    expect(viaServer.reloads() + viaWorker.reloads()).toBe(0);
  });

  it('offers a new build once it is installed, and takes it (and reloads) only when asked', async () => {
    const b = fakeBrowser({ controlled: true, isolated: true });
    await startAppShell(b.env);
    const next = b.install();
    expect(useAppShell.getState().updateReady).toBe(false);
    next.become('installed');
    expect(useAppShell.getState().updateReady).toBe(true);
    expect(b.reloads()).toBe(0);
    applyUpdate();
    expect(b.messages).toEqual([{ type: 'skip-waiting' }]);
    b.fire('controllerchange');
    expect(b.reloads()).toBe(1);
  });

  it('the first install is no update', async () => {
    const b = fakeBrowser({ controlled: false, isolated: true });
    await startAppShell(b.env);
    b.install().become('installed');
    expect(useAppShell.getState().updateReady).toBe(false);
  });
});
