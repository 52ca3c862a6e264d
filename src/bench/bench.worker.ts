/// <reference lib="webworker" />
/** Runs the engine benchmarks for one backend and posts each result line. */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../backend/backend';
import { WASM_ASSET_URLS } from '../backend/wasmAssets';
import type { BackendName } from '../protocol/protocol';
import { runBenchmarks, type BenchLine } from './benchmarks';
import { runShapeBenchmark, type ShapeName, type ShapeRun } from './shapeBenchmarks';

self.onmessage = async (e: MessageEvent<{ backend: BackendName; threads?: number; shape?: ShapeName; run?: ShapeRun }>) => {
  try {
    tf.env().set('PROD', true);
    const info = await initBackend(e.data.backend, {
      wasmPaths: WASM_ASSET_URLS,
      wasmThreads: e.data.threads,
    });
    const emit = (line: BenchLine) => self.postMessage({ line });
    // One shape measurement per worker: the WASM heap then shows that measurement's peak.
    if (e.data.shape && e.data.run) await runShapeBenchmark(info, e.data.shape, e.data.run, emit);
    else await runBenchmarks(info, emit);
    self.postMessage({ done: true });
  } catch (err) {
    self.postMessage({ error: (err as Error).message });
  }
};
