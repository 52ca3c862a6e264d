/** The Train tab: what to train with (left), and the run as it goes, with earlier runs (right). */
import { RunPanel } from './RunPanel';
import { TrainSettings } from './TrainSettings';
import './train.css';

export function TrainPage() {
  return (
    <>
      <TrainSettings />
      <RunPanel />
    </>
  );
}
