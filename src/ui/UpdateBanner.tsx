/** A new build of the studio was deployed: offered, never forced (a reload in the middle of a run would pause it). */
import { applyUpdate, selectUpdateReady, useAppShell } from '../state';

export function UpdateBanner() {
  const ready = useAppShell(selectUpdateReady);
  if (!ready) return null;
  return (
    <div className="banner banner-info" role="status" data-testid="update-ready">
      <div>
        <strong>A new version of the studio is ready.</strong> Reload to use it: datasets, runs and checkpoints are kept (a run in progress stops, and Resume continues it from its last checkpoint).
      </div>
      <button type="button" className="btn btn-primary" data-testid="update-apply" onClick={applyUpdate}>
        Reload to update
      </button>
    </div>
  );
}
