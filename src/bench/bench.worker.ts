/// <reference lib="webworker" />
/** Runs the engine benchmarks for one backend and posts each result line. */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../backend/backend';
import { WASM_ASSET_URLS } from '../backend/wasmAssets';
import type { BackendName } from '../protocol/protocol';
import { tokenizerFromJson } from '../data/tokenizer';
import type { Row } from '../data/types';
import { matmulRoofline, runBenchmarks, type BenchLine } from './benchmarks';
import { encodeCourseData, runPackingBenchmarks } from './packingBenchmarks';
import { runShapeBenchmark, type ShapeName, type ShapeRun } from './shapeBenchmarks';

self.onmessage = async (e: MessageEvent<{ backend: BackendName; threads?: number; shape?: ShapeName; run?: ShapeRun; packingRows?: Row[] }>) => {
  try {
    tf.env().set('PROD', true);
    const info = await initBackend(e.data.backend, {
      wasmPaths: WASM_ASSET_URLS,
      wasmThreads: e.data.threads,
    });
    const emit = (line: BenchLine) => self.postMessage({ line });
    // One shape measurement per worker: the WASM heap then shows that measurement's peak.
    if (e.data.shape && e.data.run) await runShapeBenchmark(info, e.data.shape, e.data.run, emit);
    else if (e.data.packingRows) {
      const tokenizer = tokenizerFromJson(await (await fetch(`${import.meta.env.BASE_URL}tokenizers/pythia/tokenizer.json`)).json());
      const gflops = await matmulRoofline(1024);
      const base = { backend: info.name, wasmThreads: info.wasmThreads };
      emit({ ...base, figure: 'matmul_gflops', value: +gflops.toFixed(2), n: 1024 });
      await runPackingBenchmarks(info, encodeCourseData(e.data.packingRows, tokenizer), gflops, base, emit);
    }
    else await runBenchmarks(info, emit);
    self.postMessage({ done: true });
  } catch (err) {
    self.postMessage({ error: (err as Error).message });
  }
};
