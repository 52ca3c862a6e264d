/** Counts, token lengths and what to look at: truncation at the current max length, duplicates, blanks. */
import { useDataset, type DatasetView } from '../../state';
import { formatInt, plural } from '../format';
import { LengthHistogram } from './LengthHistogram';

const pct = (x: number) => `${(100 * x).toFixed(x > 0 && x < 0.001 ? 2 : 1)}%`;

export function DatasetStats({ view }: { view: DatasetView }) {
  const measure = useDataset((s) => s.measure);
  const { stats } = view;
  const maxLength = view.dataset.tokenize.maxLength;
  const promptless = view.dataset.mapping?.kind === 'text' || view.dataset.mapping?.kind === 'chat';
  return (
    <div className="data-stats" data-testid="data-stats">
      <dl className="kv">
        <div>
          <dt>Usable examples</dt>
          <dd data-testid="stat-examples">{formatInt(view.usable.length)}</dd>
        </div>
        {stats && stats.examples > 0 && (
          <>
            <div>
              <dt>Tokens</dt>
              <dd data-testid="stat-lengths">
                median {Math.round(stats.tokens.median)} · p95 {Math.round(stats.tokens.p95)} · max {stats.tokens.max}
              </dd>
            </div>
            <div>
              <dt>Truncated at {formatInt(maxLength)}</dt>
              <dd data-testid="stat-truncated" className={stats.truncated > 0 ? 'warn' : undefined}>
                {formatInt(stats.truncated)} ({pct(stats.truncatedShare)})
              </dd>
            </div>
            <div>
              <dt>Exact duplicates</dt>
              <dd data-testid="stat-duplicates">{formatInt(stats.duplicates.rows)}</dd>
            </div>
            <div>
              <dt>Same prompt, other answer</dt>
              <dd data-testid="stat-duplicate-prompts">{formatInt(stats.duplicatePrompts)}</dd>
            </div>
            {!promptless && (
              <div>
                <dt>Blank prompts</dt>
                <dd data-testid="stat-empty-prompts">{formatInt(stats.emptyFields.prompt)}</dd>
              </div>
            )}
            <div>
              <dt>Blank answers</dt>
              <dd data-testid="stat-empty-answers" className={stats.emptyFields.output > 0 ? 'warn' : undefined}>
                {formatInt(stats.emptyFields.output)}
              </dd>
            </div>
            <div>
              <dt>Total tokens</dt>
              <dd>{formatInt(stats.tokens.total)}</dd>
            </div>
          </>
        )}
      </dl>
      {measure.status === 'running' && (
        <p className="hint" data-testid="measure-progress">
          Counting tokens… {formatInt(measure.done)} / {formatInt(measure.total)}
        </p>
      )}
      {measure.status === 'failed' && (
        <p className="field-error" data-testid="measure-error">
          Token counts are unavailable: {measure.message}
        </p>
      )}
      {stats && stats.examples > 0 && <LengthHistogram histogram={stats.histogram} maxLength={maxLength} />}
      {stats && stats.emptyFields.output > 0 && (
        <p className="hint" data-testid="blank-answer-hint">
          {plural(stats.emptyFields.output, 'example')} with a blank answer teach the model to stop at once: filter “Blank prompt or answer” to fix or delete them.
        </p>
      )}
      {stats && stats.truncated > 0 && (
        <p className="hint">
          {plural(stats.truncated, 'example')} will be cut at {formatInt(maxLength)} tokens: raise the max length, or use left truncation to keep the answers.
        </p>
      )}
    </div>
  );
}
