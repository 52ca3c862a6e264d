/**
 * "Models in this browser": what the Hub cache keeps, with sizes, and Delete. The cache shares
 * the site's storage quota with training checkpoints, so this is where space is freed.
 */
import { actions, selectCachedModels, useStudio, type CachedModel } from '../../state';
import { formatBytes } from '../format';
import { ActionButton } from '../parts/ActionButton';

const nameOf = (m: CachedModel) => (m.repo ? `${m.repo}${m.revision && m.revision !== 'main' ? `@${m.revision}` : ''}` : 'Other cached files');

export function CachedModels() {
  const state = useStudio(selectCachedModels);
  const ready = state.status === 'ready' ? state : null;
  const total = ready?.models.reduce((n, m) => n + m.bytes, 0) ?? 0;
  return (
    <details className="source cached-models" data-testid="cached-models" onToggle={(e) => (e.currentTarget as HTMLDetailsElement).open && void actions.refreshCachedModels()}>
      <summary>
        Models in this browser{ready && ` (${ready.models.filter((m) => m.repo).length}, ${formatBytes(total)})`}
      </summary>
      {state.status === 'loading' && <p className="hint">Listing…</p>}
      {state.status === 'failed' && (
        <p className="note note-warning" role="status">
          {state.message}
        </p>
      )}
      {ready && ready.models.length === 0 && <p className="hint">None yet: models downloaded from the Hub are kept here, so a reload does not download them again.</p>}
      {ready && ready.models.length > 0 && (
        <ul className="cached-list">
          {ready.models.map((m) => (
            <li key={m.key} data-testid="cached-model">
              <span className="grow">
                <strong>{nameOf(m)}</strong>{' '}
                <small className="muted">
                  {m.commit ? `commit ${m.commit.slice(0, 8)} · ` : ''}
                  {m.files} {m.files === 1 ? 'file' : 'files'}
                </small>
              </span>
              <span className="num" data-testid="cached-model-size">
                {formatBytes(m.bytes)}
              </span>
              <ActionButton
                blocker={null}
                variant="danger"
                data-testid="cached-model-delete"
                aria-label={`Delete ${nameOf(m)} from this browser`}
                onClick={() => {
                  if (window.confirm(`Delete ${nameOf(m)} from this browser? It is downloaded again the next time it is loaded.`)) void actions.deleteCachedModel(m.key);
                }}
              >
                Delete
              </ActionButton>
            </li>
          ))}
        </ul>
      )}
      {ready?.usage && (
        <p className="hint" data-testid="storage-usage">
          This site uses {formatBytes(ready.usage.usage)} of the {formatBytes(ready.usage.quota)} this browser allows it, models and training checkpoints together.
        </p>
      )}
    </details>
  );
}
