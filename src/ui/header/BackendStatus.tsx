import { selectBackend, useStudio } from '../../state';

/** The badge: backend name once ready ("starting…" before), and why this backend runs. */
export function BackendStatus() {
  const backend = useStudio(selectBackend);
  const name = backend.status === 'ready' ? backend.info.name : backend.status === 'starting' ? 'starting…' : 'failed';
  return (
    <div className="backend-status">
      <span className={`badge badge-${backend.status === 'ready' ? backend.info.name : backend.status}`} data-testid="backend-name">
        {name}
      </span>
      {backend.status === 'ready' && (
        <span className="backend-reason" data-testid="backend-reason">
          {backend.info.reason}
        </span>
      )}
    </div>
  );
}
