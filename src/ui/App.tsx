/** The page: header, a lost-device or update banner when needed, the tabs, then the open tab's panels. */
import { DataPage } from './data/DataPage';
import { DeviceLostBanner } from './DeviceLostBanner';
import { UpdateBanner } from './UpdateBanner';
import { EvaluatePage } from './evaluate/EvaluatePage';
import { Header } from './header/Header';
import { ModelPanel } from './model/ModelPanel';
import { PlaygroundPanel } from './playground/PlaygroundPanel';
import { TrainPage } from './train/TrainPage';
import { TABS, useTab } from './useTab';

export function App() {
  const [tab, setTab] = useTab();
  return (
    <div className="app">
      <Header />
      <DeviceLostBanner />
      <UpdateBanner />
      <nav aria-label="Studio sections">
        <div className="tabs" role="tablist">
          {TABS.map((t) => (
            <button
              key={t.id}
              type="button"
              role="tab"
              id={`tab-${t.id}`}
              aria-selected={tab === t.id}
              aria-controls={`tabpanel-${t.id}`}
              data-testid={`tab-${t.id}`}
              className={tab === t.id ? 'tab tab-active' : 'tab'}
              onClick={() => setTab(t.id)}
            >
              {t.label}
            </button>
          ))}
        </div>
      </nav>
      {/* All stay mounted: switching tabs must not drop a running generation's output or a half-typed edit. */}
      <main>
        <section className="columns" role="tabpanel" id="tabpanel-model" aria-labelledby="tab-model" hidden={tab !== 'model'}>
          <ModelPanel />
          <PlaygroundPanel />
        </section>
        <section className="columns" role="tabpanel" id="tabpanel-data" aria-labelledby="tab-data" hidden={tab !== 'data'}>
          <DataPage />
        </section>
        <section className="columns" role="tabpanel" id="tabpanel-train" aria-labelledby="tab-train" hidden={tab !== 'train'}>
          <TrainPage />
        </section>
        <section role="tabpanel" id="tabpanel-evaluate" aria-labelledby="tab-evaluate" hidden={tab !== 'evaluate'}>
          <EvaluatePage />
        </section>
      </main>
    </div>
  );
}
