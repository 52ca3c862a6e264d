/** Where a model comes from (four ways), how its load is going, and what was loaded. */
import { CachedModels } from './CachedModels';
import { HubPresetSource } from './HubPresetSource';
import { HubRepoSource } from './HubRepoSource';
import { LoadStatus } from './LoadStatus';
import { LocalFilesSource } from './LocalFilesSource';
import { ModelCard } from './ModelCard';
import { RandomModelSource } from './RandomModelSource';

export function ModelPanel() {
  return (
    <section className="panel" aria-labelledby="model-heading">
      <h2 id="model-heading">Model</h2>
      <LoadStatus />
      <ModelCard />
      <h3 className="section-heading">Get a model</h3>
      <HubPresetSource />
      <HubRepoSource />
      <LocalFilesSource />
      <RandomModelSource />
      <CachedModels />
    </section>
  );
}
