/** Any repo of a supported family on the Hub (or the mirror), at any revision. */
import { actions, selectLoadBlocker, selectModelForm, useStudio } from '../../state';
import { ActionButton } from '../parts/ActionButton';

export function HubRepoSource() {
  const { repo, revision } = useStudio(selectModelForm);
  const loadBlocker = useStudio(selectLoadBlocker);
  const blocker = loadBlocker ?? (repo.trim() === '' ? 'Type a repo id such as EleutherAI/pythia-70m.' : null);
  return (
    <fieldset className="source">
      <legend>Any Hub repo</legend>
      <form
        className="row"
        onSubmit={(e) => {
          e.preventDefault();
          if (blocker === null) void actions.loadHubRepo();
        }}
      >
        <div className="grow">
          <label htmlFor="hub-repo-input">Repo id</label>
          <input
            id="hub-repo-input"
            data-testid="hub-repo-input"
            type="text"
            placeholder="owner/name, e.g. EleutherAI/pythia-70m"
            spellCheck={false}
            autoComplete="off"
            value={repo}
            onChange={(e) => actions.setModelForm({ repo: e.target.value })}
          />
        </div>
        <div className="narrow">
          <label htmlFor="hub-revision-input">Revision</label>
          <input
            id="hub-revision-input"
            data-testid="hub-revision-input"
            type="text"
            placeholder="main"
            spellCheck={false}
            autoComplete="off"
            value={revision}
            onChange={(e) => actions.setModelForm({ revision: e.target.value })}
          />
        </div>
        <ActionButton blocker={blocker} variant="primary" type="submit" data-testid="hub-load">
          Load
        </ActionButton>
      </form>
      <p className="hint">
        Needs a <code>config.json</code> of a supported family (GPT-NeoX, Llama, Qwen2, Qwen3, GPT-2) and <code>model.safetensors</code> (or shards with
        their index). Uses the repo's <code>tokenizer.json</code> and chat template, or the bundled Pythia tokenizer if it has none. Revision: a branch,
        tag or commit.
      </p>
    </fieldset>
  );
}
