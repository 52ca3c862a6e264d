/** Search and filter the rows, pick one to inspect or edit, add examples, undo. */
import { useState } from 'react';
import { segmentsText } from '../../data/templates';
import { datasetActions, selectRowProblems, selectVisibleRows, useDataset, type DatasetView, type RowFilter } from '../../state';
import { formatInt } from '../format';
import { AddExample } from './AddExample';

const FILTERS: { id: RowFilter; label: string }[] = [
  { id: 'all', label: 'All rows' },
  { id: 'unusable', label: 'Not usable' },
  { id: 'duplicates', label: 'Duplicates' },
  { id: 'truncated', label: 'Truncated' },
  { id: 'blank', label: 'Blank prompt or answer' },
  { id: 'train', label: 'Train split' },
  { id: 'test', label: 'Test split' },
];

const PAGE = 100;
const excerpt = (s: string, n = 140) => (s.length > n ? `${s.slice(0, n)}…` : s);

export function ExampleList({ view }: { view: DatasetView }) {
  const query = useDataset((s) => s.query);
  const filter = useDataset((s) => s.filter);
  const selectedId = useDataset((s) => s.selectedId);
  const history = useDataset((s) => s.history);
  const [shown, setShown] = useState(PAGE);
  const [adding, setAdding] = useState(false);
  const visible = selectVisibleRows(view.dataset, view.mapped, view.rendered, view.lengths, view.split, query, filter);
  const problems = selectRowProblems(view.mapped, view.rendered);
  const last = history[history.length - 1];

  return (
    <div className="example-list">
      <div className="row">
        <input
          type="search"
          className="grow"
          placeholder="Search the text, e.g. keep the discussion relevant"
          aria-label="Search examples"
          data-testid="data-search"
          value={query}
          onChange={(e) => {
            datasetActions.setQuery(e.target.value);
            setShown(PAGE);
          }}
        />
        <select aria-label="Filter" data-testid="data-filter" value={filter} onChange={(e) => datasetActions.setFilter(e.target.value as RowFilter)}>
          {FILTERS.map((f) => (
            <option key={f.id} value={f.id}>
              {f.label}
            </option>
          ))}
        </select>
      </div>
      <div className="row">
        <small className="hint grow" data-testid="visible-count">
          {formatInt(visible.length)} of {formatInt(view.dataset.rows.length)} rows
        </small>
        <button type="button" className="btn btn-secondary" data-testid="add-example" onClick={() => setAdding(!adding)}>
          Add example
        </button>
        <button type="button" className="btn btn-secondary" data-testid="undo" disabled={!last} title={last ? `Undo: ${last.label}` : 'Nothing to undo.'} onClick={datasetActions.undo}>
          {last ? `Undo ${last.label}` : 'Undo'}
        </button>
      </div>
      {adding && <AddExample view={view} onDone={() => setAdding(false)} />}
      <ol className="rows" data-testid="rows">
        {visible.slice(0, shown).map((i) => {
          const row = view.dataset.rows[i];
          const seg = view.rendered.segments[i];
          const problem = problems.get(i);
          const ex = view.mapped.examples[i];
          const side = view.split.of.get(row.id);
          return (
            <li key={row.id}>
              <button
                type="button"
                className={row.id === selectedId ? 'row-item row-selected' : 'row-item'}
                data-testid="row"
                aria-pressed={row.id === selectedId}
                onClick={() => datasetActions.select(row.id === selectedId ? null : row.id)}
              >
                <span className="row-num">{i + 1}</span>
                <span className="row-text">
                  {ex && !ex.messages ? (
                    <>
                      {ex.prompt && <span className="seg-prompt">{excerpt(ex.prompt, 100)} </span>}
                      <span className="seg-train">{excerpt(ex.output)}</span>
                    </>
                  ) : seg ? (
                    excerpt(segmentsText(seg))
                  ) : (
                    <span className="muted">{excerpt(JSON.stringify(row.data))}</span>
                  )}
                </span>
                <span className="row-badges">
                  {problem && (
                    <span className="badge badge-failed" title={problem}>
                      not usable
                    </span>
                  )}
                  {side && <span className={`badge badge-${side}`}>{side}</span>}
                  {seg && view.lengths && <span className={view.lengths[i] > view.dataset.tokenize.maxLength ? 'badge badge-warn' : 'badge'}>{view.lengths[i]} tok</span>}
                </span>
              </button>
            </li>
          );
        })}
      </ol>
      {visible.length > shown && (
        <button type="button" className="btn btn-secondary" onClick={() => setShown(shown + PAGE)} data-testid="show-more">
          Show {formatInt(Math.min(PAGE, visible.length - shown))} more
        </button>
      )}
    </div>
  );
}
