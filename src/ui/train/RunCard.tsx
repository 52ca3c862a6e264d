/** One run at a glance: status, progress, pace, losses, and Pause / Resume / Stop. */
import { actions, selectStalled, trainActions, useTrain, type RunRecord } from '../../state';
import { formatTokensPerSecond } from '../format';
import { ActionButton } from '../parts/ActionButton';
import { Alert } from '../parts/Alert';
import { canPause, canResume, lastStep, methodLabel, resumeBlocker, statusText, statusTone, stepProgress } from './runView';
import { formatDuration, formatEpoch, formatLoss } from './trainFormat';
import { useTrainContext } from './useTrainContext';

const NOT_RUNNING: Partial<Record<RunRecord['status'], string>> = {
  pausing: 'Pausing at the end of this step…',
  stopping: 'Stopping at the end of this step…',
};

const MESSAGE_TITLE: Partial<Record<RunRecord['status'], string>> = {
  failed: 'The run failed',
  interrupted: 'The run was interrupted',
};

export function RunCard({ run }: { run: RunRecord }) {
  const ctx = useTrainContext();
  const watchdog = useTrain(selectStalled);
  const stalled = watchdog?.runId === run.id ? watchdog : null;
  const last = lastStep(run);
  const progress = stepProgress(run);
  const live = statusTone(run.status) === 'live';
  const resume = resumeBlocker(run, ctx);
  const away = ctx.elsewhere.includes(run.id);
  const controlBlocker = away ? 'This run is open in another tab of the studio: pause or stop it there.' : canPause(run.status) ? null : (NOT_RUNNING[run.status] ?? 'The run is not running.');
  const rows: [string, string, string?][] = [
    ['Epoch', last ? formatEpoch(last.epoch) : '–'],
    ['Tokens/s', last ? formatTokensPerSecond(last.tokensPerSecond) : '–', 'run-tokens-per-s'],
    ['Elapsed', formatDuration(last?.elapsedMs)],
    ['ETA', live ? formatDuration(last?.etaMs) : '–', 'run-eta'],
    ['Last loss', formatLoss(last?.loss), 'run-loss'],
    ['Best eval loss', run.bestEval ? `${formatLoss(run.bestEval.loss)} (step ${run.bestEval.step})` : '–', 'run-best-eval'],
    ...(last?.preference ? ([['Margin · accuracy', `${last.preference.margin.toFixed(3)} · ${Math.round(last.preference.accuracy * 100)}%`, 'run-dpo-margin']] as [string, string, string][]) : []),
  ];
  return (
    <article className="run-card" data-testid="run-card" data-run-id={run.id}>
      <header className="run-card-header">
        <h3 data-testid="run-name">{run.name}</h3>
        <span className={`badge status status-${statusTone(run.status)}`} data-testid="run-status">
          {statusText(run, ctx)}
        </span>
        <span className="muted run-meta">
          {run.model} · {run.dataset.name} · {methodLabel(run.config)}
        </span>
      </header>
      <progress value={progress.done} max={progress.total || 1} aria-label={`Step ${progress.text}`} />
      <div className="progress-row">
        <span>
          Step <strong data-testid="run-step">{progress.text}</strong>
        </span>
        {run.lastCheckpoint && <span className="muted">checkpoint at step {run.lastCheckpoint.step}</span>}
      </div>
      <dl className="kv run-kv">
        {rows.map(([k, v, testId]) => (
          <div key={k}>
            <dt>{k}</dt>
            <dd data-testid={testId}>{v}</dd>
          </div>
        ))}
      </dl>
      <div className="row actions">
        <ActionButton blocker={controlBlocker} data-testid="train-pause" onClick={() => void trainActions.control(run.id, 'pause')}>
          Pause
        </ActionButton>
        <ActionButton blocker={resume} data-testid="train-resume" onClick={() => void trainActions.resume(run.id)}>
          Resume
        </ActionButton>
        <ActionButton blocker={controlBlocker} variant="danger" data-testid="train-stop" onClick={() => void trainActions.control(run.id, 'stop')}>
          Stop
        </ActionButton>
        {(canResume(run.status) || away) && resume ? (
          <small className="hint" data-testid="run-resume-blocked">
            {resume}
          </small>
        ) : (
          <small className="hint">Pause keeps the run in memory; Stop ends it with a checkpoint it can resume from.</small>
        )}
      </div>
      {stalled && (
        <Alert title="The run may be stuck" tone="warning" testId="run-stalled">
          <p>
            No step has finished for {formatDuration(stalled.quietMs)}
            {stalled.typicalMs ? ` (steps took ${formatDuration(stalled.typicalMs)})` : ''}: the engine may be stuck, most often out of memory. Restarting it
            ends the run as interrupted; Resume then continues from {run.lastCheckpoint ? `its checkpoint at step ${run.lastCheckpoint.step}` : 'the start (it has no checkpoint yet)'}.
          </p>
          <ActionButton blocker={null} variant="danger" data-testid="run-restart-engine" onClick={() => void actions.restartEngine()}>
            Restart the engine
          </ActionButton>
        </Alert>
      )}
      {run.message && (
        <Alert title={MESSAGE_TITLE[run.status] ?? 'Note'} tone={run.status === 'failed' ? 'error' : 'warning'} testId="run-message">
          <p>{run.message}</p>
        </Alert>
      )}
    </article>
  );
}
