/**
 * EngineApi over a Web Worker: requests by id, per-request progress and token events,
 * cancellation through AbortSignal, and a clear error if the worker itself dies.
 */
import {
  CancelledError,
  PROTOCOL_VERSION,
  type EngineApi,
  type EngineEvent,
  type FromWorker,
  type ParamsOf,
  type RequestHooks,
  type RequestKind,
  type ResultOf,
  type ToWorker,
} from '../protocol/protocol';

interface Pending {
  resolve: (r: never) => void;
  reject: (e: Error) => void;
  hooks: RequestHooks;
}

export class WorkerEngine implements EngineApi {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly listeners = new Set<(e: EngineEvent) => void>();

  constructor(private readonly worker: Worker) {
    worker.onmessage = (e: MessageEvent<FromWorker>) => this.receive(e.data);
    worker.onerror = (e) => this.failAll(`the compute worker crashed (${e.message || 'unknown error'}): reload the page`);
  }

  request<K extends RequestKind>(kind: K, params: ParamsOf<K>, hooks: RequestHooks = {}): Promise<ResultOf<K>> {
    const id = this.nextId++;
    return new Promise<ResultOf<K>>((resolve, reject) => {
      if (hooks.signal?.aborted) return reject(new CancelledError());
      this.pending.set(id, { resolve: resolve as (r: never) => void, reject, hooks });
      hooks.signal?.addEventListener('abort', () => this.worker.postMessage({ type: 'cancel', id } satisfies ToWorker), { once: true });
      const message = { type: 'request', version: PROTOCOL_VERSION, id, kind, params } as ToWorker;
      // Move file contents into the worker instead of copying them (models are hundreds of MB).
      const transfer = kind === 'loadModel' ? transferables(params as ParamsOf<'loadModel'>) : [];
      this.worker.postMessage(message, transfer);
    });
  }

  onEvent(listener: (e: EngineEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  terminate(): void {
    this.worker.terminate();
    this.failAll('the engine was restarted');
  }

  private receive(m: FromWorker): void {
    if (m.type === 'event') {
      const e = m.event;
      if (e.type === 'progress') this.pending.get(e.requestId)?.hooks.onProgress?.(e);
      else if (e.type === 'token') this.pending.get(e.requestId)?.hooks.onToken?.(e);
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
    for (const p of this.pending.values()) p.reject(new Error(message));
    this.pending.clear();
  }
}

function transferables(p: ParamsOf<'loadModel'>): Transferable[] {
  return p.source.kind === 'files' ? p.source.files.map((f) => f.data) : [];
}
