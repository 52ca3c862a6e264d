/** Page entry: start the engine with the URL's options and restore the dataset, then render. */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { browserShellEnv, startAppShell } from './offline/appShell';
import { actions, datasetActions, evalActions, parseStartOptions, trainActions } from './state';
import { App } from './ui/App';
import './ui/app.css';

// Started here, not in an effect, so StrictMode's double mount cannot spawn two workers.
void actions.start(parseStartOptions(window.location.search));
void datasetActions.start();
void trainActions.restore();
void evalActions.restore();
// The service worker: WASM threads where the host sends no isolation headers, offline use, updates.
void startAppShell(browserShellEnv());

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
