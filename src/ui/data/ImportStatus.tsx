/** A running import's progress, or the review of a file with bad lines: skip them or cancel. */
import { datasetActions, useDataset } from '../../state';
import { Alert } from '../parts/Alert';
import { formatByteProgress, formatInt, plural } from '../format';
import type { ParseIssue } from '../../data/types';

/** The review lists this many bad lines; the counts cover all of them. */
const LISTED = 200;

export function ImportStatus() {
  const s = useDataset((st) => st.import);
  if (s.status === 'idle') return null;
  if (s.status === 'parsing') {
    const p = s.progress;
    return (
      <div className="progress-row" data-testid="import-progress">
        <progress value={p?.bytesRead ?? 0} max={p?.totalBytes || 1} aria-label={`Reading ${s.name}`} />
        <span className="hint">
          Reading {s.name}: {p ? `${formatByteProgress(p.bytesRead, p.totalBytes)} · ${plural(p.rows, 'row')}` : 'starting…'}
          {p && p.issues > 0 && ` · ${plural(p.issues, 'bad line')}`}
        </span>
        <button type="button" className="btn btn-secondary" onClick={datasetActions.cancelImport} data-testid="import-cancel">
          Cancel
        </button>
      </div>
    );
  }
  if (s.status === 'failed') {
    return (
      <Alert title={`${s.name} could not be read`} testId="import-error">
        <p>{s.message}</p>
        <button type="button" className="btn btn-secondary" onClick={datasetActions.cancelImport}>
          Dismiss
        </button>
      </Alert>
    );
  }
  const { result } = s;
  const good = result.rows.length;
  const bad = result.issues.filter((i) => i.kind !== 'empty-file');
  return (
    <Alert title={good > 0 ? `${s.name}: ${plural(bad.length, 'line')} could not be read` : `${s.name}: nothing to import`} tone="warning" testId="import-review">
      <p data-testid="import-counts">
        {formatInt(result.records)} records read: <strong>{formatInt(good)} good</strong>, {formatInt(bad.length)} bad.
        {good > 0 ? ' Skip the bad lines to load the good ones, or cancel and fix the file.' : ' Fix the file and try again.'}
      </p>
      <IssueList issues={result.issues} />
      <div className="row">
        {good > 0 && (
          <button type="button" className="btn btn-primary" onClick={datasetActions.acceptImport} data-testid="import-accept">
            Skip bad lines, load {plural(good, 'row')}
          </button>
        )}
        <button type="button" className="btn btn-secondary" onClick={datasetActions.cancelImport} data-testid="import-dismiss">
          Cancel
        </button>
      </div>
    </Alert>
  );
}

export function IssueList({ issues }: { issues: ParseIssue[] }) {
  return (
    <>
      <ol className="issue-list" data-testid="issue-list">
        {issues.slice(0, LISTED).map((i, k) => (
          <li key={k} data-testid="issue">
            <span className="issue-line">{i.kind === 'empty-file' ? 'file' : `line ${formatInt(i.line)}`}</span> <span className="issue-message">{i.message}</span>
            {i.excerpt && <code className="issue-excerpt">{i.excerpt}</code>}
          </li>
        ))}
      </ol>
      {issues.length > LISTED && <p className="hint">…and {plural(issues.length - LISTED, 'more line')}.</p>}
    </>
  );
}
