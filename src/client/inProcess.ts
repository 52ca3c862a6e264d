/**
 * EngineApi on the calling thread: the same engine and dispatcher, no worker.
 * Used by tests and the command line, and as a fallback where workers are unavailable.
 */
import { Engine, type EngineEnv } from '../engine/engine';
import { createDispatcher } from '../worker/dispatcher';
import { WorkerEngine } from './workerClient';
import type { FromWorker, ToWorker } from '../protocol/protocol';

/** A fake Worker whose messages go straight to a dispatcher on this thread (asynchronously, as a worker's would). */
class LocalPort {
  onmessage: ((e: MessageEvent<FromWorker>) => void) | null = null;
  onerror: ((e: ErrorEvent) => void) | null = null;
  private readonly dispatch: (m: ToWorker) => void;

  constructor(env: Omit<EngineEnv, 'emit'>) {
    const post = (m: FromWorker) => queueMicrotask(() => this.onmessage?.({ data: m } as MessageEvent<FromWorker>));
    const engine = new Engine({ ...env, emit: (event) => post({ type: 'event', event }) });
    this.dispatch = createDispatcher(engine, post);
  }

  postMessage(m: ToWorker): void {
    queueMicrotask(() => this.dispatch(m));
  }

  terminate(): void {}
}

export function createInProcessEngine(env: Omit<EngineEnv, 'emit'>): WorkerEngine {
  return new WorkerEngine(new LocalPort(env) as unknown as Worker);
}
