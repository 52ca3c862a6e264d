/// <reference lib="webworker" />
/** Runs the engine benchmarks for one backend and posts each result line. */
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../backend/backend';
import type { BackendName } from '../protocol/protocol';
import { runBenchmarks } from './benchmarks';

self.onmessage = async (e: MessageEvent<{ backend: BackendName }>) => {
  try {
    tf.env().set('PROD', true);
    const info = await initBackend(e.data.backend, {
      wasmPaths: { 'tfjs-backend-wasm.wasm': wasmPlain, 'tfjs-backend-wasm-simd.wasm': wasmSimd, 'tfjs-backend-wasm-threaded-simd.wasm': wasmThreaded },
    });
    await runBenchmarks(info, (line) => self.postMessage({ line }));
    self.postMessage({ done: true });
  } catch (err) {
    self.postMessage({ error: (err as Error).message });
  }
};
