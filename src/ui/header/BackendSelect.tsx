import { actions, BACKEND_CHOICES, isBackendChoice, selectBackendChoice, useStudio } from '../../state';

const LABELS = { auto: 'auto (best available)', webgpu: 'webgpu', wasm: 'wasm', cpu: 'cpu (slow, for checks)' } as const;

export function BackendSelect() {
  const choice = useStudio(selectBackendChoice);
  return (
    <div className="backend-select">
      <label htmlFor="backend-select">Backend</label>
      <select
        id="backend-select"
        data-testid="backend-select"
        value={choice}
        aria-describedby="backend-select-hint"
        onChange={(e) => {
          if (isBackendChoice(e.target.value)) void actions.switchBackend(e.target.value);
        }}
      >
        {BACKEND_CHOICES.map((c) => (
          <option key={c} value={c}>
            {LABELS[c]}
          </option>
        ))}
      </select>
      <small className="hint" id="backend-select-hint">
        Changing it restarts the engine; the model must be loaded again.
      </small>
    </div>
  );
}
