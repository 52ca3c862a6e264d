import { selectBackendInfo, selectIsolationSource, useAppShell, useStudio } from '../../state';
import { formatMiB } from '../format';

/** What the backend has to work with: the GPU adapter and its buffer limits, WASM threads, isolation. */
export function BackendDetails() {
  const info = useStudio(selectBackendInfo);
  const source = useAppShell(selectIsolationSource);
  if (!info) return null;
  const adapter = info.adapter ? [info.adapter.vendor, info.adapter.architecture, info.adapter.description].filter((s) => s !== '').join(' · ') : null;
  return (
    <dl className="backend-details" data-testid="backend-details">
      {info.adapter && (
        <div>
          <dt>Adapter</dt>
          <dd data-testid="backend-adapter">{adapter || 'unnamed (the browser hides the adapter info)'}</dd>
        </div>
      )}
      {info.limits && (
        <>
          <div>
            <dt>maxBufferSize</dt>
            <dd data-testid="backend-max-buffer">{formatMiB(info.limits.maxBufferSize)}</dd>
          </div>
          <div>
            <dt>maxStorageBufferBindingSize</dt>
            <dd data-testid="backend-max-binding">{formatMiB(info.limits.maxStorageBufferBindingSize)}</dd>
          </div>
        </>
      )}
      <div>
        <dt>WASM threads</dt>
        <dd data-testid="backend-wasm-threads">{info.wasmThreads ?? 'n/a'}</dd>
      </div>
      <div>
        <dt>Cross-origin isolated</dt>
        <dd data-testid="backend-isolated">
          {!info.crossOriginIsolated
            ? 'no: this host sends no COOP/COEP headers and the service worker could not add them, so WASM runs on one thread'
            : source === 'service-worker'
              ? 'yes, by the studio’s service worker: this host sends no COOP/COEP headers, so the worker adds them (the page reloaded once to get them)'
              : 'yes'}
        </dd>
      </div>
    </dl>
  );
}
