/** The selected row: its problems, its text as the template renders it, its tokens, and its editor. */
import { datasetActions, selectRowIndex, selectRowProblems, useDataset, type DatasetView } from '../../state';
import { Alert } from '../parts/Alert';
import { RenderedText } from './RenderedText';
import { RowEditor } from './RowEditor';
import { TokenView } from './TokenView';

/** A key per row version: the editor starts over when the row changes under it (a save, an undo). */
const versions = new WeakMap<object, number>();
let nextVersion = 0;
function versionOf(row: object): number {
  let v = versions.get(row);
  if (v === undefined) versions.set(row, (v = nextVersion++));
  return v;
}

export function ExampleDetail({ view }: { view: DatasetView }) {
  const selectedId = useDataset((s) => s.selectedId);
  const tokenView = useDataset((s) => s.tokenView);
  if (selectedId === null) return <p className="hint">Pick a row to see its tokens and to edit or delete it.</p>;
  const i = selectRowIndex(view.dataset.rows).get(selectedId);
  if (i === undefined) return null;
  const row = view.dataset.rows[i];
  const problem = selectRowProblems(view.mapped, view.rendered).get(i);
  const segments = view.rendered.segments[i];
  const side = view.split.of.get(row.id);
  return (
    <article className="example-detail" data-testid="example-detail">
      <header className="row">
        <h3 className="grow">
          Row {i + 1}
          {row.line !== null ? ` · line ${row.line}` : ' · added here'}
          {side && ` · ${side}`}
        </h3>
        <button type="button" className="btn btn-danger" data-testid="delete-row" onClick={() => datasetActions.deleteRow(row.id)}>
          Delete
        </button>
        <button type="button" className="btn btn-secondary" onClick={() => datasetActions.select(null)}>
          Close
        </button>
      </header>
      {problem && (
        <Alert title="This row cannot be trained on" tone="warning" testId="row-issue">
          <p>{problem}</p>
        </Alert>
      )}
      {segments && <RenderedText segments={segments} />}
      {tokenView.status === 'loading' && <p className="hint">Tokenizing…</p>}
      {tokenView.status === 'failed' && <p className="field-error">{tokenView.message}</p>}
      {tokenView.status === 'ready' && tokenView.rowId === row.id && <TokenView view={tokenView.view} />}
      <details className="edit-details">
        <summary data-testid="edit-row">Edit this row</summary>
        <RowEditor key={versionOf(row)} initial={row.data} saveLabel="Save" testId="row-editor" onSave={(data) => datasetActions.editRow(row.id, data)} />
      </details>
    </article>
  );
}
