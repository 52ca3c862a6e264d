/** Question, target and each model's answer with its scores and tags; searchable, sortable, rated by hand. */
import { useMemo } from 'react';
import { TAG_LABELS } from '../../eval/errorTags';
import { evalActions, useEval, type NamedModel, type RowRating } from '../../state';
import { SORT_KEYS, tableRows, visibleRows, type TableRow } from './evalView';

const SHOWN = 200;

export function EvalTable() {
  const batch = useEval((s) => s.batch);
  const filter = useEval((s) => s.filter);
  const ratings = useEval((s) => s.ratings);
  const rows = useMemo(() => tableRows(batch), [batch]);
  const visible = useMemo(() => visibleRows(rows, batch.models, filter), [rows, batch.models, filter]);
  const sortValue = filter.sort ? `${filter.sort.key}:${filter.sort.desc ? 'desc' : 'asc'}` : '';
  return (
    <div className="eval-table-wrap">
      <div className="row">
        <div className="field grow">
          <label htmlFor="eval-search">Search</label>
          <input id="eval-search" data-testid="eval-search" type="search" value={filter.query} onChange={(e) => evalActions.setFilter({ query: e.target.value })} placeholder="prompt, target or answer" />
        </div>
        <div className="field">
          <label htmlFor="eval-sort">Sort</label>
          <select
            id="eval-sort"
            data-testid="eval-sort"
            value={sortValue}
            onChange={(e) => {
              const v = e.target.value;
              if (!v) return evalActions.setFilter({ sort: null });
              const desc = v.endsWith(':desc');
              evalActions.setFilter({ sort: { key: v.slice(0, v.lastIndexOf(':')), desc } });
            }}
          >
            <option value="">test split order</option>
            {batch.models.flatMap((m) =>
              SORT_KEYS.flatMap((k) => [
                <option key={`${m.id}:${k}:asc`} value={`${m.id}:${k}:asc`}>
                  {m.label}: {k}, worst first
                </option>,
                <option key={`${m.id}:${k}:desc`} value={`${m.id}:${k}:desc`}>
                  {m.label}: {k}, best first
                </option>,
              ]),
            )}
          </select>
        </div>
        {filter.tag && (
          <button type="button" className="btn btn-secondary" data-testid="tag-clear" onClick={() => evalActions.setFilter({ tag: null, tagModel: null })}>
            Showing “{TAG_LABELS[filter.tag].label}” only: show all
          </button>
        )}
      </div>
      <p className="muted" data-testid="eval-shown">
        {visible.length} of {rows.length} examples{visible.length > SHOWN ? ` (the first ${SHOWN} shown)` : ''}
      </p>
      <div className="table-scroll">
        <table className="eval-table" data-testid="eval-table">
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">Question</th>
              <th scope="col">Target</th>
              {batch.models.map((m) => (
                <th scope="col" key={m.id}>
                  {m.label}
                </th>
              ))}
              <th scope="col">Better</th>
            </tr>
          </thead>
          <tbody>
            {visible.slice(0, SHOWN).map((r) => (
              <Row key={r.example.id} row={r} models={batch.models} rating={ratings[r.example.id]} />
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

function Row({ row, models, rating }: { row: TableRow; models: NamedModel[]; rating: RowRating | undefined }) {
  const id = row.example.id;
  return (
    <tr data-testid="eval-row" data-example-id={id}>
      <td className="num">{row.index + 1}</td>
      <td className="eval-text">{row.example.prompt}</td>
      <td className="eval-text">{row.example.target}</td>
      {row.cells.map((c, m) =>
        c ? (
          <td key={models[m].id} className="eval-text" data-testid="eval-cell">
            <div>{c.output.text || <span className="muted">(empty)</span>}</div>
            <small className="muted">
              F1 {c.scores.f1.toFixed(2)} · ROUGE-L {c.scores.rougeL.toFixed(2)}
              {c.scores.exact ? ' · exact' : ''}
            </small>
            {c.scores.tags.length > 0 && (
              <div>
                {c.scores.tags.map((t) => (
                  <span key={t} className="tag" title={TAG_LABELS[t].description} data-testid="row-tag">
                    {TAG_LABELS[t].label}
                  </span>
                ))}
              </div>
            )}
            <div className="rate" role="group" aria-label={`Rate ${models[m].label}`}>
              {(['good', 'bad'] as const).map((v) => {
                const on = rating?.verdicts[models[m].id] === v;
                return (
                  <button key={v} type="button" className={on ? 'tag tag-active' : 'tag'} aria-pressed={on} data-testid={`rate-${v}`} onClick={() => evalActions.rate(id, models[m].id, on ? null : v)}>
                    {v}
                  </button>
                );
              })}
            </div>
          </td>
        ) : (
          <td key={models[m].id} className="muted">
            …
          </td>
        ),
      )}
      <td>
        <select aria-label="Which answer is better" data-testid="rate-better" value={rating?.better ?? ''} onChange={(e) => evalActions.rateBetter(id, e.target.value || null)}>
          <option value="">—</option>
          {models.map((m) => (
            <option key={m.id} value={m.id}>
              {m.label}
            </option>
          ))}
          <option value="tie">tie</option>
        </select>
      </td>
    </tr>
  );
}
