/// <reference lib="webworker" />
/** Worker entry: all tensors live here, off the page's main thread. */
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { Engine } from '../engine/engine';
import type { FromWorker, ToWorker } from '../protocol/protocol';
import { createDispatcher } from './dispatcher';

const post = (m: FromWorker) => self.postMessage(m);
const engine = new Engine({
  wasmPaths: { 'tfjs-backend-wasm.wasm': wasmPlain, 'tfjs-backend-wasm-simd.wasm': wasmSimd, 'tfjs-backend-wasm-threaded-simd.wasm': wasmThreaded },
  bundledTokenizer: async () => (await fetch(`${import.meta.env.BASE_URL}tokenizers/pythia/tokenizer.json`)).json(),
  emit: (event) => post({ type: 'event', event }),
});
const dispatch = createDispatcher(engine, post);
self.onmessage = (e: MessageEvent<ToWorker>) => dispatch(e.data);
