/** The page: header, a lost-device banner when needed, then model (left) and playground (right). */
import { DeviceLostBanner } from './DeviceLostBanner';
import { Header } from './header/Header';
import { ModelPanel } from './model/ModelPanel';
import { PlaygroundPanel } from './playground/PlaygroundPanel';

export function App() {
  return (
    <div className="app">
      <Header />
      <DeviceLostBanner />
      <main className="columns">
        <ModelPanel />
        <PlaygroundPanel />
      </main>
    </div>
  );
}
