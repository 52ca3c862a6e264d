/** The prompt (muted) followed by the generated text as it streams, and the run's stats. */
import { selectRun, useStudio } from '../../state';
import { formatStopReason, formatTokensPerSecond } from '../format';
import { Alert } from '../parts/Alert';

export function GenerationOutput() {
  const run = useStudio(selectRun);
  const running = run.status === 'running';
  return (
    <div className="output-block">
      <pre className="output" data-testid="output" aria-busy={running} aria-label="Output">
        {run.status === 'idle' ? (
          <span className="muted">The prompt and the generated text appear here.</span>
        ) : (
          <>
            <span className="output-prompt">{run.prompt}</span>
            <span className="output-generated" data-testid="generated">
              {run.text}
            </span>
            {running && <span className="caret" aria-hidden="true" />}
          </>
        )}
      </pre>
      <GenerationStats />
      {run.status === 'failed' && (
        <Alert title="Generation failed" testId="generate-error">
          <p>{run.message}</p>
        </Alert>
      )}
    </div>
  );
}

function GenerationStats() {
  const run = useStudio(selectRun);
  if (run.status === 'running') {
    const seconds = (run.lastTokenAt - run.startedAt) / 1000;
    return (
      <p className="stats" data-testid="gen-stats" data-tokens={run.tokens}>
        {run.tokens} tokens · {formatTokensPerSecond(seconds > 0 ? run.tokens / seconds : 0)} · generating…
      </p>
    );
  }
  if (run.status !== 'done') return null;
  const { tokens, tokensPerSecond, reason } = run.stats;
  return (
    <p className="stats" data-testid="gen-stats" data-tokens={tokens} data-stop-reason={reason}>
      {tokens} tokens · {formatTokensPerSecond(tokensPerSecond)} · stopped by {formatStopReason(reason)}
    </p>
  );
}
