/** The app's actions: the store above, the worker engine below, the URL remembering the backend. */
import { createEngine } from '../client';
import { createActions } from './createActions';
import { useStudio } from './store';
import { withBackend } from './urlOptions';

export const actions = createActions(useStudio, {
  createEngine,
  onBackendChosen: (choice) => {
    const { pathname, search, hash } = window.location;
    window.history.replaceState(null, '', `${pathname}${withBackend(search, choice)}${hash}`);
  },
});
