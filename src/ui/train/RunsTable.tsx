/** Every run, newest first: settings in brief, progress, losses, status, and what can be done with it. */
import { trainActions, useTrain, type RunRecord } from '../../state';
import { ActionButton } from '../parts/ActionButton';
import { canResume, lastStep, methodLabel, newestFirst, resumeBlocker, statusText, statusTone, stepProgress, type TrainContext } from './runView';
import { formatLoss, formatLr } from './trainFormat';
import { useTrainContext } from './useTrainContext';

export function RunsTable() {
  const runs = useTrain((s) => s.runs);
  const compare = useTrain((s) => s.compare);
  const ctx = useTrainContext();
  if (runs.length === 0) return null;
  return (
    <section className="runs" aria-labelledby="runs-heading">
      <h3 id="runs-heading">All runs</h3>
      <p className="hint">Kept in this browser. Tick two or more to compare their curves and settings.</p>
      <div className="table-scroll">
        <table className="runs-table" data-testid="runs-table">
          <thead>
            <tr>
              <th scope="col" className="col-compare">Compare</th>
              <th scope="col">Run and model</th>
              <th scope="col">Method</th>
              <th scope="col">LR</th>
              <th scope="col" title="batch size × gradient accumulation">Batch</th>
              <th scope="col">Steps</th>
              <th scope="col">Train loss</th>
              <th scope="col">Best eval</th>
              <th scope="col">Status</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {newestFirst(runs).map((r) => (
              <RunRow key={r.id} run={r} ticked={compare.includes(r.id)} ctx={ctx} />
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function RunRow({ run, ticked, ctx }: { run: RunRecord; ticked: boolean; ctx: TrainContext }) {
  const c = run.config;
  const live = statusTone(run.status) === 'live';
  const onDelete = () => {
    if (window.confirm(`Delete ${run.name}? Its curves and checkpoints are removed from this browser.`)) void trainActions.remove(run.id);
  };
  return (
    <tr data-testid="run-row" data-run-id={run.id} data-status={run.status}>
      <td>
        <input type="checkbox" aria-label={`Compare ${run.name}`} data-testid="run-compare" checked={ticked} onChange={() => trainActions.toggleCompare(run.id)} />
      </td>
      <th scope="row" className="cell-run">
        {run.name}
        <small className="cell-model">{run.model}</small>
      </th>
      <td>{methodLabel(c)}</td>
      <td className="num">{formatLr(c.optimizer.lr)}</td>
      <td className="num">
        {c.batchSize}×{c.gradAccum}
      </td>
      <td className="num">{stepProgress(run).text}</td>
      <td className="num">{formatLoss(lastStep(run)?.loss)}</td>
      <td className="num">{formatLoss(run.bestEval?.loss)}</td>
      <td>
        <span className={`badge status status-${statusTone(run.status)}`}>{statusText(run, ctx)}</span>
      </td>
      <td>
        <div className="cell-actions">
          {canResume(run.status) && (
            <ActionButton blocker={resumeBlocker(run, ctx)} data-testid="run-resume" onClick={() => void trainActions.resume(run.id)}>
              Resume
            </ActionButton>
          )}
          <ActionButton blocker={ctx.elsewhere.includes(run.id) ? 'This run is open in another tab of the studio.' : live ? 'Pause or stop the run first.' : null} variant="danger" data-testid="run-delete" aria-label={`Delete ${run.name}`} onClick={onDelete}>
            Delete
          </ActionButton>
        </div>
      </td>
    </tr>
  );
}
