/**
 * The message shapes every worker in the studio speaks (the engine worker and the data worker):
 * requests correlated by id, a cancel message, results, errors and events. A protocol is a map
 * `kind → {params, result}` plus an event union; this file turns it into the messages.
 */

export type RequestMap = Record<string, { params: unknown; result: unknown }>;

/** Events tied to a request carry its id; the rest (a lost device) go to every listener. */
export interface RpcEvent {
  type: string;
  requestId?: number;
}

export type RpcToWorker<R extends RequestMap> =
  | { [K in keyof R]: { type: 'request'; version: number; id: number; kind: K; params: R[K]['params'] } }[keyof R]
  | { type: 'cancel'; id: number };

export type RpcFromWorker<R extends RequestMap, E extends RpcEvent> =
  | { [K in keyof R]: { type: 'result'; id: number; kind: K; result: R[K]['result'] } }[keyof R]
  | { type: 'error'; id: number; message: string; cancelled: boolean }
  | { type: 'event'; event: E };

/** What a worker-side handler gets with each job. */
export interface JobContext<E extends RpcEvent> {
  requestId: number;
  signal: AbortSignal;
  emit: (e: E) => void;
}

export class CancelledError extends Error {
  constructor() {
    super('cancelled');
    this.name = 'CancelledError';
  }
}
