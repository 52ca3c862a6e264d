/// <reference types="vitest/config" />
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';
import { wasmThreadsPlugin } from './src/backend/wasmThreadsPlugin.js';

// Cross-origin isolation lets the WASM backend use threads (SharedArrayBuffer). `require-corp`
// rather than `credentialless`: every browser with WASM threads supports it, and the app's only
// cross-origin requests are CORS fetches (the Hugging Face Hub and its CDN), which it allows.
// A static host must send the same two headers, or WASM runs on one thread.
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  // wasmThreadsPlugin: tfjs-wasm's threaded build only starts from a bundle with this fix; the
  // engine (and so tfjs) runs in a worker, whose bundle takes only worker.plugins.
  plugins: [react(), wasmThreadsPlugin()],
  worker: { format: 'es', plugins: () => [wasmThreadsPlugin()] },
  server: { headers: isolation },
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
    setupFiles: ['src/testing/setup.ts'],
  },
});
