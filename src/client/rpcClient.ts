/**
 * The page's side of a worker protocol: requests by id, per-request events, cancellation through
 * AbortSignal, and a clear error for every pending request if the worker itself dies.
 */
import { CancelledError, type RequestMap, type RpcEvent, type RpcFromWorker, type RpcToWorker } from '../protocol/rpc';

export interface RpcHooks<E> {
  /** Events that carry this request's id. */
  onEvent?: (e: E) => void;
  signal?: AbortSignal;
  /** Buffers to move into the worker instead of copying (model files are hundreds of MB). */
  transfer?: Transferable[];
}

interface Pending<E> {
  resolve: (r: never) => void;
  reject: (e: Error) => void;
  onEvent?: (e: E) => void;
}

/** The part of Worker the client uses; an in-process port implements it too. */
export type WorkerPort = Pick<Worker, 'postMessage' | 'terminate'> & {
  onmessage: ((e: MessageEvent) => void) | null;
  onerror: ((e: ErrorEvent) => void) | null;
};

export class RpcClient<R extends RequestMap, E extends RpcEvent> {
  private nextId = 1;
  private readonly pending = new Map<number, Pending<E>>();
  private readonly listeners = new Set<(e: E) => void>();
  /** Why the worker can no longer answer (crashed or terminated); later requests fail at once with it. */
  private dead: string | null = null;

  constructor(
    private readonly worker: WorkerPort,
    private readonly version: number,
    /** Names the worker in the crash message, e.g. "the compute worker". */
    name: string,
  ) {
    worker.onmessage = (e: MessageEvent<RpcFromWorker<R, E>>) => this.receive(e.data);
    worker.onerror = (e) => this.failAll(`${name} crashed (${e.message || 'unknown error'}): reload the page`);
  }

  request<K extends keyof R & string>(kind: K, params: R[K]['params'], hooks: RpcHooks<E> = {}): Promise<R[K]['result']> {
    const id = this.nextId++;
    return new Promise<R[K]['result']>((resolve, reject) => {
      if (this.dead) return reject(new Error(this.dead));
      if (hooks.signal?.aborted) return reject(new CancelledError());
      this.pending.set(id, { resolve: resolve as (r: never) => void, reject, onEvent: hooks.onEvent });
      hooks.signal?.addEventListener('abort', () => this.worker.postMessage({ type: 'cancel', id } satisfies RpcToWorker<R>), { once: true });
      const message = { type: 'request', version: this.version, id, kind, params } as RpcToWorker<R>;
      this.worker.postMessage(message, hooks.transfer ?? []);
    });
  }

  onEvent(listener: (e: E) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  terminate(reason: string): void {
    this.worker.terminate();
    this.failAll(reason);
  }

  private receive(m: RpcFromWorker<R, E>): void {
    if (m.type === 'event') {
      const e = m.event;
      if (e.requestId !== undefined) this.pending.get(e.requestId)?.onEvent?.(e);
      else for (const l of this.listeners) l(e);
      return;
    }
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    if (m.type === 'result') p.resolve(m.result as never);
    else p.reject(m.cancelled ? new CancelledError() : new Error(m.message));
  }

  private failAll(message: string): void {
    this.dead = message;
    for (const p of this.pending.values()) p.reject(new Error(message));
    this.pending.clear();
  }
}
