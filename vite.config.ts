/// <reference types="vitest/config" />
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';
import { wasmThreadsPlugin } from './src/backend/wasmThreadsPlugin.js';
import { serviceWorkerPlugin } from './src/offline/serviceWorkerPlugin.js';

// Cross-origin isolation lets the WASM backend use threads (SharedArrayBuffer). `require-corp`
// rather than `credentialless`: every browser with WASM threads supports it, and the app's only
// cross-origin requests are CORS fetches (the Hugging Face Hub and its CDN), which it allows.
// A static host should send the same two headers; where it cannot, the studio's service worker
// (src/offline/) adds them, after one automatic reload.
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  // wasmThreadsPlugin: tfjs-wasm's threaded build only starts from a bundle with this fix; the
  // engine (and so tfjs) runs in a worker, whose bundle takes only worker.plugins.
  // serviceWorkerPlugin: /sw.js, for isolation where the host sends no headers, and offline use.
  plugins: [react(), wasmThreadsPlugin(), serviceWorkerPlugin()],
  worker: { format: 'es', plugins: () => [wasmThreadsPlugin()] },
  server: { headers: isolation },
  // The workers' dependencies, which the dev server's first scan (from index.html) does not reach:
  // listed, they are pre-bundled before the first page load rather than found by it, which
  // re-bundled them and reloaded the page ("optimized dependencies changed").
  optimizeDeps: {
    include: [
      '@huggingface/gguf',
      '@huggingface/transformers',
      '@tensorflow/tfjs-backend-cpu',
      '@tensorflow/tfjs-backend-wasm',
      '@tensorflow/tfjs-backend-webgpu',
      '@tensorflow/tfjs-core/dist/register_all_gradients',
    ],
  },
  preview: { headers: isolation },
  build: {
    target: 'es2022',
    chunkSizeWarningLimit: 4096,
    // bench.html runs the engine benchmarks (npm run bench) against the production build.
    rollupOptions: { input: { main: 'index.html', bench: 'bench.html' } },
  },
  test: {
    include: ['src/**/*.test.ts'],
    testTimeout: 60_000,
    // Two test files at a time, not Vitest's default of cores − 1 (one on a 2-core machine, leaving
    // a core idle): measured 7.7 min against 10.9 min for the whole suite.
    maxWorkers: 2,
    setupFiles: ['src/testing/setup.ts'],
  },
});
