/** ARC multiple choice scored by log-likelihood, for each chosen model, from a dropped file or the Hub. */
import { useState } from 'react';
import { fetchArcDocs, type ArcHubQuery } from '../../eval/arcHub';
import { evalActions, useEval } from '../../state';
import { ActionButton } from '../parts/ActionButton';
import { Alert } from '../parts/Alert';
import { useEvalEnvBlocker } from './useEvalEnvBlocker';

export function ArcPanel() {
  const arc = useEval((s) => s.arc);
  const models = useEval((s) => s.selected);
  const blocker = useEvalEnvBlocker(1);
  const [config, setConfig] = useState<ArcHubQuery['config']>('ARC-Easy');
  const [limit, setLimit] = useState('100');
  const [fetching, setFetching] = useState(false);
  const n = /^\s*\d+\s*$/.test(limit) && Number(limit) > 0 ? Number(limit) : null;
  const running = arc.status === 'running';

  const onFile = async (f: File | undefined) => {
    if (f) evalActions.loadArcText(f.name, await f.text());
  };
  const fromHub = async () => {
    if (n === null) return;
    setFetching(true);
    try {
      const docs = await fetchArcDocs({ config, split: 'test', limit: n });
      evalActions.loadArcDocs(`${config} test (first ${docs.length}, from the Hub)`, docs);
    } catch (e) {
      evalActions.arcFailed((e as Error).message);
    } finally {
      setFetching(false);
    }
  };

  return (
    <section className="panel" aria-labelledby="arc-heading">
      <h2 id="arc-heading">Benchmark: ARC</h2>
      <p className="hint">
        Multiple-choice science questions, scored as lm-evaluation-harness scores ARC: each choice’s log-likelihood after “Question: … Answer:”; acc_norm divides by the choice’s length. A general benchmark is not your task: a
        fine-tune that helps your data can leave ARC unchanged or lower it, as the course points out.
      </p>
      <div className="row">
        <label className="btn btn-secondary file-button">
          ARC JSONL file…
          <input type="file" accept=".jsonl,.json,application/json" data-testid="arc-file" className="visually-hidden" onChange={(e) => void onFile(e.target.files?.[0])} />
        </label>
        <select aria-label="ARC set" value={config} onChange={(e) => setConfig(e.target.value as ArcHubQuery['config'])}>
          <option>ARC-Easy</option>
          <option>ARC-Challenge</option>
        </select>
        <div className="field narrow">
          <label htmlFor="arc-limit">Questions</label>
          <input type="text" id="arc-limit" data-testid="arc-limit" inputMode="numeric" value={limit} onChange={(e) => setLimit(e.target.value)} />
        </div>
        <ActionButton blocker={fetching ? 'Fetching…' : n === null ? 'Questions: a whole number above 0.' : null} onClick={() => void fromHub()}>
          Fetch from the Hub
        </ActionButton>
      </div>
      {arc.source && (
        <p className="muted" data-testid="arc-source">
          {arc.source.name}: {arc.source.docs.length} questions
        </p>
      )}
      <div className="row">
        {running ? (
          <button type="button" className="btn btn-danger" onClick={() => evalActions.cancel()}>
            Cancel
          </button>
        ) : (
          <ActionButton
            variant="primary"
            data-testid="arc-run"
            blocker={blocker ?? (arc.source ? (n === null ? 'Questions: a whole number above 0.' : null) : 'Drop an ARC JSONL file or fetch one from the Hub first.')}
            onClick={() => void evalActions.runArc(n)}
          >
            Score {models.length > 1 ? `${models.length} models` : ''}
          </ActionButton>
        )}
        {arc.progress && (
          <span className="muted" data-testid="arc-progress">
            model {arc.progress.model + 1}: {arc.progress.done} / {arc.progress.total}
          </span>
        )}
      </div>
      {arc.message && (
        <Alert title={arc.status === 'cancelled' ? 'Cancelled' : 'ARC'} tone={arc.status === 'cancelled' ? 'warning' : 'error'} testId="arc-error">
          {arc.message}
        </Alert>
      )}
      {arc.results.length > 0 && (
        <table className="eval-metrics" data-testid="arc-results">
          <thead>
            <tr>
              <th scope="col">Model</th>
              <th scope="col">acc</th>
              <th scope="col">acc_norm</th>
              <th scope="col">Questions</th>
            </tr>
          </thead>
          <tbody>
            {arc.results.map((r) => (
              <tr key={r.id} data-testid="arc-result">
                <th scope="row">{r.label}</th>
                <td className="num" data-testid="arc-acc">{(r.acc * 100).toFixed(1)}%</td>
                <td className="num">{(r.acc_norm * 100).toFixed(1)}%</td>
                <td className="num">{r.n}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
