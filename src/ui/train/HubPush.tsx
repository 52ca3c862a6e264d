/** Push the export to a Hub repo with the person's token; the token stays in this tab unless they ask to keep it. */
import { useState } from 'react';
import { keepHubToken, loadHubToken, type HubTarget } from '../../state';
import { ActionButton } from '../parts/ActionButton';

export function HubPush({ onPush, busy }: { onPush: (t: HubTarget) => Promise<boolean>; busy: string | null }) {
  const [repo, setRepo] = useState('');
  const [saved] = useState(loadHubToken);
  const [token, setToken] = useState(saved.token);
  const [remember, setRemember] = useState(saved.remembered);
  const [priv, setPriv] = useState(true);
  const missing = repo.trim() === '' ? 'Type the repo to push to, e.g. your-name/pythia-70m-lamini.' : token.trim() === '' ? 'Paste a write token from huggingface.co/settings/tokens.' : null;
  return (
    <details className="hub-push">
      <summary>Push to the Hugging Face Hub</summary>
      <div className="row">
        <div className="field grow">
          <label htmlFor="hub-repo">Repo</label>
          <input id="hub-repo" data-testid="hub-repo" type="text" placeholder="your-name/model-name" value={repo} onChange={(e) => setRepo(e.target.value)} />
        </div>
        <div className="field grow">
          <label htmlFor="hub-token">Write token</label>
          <input id="hub-token" data-testid="hub-token" type="password" autoComplete="off" placeholder="hf_…" value={token} onChange={(e) => setToken(e.target.value)} />
        </div>
      </div>
      <div className="row">
        <label className="checkbox">
          <input type="checkbox" checked={priv} onChange={(e) => setPriv(e.target.checked)} />
          Private repo
        </label>
        <label className="checkbox">
          <input type="checkbox" checked={remember} onChange={(e) => setRemember(e.target.checked)} />
          Keep the token in this browser
        </label>
        <ActionButton
          blocker={busy ?? missing}
          data-testid="hub-push"
          onClick={() => {
            const t = token.trim();
            void onPush({ repo: repo.trim(), token: t, private: priv }).then((pushed) => pushed && keepHubToken(t, remember));
          }}
        >
          Push
        </ActionButton>
      </div>
      <small className="hint">The files and a model card (data, template, settings, metrics) go straight from this tab to the Hub. The token is sent only there; once a push works it is kept for this tab's session, and in this browser only if you tick the box.</small>
    </details>
  );
}
