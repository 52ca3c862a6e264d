/** Checkpoints of every family on the Hub, with what each costs to download and to hold before it is picked. */
import { actions, findHubPreset, HUB_PRESETS, selectHubMirror, selectLoadBlocker, selectModelForm, useStudio } from '../../state';
import { formatBytes, formatCount } from '../format';
import { ActionButton } from '../parts/ActionButton';

export function HubPresetSource() {
  const { preset } = useStudio(selectModelForm);
  const blocker = useStudio(selectLoadBlocker);
  const mirror = useStudio(selectHubMirror);
  const chosen = findHubPreset(preset);
  return (
    <fieldset className="source">
      <legend>A model from the Hub</legend>
      {mirror && (
        <p className="note" data-testid="hub-endpoint">
          Hub endpoint: <code>{mirror}</code> (a mirror, set by <code>?hub=</code>)
        </p>
      )}
      <div className="row">
        <label className="visually-hidden" htmlFor="hub-preset-select">
          Model
        </label>
        <select
          id="hub-preset-select"
          data-testid="hub-preset-select"
          value={preset}
          onChange={(e) => actions.setModelForm({ preset: e.target.value })}
        >
          {HUB_PRESETS.map((p) => (
            <option key={p.repo} value={p.repo}>
              {p.repo} · {formatCount(p.paramCount)} params · {formatBytes(p.downloadBytes, 0)}
            </option>
          ))}
        </select>
        <ActionButton blocker={blocker} variant="primary" data-testid="hub-preset-load" onClick={() => void actions.loadHubPreset()}>
          Load
        </ActionButton>
      </div>
      {chosen && (
        <p className="hint" data-testid="hub-preset-info">
          {chosen.note}. {formatCount(chosen.paramCount)} parameters · {formatBytes(chosen.downloadBytes, 0)} download · about{' '}
          {formatBytes(chosen.paramCount * 4, 0)} on the device (float32). Downloaded once, then cached in the browser.
        </p>
      )}
    </fieldset>
  );
}
