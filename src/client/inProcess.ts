/**
 * Workers on the calling thread: the same handler and dispatcher, no Worker. Used by the unit
 * tests (testing/), which drive the engine and the data service exactly as the page does but in
 * Node; the command line calls the engine's parts directly, and the page always uses real workers.
 */
import { Engine, engineSerial, type EngineEnv } from '../engine/engine';
import { PROTOCOL_VERSION, type EngineEvent, type Requests } from '../protocol/protocol';
import type { RequestMap, RpcEvent, RpcFromWorker, RpcToWorker } from '../protocol/rpc';
import { createDispatcher, type Handler } from '../worker/dispatcher';
import type { WorkerPort } from './rpcClient';
import { WorkerEngine } from './workerClient';

/** A fake Worker whose messages go straight to a dispatcher on this thread (asynchronously, as a worker's would). */
export function localPort<R extends RequestMap, E extends RpcEvent>(
  makeHandler: (emit: (e: E) => void) => Handler<R, E>,
  version: number,
  options: { serial?: boolean | ((kind: keyof R & string) => boolean) } = {},
): WorkerPort {
  const port: WorkerPort = {
    onmessage: null,
    onerror: null,
    postMessage: (m: RpcToWorker<R>) => queueMicrotask(() => dispatch(m)),
    terminate: () => {},
  } as WorkerPort;
  const post = (m: RpcFromWorker<R, E>) => queueMicrotask(() => port.onmessage?.({ data: m } as MessageEvent));
  const dispatch = createDispatcher(makeHandler((event) => post({ type: 'event', event })), post, version, options);
  return port;
}

export function createInProcessEngine(env: Omit<EngineEnv, 'emit'>): WorkerEngine {
  return new WorkerEngine(
    localPort<Requests, EngineEvent>((emit) => {
      const engine = new Engine({ ...env, emit });
      return (kind, params, ctx) => engine.handle(kind, params, ctx);
    }, PROTOCOL_VERSION, { serial: engineSerial }),
  );
}
