/** A tiny random GPT-NeoX made in the browser: no download, so the studio works offline. */
import { actions, approxParamCount, isRandomPresetName, RANDOM_PRESETS, selectLoadBlocker, selectModelForm, useStudio, type RandomPresetName } from '../../state';
import { formatCount } from '../format';
import { ActionButton } from '../parts/ActionButton';

const NAMES = Object.keys(RANDOM_PRESETS) as RandomPresetName[];

export function RandomModelSource() {
  const { randomPreset, randomSeed } = useStudio(selectModelForm);
  const loadBlocker = useStudio(selectLoadBlocker);
  const seedOk = /^\d+$/.test(randomSeed.trim());
  const blocker = loadBlocker ?? (seedOk ? null : 'The seed must be a whole number, 0 or more.');
  const spec = RANDOM_PRESETS[randomPreset];
  return (
    <fieldset className="source">
      <legend>Random tiny model (offline)</legend>
      <div className="row">
        <div className="grow">
          <label htmlFor="random-preset-select">Size</label>
          <select
            id="random-preset-select"
            data-testid="random-preset-select"
            value={randomPreset}
            onChange={(e) => {
              if (isRandomPresetName(e.target.value)) actions.setModelForm({ randomPreset: e.target.value });
            }}
          >
            {NAMES.map((n) => (
              <option key={n} value={n}>
                {n}: hidden {RANDOM_PRESETS[n].hiddenSize}, {RANDOM_PRESETS[n].numLayers} layers, {RANDOM_PRESETS[n].numHeads} heads
              </option>
            ))}
          </select>
        </div>
        <div className="narrow">
          <label htmlFor="random-seed">Seed</label>
          <input
            id="random-seed"
            data-testid="random-seed"
            type="number"
            min={0}
            step={1}
            value={randomSeed}
            onChange={(e) => actions.setModelForm({ randomSeed: e.target.value })}
          />
        </div>
        <ActionButton blocker={blocker} variant="primary" data-testid="model-random-create" onClick={() => void actions.createRandomModel()}>
          Create
        </ActionButton>
      </div>
      <p className="hint">
        About <span data-testid="random-param-count">{formatCount(approxParamCount(spec.hiddenSize, spec.numLayers))}</span> parameters (most in
        the 50304-row embeddings), bundled Pythia tokenizer. Random weights write gibberish: it is for trying the studio, not for reading.
      </p>
    </fieldset>
  );
}
