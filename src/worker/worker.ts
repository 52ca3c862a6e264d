/// <reference lib="webworker" />
/** Worker entry: all tensors live here, off the page's main thread. */
import { WASM_ASSET_URLS } from '../backend/wasmAssets';
import { Engine, engineSerial } from '../engine/engine';
import { PROTOCOL_VERSION, type EngineEvent, type FromWorker, type Requests, type ToWorker } from '../protocol/protocol';
import { opfsCheckpointStore } from '../train/checkpointStore';
import { createDispatcher } from './dispatcher';

const post = (m: FromWorker) => self.postMessage(m);
const engine = new Engine({
  wasmPaths: WASM_ASSET_URLS,
  checkpoints: opfsCheckpointStore(),
  bundledTokenizer: async () => (await fetch(`${import.meta.env.BASE_URL}tokenizers/pythia/tokenizer.json`)).json(),
  emit: (event) => post({ type: 'event', event }),
});
const dispatch = createDispatcher<Requests, EngineEvent>((kind, params, ctx) => engine.handle(kind, params, ctx), post, PROTOCOL_VERSION, { serial: engineSerial });
self.onmessage = (e: MessageEvent<ToWorker>) => dispatch(e.data);
