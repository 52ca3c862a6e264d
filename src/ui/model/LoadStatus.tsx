/** The model's status line, load progress with Cancel, and load errors. */
import { actions, selectModel, useStudio, type LoadProgress } from '../../state';
import { formatByteProgress } from '../format';
import { Alert } from '../parts/Alert';

const STAGE: Record<LoadProgress['stage'], string> = {
  download: 'Downloading',
  read: 'Reading files',
  upload: 'Moving weights to the device',
};

/** "x did not load: …" → "X did not load: ….", so the note's next sentence reads as one. */
const asSentence = (text: string): string => `${text.charAt(0).toUpperCase()}${text.slice(1)}${/[.!?]$/.test(text) ? '' : '.'}`;

export function LoadStatus() {
  const model = useStudio(selectModel);
  switch (model.status) {
    case 'none':
      return (
        <div className="load-status">
          <p className="status-line" data-testid="model-status">
            No model loaded
          </p>
          {model.note && (
            <p className="note" data-testid="model-note">
              {model.note}
            </p>
          )}
        </div>
      );
    case 'ready':
      return (
        <div className="load-status">
          <p className="status-line status-ready" data-testid="model-status">
            Ready
          </p>
          {model.refused && (
            <p className="note" data-testid="model-refused">
              {asSentence(model.refused)} The model below is still loaded.
            </p>
          )}
        </div>
      );
    case 'failed':
      return (
        <Alert title="The model did not load" testId="model-error">
          <p data-testid="model-status">{model.message}</p>
        </Alert>
      );
    case 'loading': {
      const p = model.progress;
      return (
        <div className="load-status loading" aria-busy="true">
          <p className="status-line">
            <span data-testid="model-status">Loading…</span> <span className="muted">{model.label}</span>
          </p>
          {/* No value while the size is unknown: an indeterminate bar, not a bar stuck at 0. */}
          <progress data-testid="download-progress" value={p?.total ? p.loaded : undefined} max={p?.total ?? undefined} />
          <div className="progress-row">
            <span className="muted" data-testid="download-stage">
              {p ? STAGE[p.stage] : 'Preparing'}
            </span>
            {p && (
              <span data-testid="download-bytes">
                {formatByteProgress(p.loaded, p.total)}
                {p.file ? ` · ${p.file}` : ''}
              </span>
            )}
            <button type="button" className="btn btn-secondary" data-testid="load-cancel" onClick={actions.cancelLoad}>
              Cancel
            </button>
          </div>
        </div>
      );
    }
  }
}
