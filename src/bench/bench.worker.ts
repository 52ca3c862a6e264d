/// <reference lib="webworker" />
/** Runs the engine benchmarks for one backend and posts each result line. */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../backend/backend';
import { WASM_ASSET_URLS } from '../backend/wasmAssets';
import type { BackendName } from '../protocol/protocol';
import { runBenchmarks } from './benchmarks';

self.onmessage = async (e: MessageEvent<{ backend: BackendName; threads?: number }>) => {
  try {
    tf.env().set('PROD', true);
    const info = await initBackend(e.data.backend, {
      wasmPaths: WASM_ASSET_URLS,
      wasmThreads: e.data.threads,
    });
    await runBenchmarks(info, (line) => self.postMessage({ line }));
    self.postMessage({ done: true });
  } catch (err) {
    self.postMessage({ error: (err as Error).message });
  }
};
