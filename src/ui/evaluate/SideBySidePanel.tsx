/** One prompt to every chosen model, streamed into columns with the same sampling settings. */
import { useState } from 'react';
import { evalActions, useEval } from '../../state';
import { ActionButton } from '../parts/ActionButton';
import { useEvalEnvBlocker } from './useEvalEnvBlocker';

export function SideBySidePanel() {
  const sb = useEval((s) => s.sideBySide);
  const blocker = useEvalEnvBlocker(1);
  const [pickProblem, setPickProblem] = useState<string | null>(null);
  const running = sb.columns.some((c) => c.status === 'running' || c.status === 'waiting');
  const empty = sb.prompt.trim() === '' ? 'Type a prompt, or pick one from the test split.' : null;
  return (
    <div className="side-by-side">
      <h3>Side by side</h3>
      <label htmlFor="sbs-prompt">Prompt</label>
      <textarea id="sbs-prompt" data-testid="sbs-prompt" rows={3} value={sb.prompt} onChange={(e) => evalActions.setPrompt(e.target.value)} />
      <div className="row">
        <label className="checkbox">
          <input type="checkbox" data-testid="sbs-raw" checked={sb.raw} onChange={(e) => evalActions.setRaw(e.target.checked)} />
          Send the text as typed (no template)
        </label>
        <button type="button" className="btn btn-secondary" data-testid="sbs-pick" onClick={() => setPickProblem(evalActions.pickFromTest())}>
          Pick from the test split
        </button>
        {running ? (
          <button type="button" className="btn btn-danger" onClick={() => evalActions.cancel()}>
            Stop
          </button>
        ) : (
          <ActionButton variant="primary" data-testid="sbs-run" blocker={blocker ?? empty} onClick={() => void evalActions.runSideBySide()}>
            Generate
          </ActionButton>
        )}
      </div>
      <p className="hint">Uses the playground’s sampling settings for every model. Unless “as typed” is ticked, the prompt is wrapped in the template each run trained with (the Data tab’s for the base model and older runs); a prompt that already starts with the template goes as it is.</p>
      {pickProblem && <p className="field-error">{pickProblem}</p>}
      {sb.picked && (
        <div className="sbs-target" data-testid="sbs-target">
          <strong>Target answer</strong> (test example {sb.picked.id}) <pre>{sb.picked.target}</pre>
        </div>
      )}
      {sb.columns.length > 0 && (
        <div className="sbs-columns" data-testid="sbs-columns">
          {sb.columns.map((c) => (
            <article key={c.id} className="sbs-column" data-testid="sbs-column" data-status={c.status}>
              <h4>{c.label}</h4>
              <pre className="sbs-output">{c.text || (c.status === 'waiting' ? 'waiting…' : '')}</pre>
              {c.error && c.status === 'failed' && <p className="field-error">{c.error}</p>}
              <small className="muted" data-testid="sbs-speed">
                {c.status === 'done' ? `${c.tokens} tokens · ${c.tokensPerSecond?.toFixed(1)} tokens/s` : c.status}
              </small>
            </article>
          ))}
        </div>
      )}
      {sb.sent && !sb.raw && (
        <details data-testid="sbs-sent">
          <summary>{sb.sent === sb.prompt ? 'Text sent: as typed (it is already in the template)' : 'Text sent (your prompt in the template)'}</summary>
          <pre>{sb.sent}</pre>
        </details>
      )}
    </div>
  );
}

