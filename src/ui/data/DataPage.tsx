/** The data tab: where the data comes from and how it becomes tokens (left), what it looks like (right). */
import { useDataset, useDerivedDataset } from '../../state';
import { DatasetSource } from './DatasetSource';
import { DatasetStats } from './DatasetStats';
import './data.css';
import { ExampleDetail } from './ExampleDetail';
import { ExampleList } from './ExampleList';
import { MappingSettings } from './MappingSettings';
import { SplitSettings } from './SplitSettings';
import { TemplateSettings } from './TemplateSettings';
import { TokenizeSettings } from './TokenizeSettings';

export function DataPage() {
  const view = useDerivedDataset();
  const restoring = useDataset((s) => s.restoring);
  return (
    <>
      <section className="panel" aria-labelledby="data-heading">
        <h2 id="data-heading">Dataset</h2>
        <DatasetSource />
        {view && (
          <>
            <MappingSettings view={view} />
            <TemplateSettings view={view} />
            <TokenizeSettings settings={view.dataset.tokenize} />
            <SplitSettings view={view} />
          </>
        )}
      </section>
      <section className="panel" aria-labelledby="examples-heading">
        <h2 id="examples-heading">Examples</h2>
        {view ? (
          <>
            <DatasetStats view={view} />
            <ExampleList view={view} />
            <ExampleDetail view={view} />
          </>
        ) : (
          <p className="hint">{restoring ? 'Restoring your dataset…' : 'Load a dataset on the left: its examples, statistics and tokens show here.'}</p>
        )}
      </section>
    </>
  );
}
