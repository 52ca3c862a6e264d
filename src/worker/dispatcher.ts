/**
 * Routes protocol messages to the engine: one job at a time (a model must not be swapped
 * out under a running generation), cancellation by request id, errors as their own message.
 */
import type { Engine } from '../engine/engine';
import { PROTOCOL_VERSION, type EngineEvent, type FromWorker, type ToWorker } from '../protocol/protocol';

export function createDispatcher(engine: Engine, post: (m: FromWorker) => void): (m: ToWorker) => void {
  const controllers = new Map<number, AbortController>();
  let queue: Promise<unknown> = Promise.resolve();
  const emit = (event: EngineEvent) => post({ type: 'event', event });

  return (m) => {
    if (m.type === 'cancel') {
      controllers.get(m.id)?.abort();
      return;
    }
    const { id } = m;
    if (m.version !== PROTOCOL_VERSION) {
      post({ type: 'error', id, message: `page and worker speak protocol ${m.version} and ${PROTOCOL_VERSION}: reload the page`, cancelled: false });
      return;
    }
    const controller = new AbortController();
    controllers.set(id, controller);
    queue = queue.then(async () => {
      try {
        if (controller.signal.aborted) throw new DOMException('cancelled', 'AbortError');
        const result = await engine.handle(m.kind, m.params, { requestId: id, signal: controller.signal, emit });
        post({ type: 'result', id, kind: m.kind, result } as FromWorker);
      } catch (e) {
        const err = e as Error;
        post({ type: 'error', id, message: err?.message ?? String(e), cancelled: err?.name === 'AbortError' || controller.signal.aborted });
      } finally {
        controllers.delete(id);
      }
    });
  };
}
