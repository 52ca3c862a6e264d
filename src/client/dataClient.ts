import { DATA_PROTOCOL_VERSION, type DataEvent, type DataRequests } from '../protocol/dataProtocol';
import { RpcClient } from './rpcClient';

export type DataClient = RpcClient<DataRequests, DataEvent>;

/** The studio's data worker: parsing and tokenizing, off the main thread. */
export function createDataClient(): DataClient {
  const worker = new Worker(new URL('../worker/dataWorker.ts', import.meta.url), { type: 'module', name: 'neox-data' });
  return new RpcClient(worker, DATA_PROTOCOL_VERSION, 'the data worker');
}
