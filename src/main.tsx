/** Page entry: start the engine with the URL's options and restore the dataset, then render. */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { actions, datasetActions, evalActions, parseStartOptions, trainActions } from './state';
import { App } from './ui/App';
import './ui/app.css';

// Started here, not in an effect, so StrictMode's double mount cannot spawn two workers.
void actions.start(parseStartOptions(window.location.search));
void datasetActions.start();
void trainActions.restore();
void evalActions.restore();

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
