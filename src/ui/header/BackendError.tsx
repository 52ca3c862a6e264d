import { selectBackend, selectBackendChoice, useStudio } from '../../state';
import { Alert } from '../parts/Alert';

/** Init failed: the engine's message, and which backend to try instead. */
export function BackendError() {
  const backend = useStudio(selectBackend);
  const choice = useStudio(selectBackendChoice);
  if (backend.status !== 'failed') return null;
  const next = choice === 'wasm' ? 'cpu always works, slowly' : 'wasm runs on any machine';
  return (
    <Alert title={`The ${choice} backend did not start`} testId="backend-error">
      <p>{backend.message}</p>
      <p>Try another backend in the selector above ({next}).</p>
    </Alert>
  );
}
