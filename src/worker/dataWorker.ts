/// <reference lib="webworker" />
/** Data worker entry: parsing and tokenizing run here so the page stays responsive. */
import { DataService } from '../engine/dataService';
import { tokenizerFromJson } from '../data/tokenizer';
import { DATA_PROTOCOL_VERSION, type DataEvent, type DataRequests } from '../protocol/dataProtocol';
import type { RpcFromWorker, RpcToWorker } from '../protocol/rpc';
import { createDispatcher } from './dispatcher';

const service = new DataService(async () => {
  const res = await fetch(`${import.meta.env.BASE_URL}tokenizers/pythia/tokenizer.json`);
  if (!res.ok) throw new Error(`tokenizer.json: HTTP ${res.status}`);
  return tokenizerFromJson(await res.json());
});
const post = (m: RpcFromWorker<DataRequests, DataEvent>) => self.postMessage(m);
const dispatch = createDispatcher<DataRequests, DataEvent>((kind, params, ctx) => service.handle(kind, params, ctx), post, DATA_PROTOCOL_VERSION, { serial: false });
self.onmessage = (e: MessageEvent<RpcToWorker<DataRequests>>) => dispatch(e.data);
