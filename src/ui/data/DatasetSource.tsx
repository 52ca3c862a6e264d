/** Bring data in: drop, pick or paste a file, or load the sample; then the import's progress or review. */
import { useState, type DragEvent } from 'react';
import { datasetActions, useDataset, useDerivedDataset } from '../../state';
import { formatBytes, formatInt, plural } from '../format';
import { ImportStatus, IssueList } from './ImportStatus';

const ACCEPT = '.jsonl,.ndjson,.json,.csv,.tsv,.txt,.md,application/json,text/csv,text/plain';

export function DatasetSource() {
  const derived = useDerivedDataset();
  const importing = useDataset((s) => s.import.status === 'parsing');
  const storageError = useDataset((s) => s.storageError);
  const saved = useDataset((s) => s.saved);
  const [over, setOver] = useState(false);
  const [pasting, setPasting] = useState(false);
  const [pasted, setPasted] = useState('');

  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setOver(false);
    const file = e.dataTransfer.files[0];
    if (file && !importing) void datasetActions.importFile(file);
  };

  const d = derived?.dataset;
  return (
    <>
      {d && (
        <p className="dataset-summary" data-testid="dataset-summary">
          <strong data-testid="dataset-name">{d.name}</strong> · {d.format.toUpperCase()} ·{' '}
          <span data-testid="dataset-rows">{formatInt(d.rows.length)}</span> {d.rows.length === 1 ? 'row' : 'rows'}
          {d.skippedCount > 0 && (
            <span data-testid="dataset-skipped">
              {' '}
              · {plural(d.skippedCount, 'bad line')} skipped at import
            </span>
          )}
          {derived.usable.length < d.rows.length && (
            <span data-testid="dataset-unusable"> · {formatInt(d.rows.length - derived.usable.length)} not usable{' '}
              {derived.rendered.templateError ? 'until the template is fixed' : derived.rendered.rowErrors.size > 0 ? '(filter “Not usable” to see why)' : 'with this mapping'}
            </span>
          )}
          {!storageError && (
            <span className="hint" data-testid="save-status" data-saved={saved}>
              {saved ? 'Saved in this browser' : 'Saving…'}
            </span>
          )}
        </p>
      )}
      {d && d.skipped.length > 0 && (
        <details className="skipped">
          <summary>Show the skipped lines</summary>
          <IssueList issues={d.skipped} />
        </details>
      )}
      {storageError && (
        <p className="note note-warning" role="status" data-testid="storage-error">
          {storageError}
        </p>
      )}
      <div
        className={['drop-zone', over ? 'drop-over' : '', importing ? 'drop-blocked' : ''].join(' ')}
        data-testid="data-drop"
        onDragOver={(e) => {
          e.preventDefault();
          e.dataTransfer.dropEffect = importing ? 'none' : 'copy';
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={onDrop}
      >
        <p>Drop a JSONL, JSON, CSV or text file here, or</p>
        <div className="row center">
          <label className={importing ? 'btn btn-secondary file-button disabled' : 'btn btn-secondary file-button'}>
            Choose file
            <input
              type="file"
              accept={ACCEPT}
              className="visually-hidden"
              data-testid="data-file-input"
              disabled={importing}
              onChange={(e) => {
                const file = e.target.files?.[0];
                e.target.value = ''; // so choosing the same file again fires change
                if (file) void datasetActions.importFile(file);
              }}
            />
          </label>
          <button type="button" className="btn btn-secondary" disabled={importing} onClick={() => setPasting(!pasting)} data-testid="paste-toggle">
            Paste text
          </button>
          <button type="button" className="btn btn-secondary" disabled={importing} onClick={() => void datasetActions.loadSample()} data-testid="load-sample">
            Load the sample
          </button>
        </div>
      </div>
      {pasting && (
        <div className="paste-box">
          <label htmlFor="paste-data">Paste JSONL, a JSON array, CSV with a header row, or plain text</label>
          <textarea id="paste-data" data-testid="paste-data" rows={6} spellCheck={false} value={pasted} onChange={(e) => setPasted(e.target.value)} />
          <div className="row">
            <button
              type="button"
              className="btn btn-primary"
              data-testid="paste-import"
              disabled={importing || pasted.trim() === ''}
              onClick={() => {
                void datasetActions.importText(pasted);
                setPasting(false);
                setPasted('');
              }}
            >
              Import pasted text
            </button>
            <small className="hint">{pasted ? formatBytes(new Blob([pasted]).size) : ''}</small>
          </div>
        </div>
      )}
      <p className="hint">
        Parsing runs in a background worker; nothing leaves this machine. The dataset and its settings are kept in this browser (IndexedDB) across reloads.
      </p>
      <ImportStatus />
    </>
  );
}
