/** Per-model scores of the batch, and tag counts that filter the table when clicked. */
import { useMemo } from 'react';
import { TAG_LABELS, TAG_ORDER } from '../../eval/errorTags';
import type { Similarity } from '../../eval/similarity';
import { evalActions, useEval } from '../../state';
import { modelSummaries } from './evalView';

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const num = (x: number | null, digits = 3) => (x === null || !Number.isFinite(x) ? '—' : x.toFixed(digits));

export function BatchMetrics() {
  const batch = useEval((s) => s.batch);
  const filter = useEval((s) => s.filter);
  const summaries = useMemo(() => modelSummaries(batch), [batch]);
  const unavailable = batch.similarity.find((x): x is Extract<Similarity, { available: false }> => x !== null && !x.available);
  return (
    <div className="table-scroll">
      <table className="eval-metrics" data-testid="eval-metrics">
        <thead>
          <tr>
            <th scope="col">Model</th>
            <th scope="col">Answered</th>
            <th scope="col" title="Whitespace-normalised exact match">Exact match</th>
            <th scope="col">Token F1</th>
            <th scope="col">ROUGE-L</th>
            <th scope="col" title="Mean loss of the target tokens given the prompt, as the training eval loss">Eval loss</th>
            <th scope="col">Perplexity</th>
            <th scope="col" title="Cosine similarity of sentence embeddings (all-MiniLM-L6-v2)">Similarity</th>
            <th scope="col">Tokens/s</th>
            <th scope="col">Error tags (click to filter)</th>
          </tr>
        </thead>
        <tbody>
          {batch.models.map((m, i) => {
            const s = summaries[i];
            const sim = batch.similarity[i];
            return (
              <tr key={m.id} data-testid="eval-metrics-row" data-model-id={m.id}>
                <th scope="row">{m.label}</th>
                <td className="num">{s?.n ?? 0}</td>
                <td className="num" data-testid="metric-exact">{s ? pct(s.exactMatch) : '—'}</td>
                <td className="num" data-testid="metric-f1">{s ? num(s.tokenF1) : '—'}</td>
                <td className="num">{s ? num(s.rougeL) : '—'}</td>
                <td className="num" data-testid="metric-loss">{num(s?.evalLoss ?? null)}</td>
                <td className="num">{num(s?.perplexity ?? null, 1)}</td>
                <td className="num" data-testid="metric-similarity" title={sim && !sim.available ? sim.reason : undefined}>
                  {sim === null || sim === undefined ? (batch.status === 'running' ? '…' : '—') : sim.available ? num(sim.scores.reduce((a, b) => a + b, 0) / Math.max(1, sim.scores.length)) : 'unavailable'}
                </td>
                <td className="num">{s ? s.tokensPerSecond.toFixed(1) : '—'}</td>
                <td className="tag-cell">
                  {s &&
                    TAG_ORDER.filter((t) => s.tagCounts[t] > 0).map((t) => {
                      const active = filter.tag === t && filter.tagModel === m.id;
                      return (
                        <button
                          key={t}
                          type="button"
                          className={active ? 'tag tag-active' : 'tag'}
                          data-testid="tag-filter"
                          data-tag={t}
                          title={TAG_LABELS[t].description}
                          aria-pressed={active}
                          onClick={() => evalActions.setFilter(active ? { tag: null, tagModel: null } : { tag: t, tagModel: m.id })}
                        >
                          {TAG_LABELS[t].label} {s.tagCounts[t]}
                        </button>
                      );
                    })}
                  {s && TAG_ORDER.every((t) => s.tagCounts[t] === 0) && <span className="muted">none</span>}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {unavailable && (
        <p className="hint" data-testid="similarity-note">
          Similarity unavailable, not zero: {unavailable.reason}
        </p>
      )}
    </div>
  );
}
