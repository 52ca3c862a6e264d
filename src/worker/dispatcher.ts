/**
 * Routes protocol messages to a handler, with cancellation by request id and errors as their own
 * message. The engine runs one job at a time (a model must not be swapped out under a running
 * generation), except the few kinds that only flip a flag (pause a run); the data worker runs jobs
 * side by side (its long ones yield), so a token view is not stuck behind a count of 300,000 rows.
 */
import type { JobContext, RequestMap, RpcEvent, RpcFromWorker, RpcToWorker } from '../protocol/rpc';

export type Handler<R extends RequestMap, E extends RpcEvent> = <K extends keyof R & string>(
  kind: K,
  params: R[K]['params'],
  ctx: JobContext<E>,
) => Promise<R[K]['result']>;

export function createDispatcher<R extends RequestMap, E extends RpcEvent>(
  handle: Handler<R, E>,
  post: (m: RpcFromWorker<R, E>) => void,
  version: number,
  { serial = true }: { serial?: boolean | ((kind: keyof R & string) => boolean) } = {},
): (m: RpcToWorker<R>) => void {
  const controllers = new Map<number, AbortController>();
  let queue: Promise<unknown> = Promise.resolve();
  const emit = (event: E) => post({ type: 'event', event });

  return (m) => {
    if (m.type === 'cancel') {
      controllers.get(m.id)?.abort();
      return;
    }
    const { id } = m;
    if (m.version !== version) {
      post({ type: 'error', id, message: `page and worker speak protocol ${m.version} and ${version}: reload the page`, cancelled: false });
      return;
    }
    const controller = new AbortController();
    controllers.set(id, controller);
    const run = async () => {
      try {
        if (controller.signal.aborted) throw new DOMException('cancelled', 'AbortError');
        const result = await handle(m.kind as keyof R & string, m.params, { requestId: id, signal: controller.signal, emit });
        post({ type: 'result', id, kind: m.kind, result } as RpcFromWorker<R, E>);
      } catch (e) {
        const err = e as Error;
        post({ type: 'error', id, message: err?.message ?? String(e), cancelled: err?.name === 'AbortError' || controller.signal.aborted });
      } finally {
        controllers.delete(id);
      }
    };
    if (typeof serial === 'function' ? serial(m.kind as keyof R & string) : serial) queue = queue.then(run);
    else void run();
  };
}
