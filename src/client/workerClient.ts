/**
 * EngineApi over a Web Worker: the generic RPC client, with progress and token events routed to
 * their request's hooks and model files moved (not copied) into the worker.
 */
import {
  PROTOCOL_VERSION,
  type EngineApi,
  type EngineEvent,
  type ParamsOf,
  type RequestHooks,
  type RequestKind,
  type Requests,
  type ResultOf,
} from '../protocol/protocol';
import { RpcClient, type WorkerPort } from './rpcClient';

export class WorkerEngine implements EngineApi {
  private readonly rpc: RpcClient<Requests, EngineEvent>;

  constructor(worker: WorkerPort) {
    this.rpc = new RpcClient(worker, PROTOCOL_VERSION, 'the compute worker');
  }

  request<K extends RequestKind>(kind: K, params: ParamsOf<K>, hooks: RequestHooks = {}): Promise<ResultOf<K>> {
    return this.rpc.request(kind, params, {
      signal: hooks.signal,
      onEvent: (e) => {
        if (e.type === 'progress') hooks.onProgress?.(e);
        else if (e.type === 'token') hooks.onToken?.(e);
        else if (e.type === 'evalRow' || e.type === 'arcProgress') hooks.onEval?.(e);
        else if (e.type !== 'deviceLost') hooks.onTrain?.(e);
      },
      transfer: kind === 'loadModel' ? transferables(params as ParamsOf<'loadModel'>) : [],
    });
  }

  onEvent(listener: (e: EngineEvent) => void): () => void {
    return this.rpc.onEvent(listener);
  }

  terminate(): void {
    this.rpc.terminate('the engine was restarted');
  }
}

function transferables(p: ParamsOf<'loadModel'>): Transferable[] {
  return p.source.kind === 'files' ? p.source.files.map((f) => f.data) : [];
}
