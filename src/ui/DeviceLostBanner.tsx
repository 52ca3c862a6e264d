/** tfjs-webgpu does not recover from a lost GPU device, so the only way on is a new engine on WASM. */
import { actions, selectDeviceLost, useStudio } from '../state';

export function DeviceLostBanner() {
  const message = useStudio(selectDeviceLost);
  if (message === null) return null;
  return (
    <div className="banner" role="alert" data-testid="device-lost">
      <div>
        <strong>The GPU device was lost.</strong> <span data-testid="device-lost-message">{message}</span>
        <p className="hint">The model and any running job are gone. WASM runs on the CPU and cannot be lost this way.</p>
      </div>
      <button type="button" className="btn btn-primary" data-testid="restart-wasm" onClick={() => void actions.restartOnWasm()}>
        Restart on WASM
      </button>
    </div>
  );
}
