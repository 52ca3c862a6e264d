/** The page header: product name, which compute backend runs and why, and the backend picker. */
import { BackendDetails } from './BackendDetails';
import { BackendError } from './BackendError';
import { BackendSelect } from './BackendSelect';
import { BackendStatus } from './BackendStatus';

export function Header() {
  return (
    <header className="app-header">
      <div className="app-header-row">
        <h1 className="app-title">
          <img src={`${import.meta.env.BASE_URL}favicon.svg`} alt="" width={28} height={28} />
          NeoX Studio
        </h1>
        <BackendStatus />
        <BackendSelect />
      </div>
      <BackendDetails />
      <BackendError />
    </header>
  );
}
