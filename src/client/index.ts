import type { EngineApi } from '../protocol/protocol';
import { WorkerEngine } from './workerClient';

/** The studio's engine: a module Web Worker that owns the model and every tensor. */
export function createEngine(): EngineApi {
  return new WorkerEngine(new Worker(new URL('../worker/worker.ts', import.meta.url), { type: 'module', name: 'neox-engine' }));
}
