/** Blind A/B: two random models answer a random test prompt; the vote moves their Elo ratings. */
import { useMemo } from 'react';
import { ratingsFrom } from '../../eval/elo';
import { MIN_PREFERENCE_PAIRS } from '../../eval/preferenceVotes';
import { evalActions, useEval } from '../../state';
import { ActionButton } from '../parts/ActionButton';
import { useEvalEnvBlocker } from './useEvalEnvBlocker';
import { useModelChoices } from './useModelChoices';

export function ArenaPanel() {
  const arena = useEval((s) => s.arena);
  const choices = useModelChoices();
  const envBlocker = useEvalEnvBlocker(0);
  const blocker = envBlocker ?? (choices.length < 2 ? 'The arena needs two models: train a run first.' : null);
  const standings = useMemo(() => {
    const ids = [...new Set(arena.votes.flatMap((v) => [v.a, v.b]))];
    const s = ratingsFrom(arena.votes, ids);
    return ids.map((id) => ({ id, label: arena.labels[id] ?? id, rating: s.ratings[id], votes: s.votes[id] })).sort((a, b) => b.rating - a.rating);
  }, [arena.votes, arena.labels]);
  const m = arena.match;
  return (
    <section className="panel" aria-labelledby="arena-heading">
      <h2 id="arena-heading">Arena</h2>
      <p className="hint">Which answer is better? The models stay hidden until you vote. Elo ratings (K = 32, from 1000) are rebuilt from every vote, kept in this browser.</p>
      <ActionButton variant={m ? 'secondary' : 'primary'} blocker={blocker} data-testid="arena-next" onClick={() => void evalActions.nextMatch()}>
        {m ? 'Skip: another prompt' : 'New match'}
      </ActionButton>
      {m && (
        <div className="arena-match" data-testid="arena-match">
          <pre className="arena-prompt">{m.example.prompt}</pre>
          {m.status === 'generating' && <p className="muted">Both models are answering…</p>}
          {m.status === 'failed' && <p className="field-error">{m.error}</p>}
          {m.status === 'ready' && (
            <>
              <div className="sbs-columns">
                <article className="sbs-column">
                  <h4>A</h4>
                  <pre className="sbs-output" data-testid="arena-a">{m.outA}</pre>
                </article>
                <article className="sbs-column">
                  <h4>B</h4>
                  <pre className="sbs-output" data-testid="arena-b">{m.outB}</pre>
                </article>
              </div>
              <div className="row">
                <button type="button" className="btn btn-secondary" data-testid="vote-a" onClick={() => evalActions.vote('a')}>
                  A is better
                </button>
                <button type="button" className="btn btn-secondary" data-testid="vote-tie" onClick={() => evalActions.vote('tie')}>
                  Tie
                </button>
                <button type="button" className="btn btn-secondary" data-testid="vote-b" onClick={() => evalActions.vote('b')}>
                  B is better
                </button>
              </div>
            </>
          )}
        </div>
      )}
      {standings.length > 0 && (
        <>
          <table className="eval-metrics" data-testid="arena-ratings">
            <thead>
              <tr>
                <th scope="col">Model</th>
                <th scope="col">Elo</th>
                <th scope="col">Votes</th>
              </tr>
            </thead>
            <tbody>
              {standings.map((s) => (
                <tr key={s.id} data-testid="arena-rating" data-model-id={s.id}>
                  <th scope="row">{s.label}</th>
                  <td className="num" data-testid="elo">{Math.round(s.rating)}</td>
                  <td className="num">{s.votes}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <p className="muted">
            {arena.votes.length} vote{arena.votes.length === 1 ? '' : 's'}.{' '}
            <button type="button" className="link-button" onClick={() => window.confirm('Forget every arena vote?') && evalActions.resetArena()}>
              Reset
            </button>
          </p>
          <VotesAsPreferences pairs={arena.pairs.length} />
        </>
      )}
    </section>
  );
}

/** The decided votes as a preference dataset: downloaded, or loaded into the Data tab for a DPO run. */
function VotesAsPreferences({ pairs }: { pairs: number }) {
  const trainBlocker = pairs < MIN_PREFERENCE_PAIRS ? `Vote on at least ${MIN_PREFERENCE_PAIRS} matches with a winner (ties make no pair).` : null;
  const train = async () => {
    if (!window.confirm(`Load your ${pairs} decided votes into the Data tab as preference pairs (your current dataset stays one Undo away) and set up a DPO run?`)) return;
    await evalActions.trainOnVotes();
    window.location.hash = 'train';
  };
  return (
    <div className="row" data-testid="arena-preferences">
      <button type="button" className="btn btn-secondary" data-testid="arena-export-preferences" disabled={pairs === 0} onClick={() => evalActions.exportPreferences()}>
        Export my votes as a preference dataset
      </button>
      <ActionButton variant="secondary" blocker={trainBlocker} data-testid="arena-train-on-votes" onClick={() => void train()}>
        Train on my votes (DPO)
      </ActionButton>
      <small className="hint">
        {pairs} pair{pairs === 1 ? '' : 's'}: the prompt, the answer you preferred and the other, as prompt / chosen / rejected JSONL.
      </small>
    </div>
  );
}
