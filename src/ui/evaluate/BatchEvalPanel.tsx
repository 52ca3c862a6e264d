/** Batch evaluation of the chosen models on the test split: run, progress, metrics, table, exports. */
import { useState } from 'react';
import { evalActions, evalData, useDataset, useEval } from '../../state';
import { reportCsv, reportJsonl } from '../../eval/report';
import { ActionButton } from '../parts/ActionButton';
import { Alert } from '../parts/Alert';
import { downloadText } from '../../state/download';
import { BatchMetrics } from './BatchMetrics';
import { EvalTable } from './EvalTable';
import { exportInput } from './evalView';
import { useEvalEnvBlocker } from './useEvalEnvBlocker';

function PositiveInt({ id, label, value, onChange, hint }: { id: string; label: string; value: string; onChange: (v: string) => void; hint: string }) {
  return (
    <div className="field narrow">
      <label htmlFor={id}>{label}</label>
      <input type="text" id={id} data-testid={id} inputMode="numeric" value={value} onChange={(e) => onChange(e.target.value)} />
      <small className="hint">{hint}</small>
    </div>
  );
}

const parseCount = (s: string): number | null => (/^\s*\d+\s*$/.test(s) && Number(s) > 0 ? Number(s) : null);

export function BatchEvalPanel() {
  const batch = useEval((s) => s.batch);
  const ratings = useEval((s) => s.ratings);
  const blocker = useEvalEnvBlocker(1);
  useDataset((s) => s.dataset); // the test split below follows the Data tab
  useDataset((s) => s.measure);
  const [limit, setLimit] = useState('20');
  const [maxTokens, setMaxTokens] = useState('64');
  const d = evalData();
  const available = 'problem' in d ? 0 : d.examples.length;
  const n = limit.trim() === '' ? null : parseCount(limit);
  const m = parseCount(maxTokens);
  const inputProblem = limit.trim() !== '' && n === null ? 'Examples: a whole number above 0, or empty for all.' : m === null ? 'Max new tokens: a whole number above 0.' : null;
  const done = batch.outputs.reduce((k, row) => k + row.filter(Boolean).length, 0);
  const total = batch.models.length * batch.examples.length;
  const running = batch.status === 'running';

  const download = (kind: 'csv' | 'jsonl') => {
    const x = exportInput(batch, ratings);
    const text = kind === 'csv' ? reportCsv(x.examples, x.outputsByModel, x.ratingTexts, batch.guardrails) : reportJsonl(x.examples, x.outputsByModel, x.ratingTexts, batch.guardrails);
    downloadText(`evaluation.${kind}`, text, kind === 'csv' ? 'text/csv' : 'application/jsonl');
  };

  return (
    <section className="panel" aria-labelledby="batch-heading">
      <h2 id="batch-heading">Batch evaluation</h2>
      <p className="hint">
        Every chosen model answers the test split ({'problem' in d ? d.problem : `${available} examples`}) greedily, in the worker. Scores: exact match (spacing ignored), token F1, ROUGE-L,
        loss and perplexity of the target answers, and semantic similarity when the embedding model can be downloaded.
      </p>
      <div className="row">
        <PositiveInt id="eval-limit" label="Examples" value={limit} onChange={setLimit} hint="The first N of the test split; empty for all." />
        <PositiveInt id="eval-max-tokens" label="Max new tokens" value={maxTokens} onChange={setMaxTokens} hint="Per answer." />
        {running ? (
          <button type="button" className="btn btn-danger" data-testid="eval-cancel" onClick={() => evalActions.cancel()}>
            Cancel
          </button>
        ) : (
          <ActionButton variant="primary" data-testid="eval-run" blocker={blocker ?? inputProblem} onClick={() => void evalActions.runBatch(n, m!)}>
            Evaluate
          </ActionButton>
        )}
        <ActionButton blocker={done ? null : 'Run an evaluation first.'} data-testid="eval-export-csv" onClick={() => download('csv')}>
          Download CSV
        </ActionButton>
        <ActionButton blocker={done ? null : 'Run an evaluation first.'} data-testid="eval-export-jsonl" onClick={() => download('jsonl')}>
          Download JSONL
        </ActionButton>
      </div>
      {inputProblem && <p className="field-error">{inputProblem}</p>}
      {total > 0 && (
        <div className="progress-row" data-testid="eval-progress">
          <progress max={total} value={done} />
          <span>
            {done} / {total} answers · {batch.status}
          </span>
        </div>
      )}
      {batch.message && (
        <Alert title={batch.status === 'cancelled' ? 'Evaluation cancelled' : 'Evaluation failed'} testId="eval-error" tone={batch.status === 'cancelled' ? 'warning' : 'error'}>
          {batch.message}
        </Alert>
      )}
      {batch.models.length > 0 && (
        <>
          <BatchMetrics />
          <EvalTable />
        </>
      )}
    </section>
  );
}
