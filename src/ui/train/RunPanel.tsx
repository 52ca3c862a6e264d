/** The right panel: the live (or latest) run, its curves and samples, then every run so far. */
import { selectRunStorageProblem, useTrain } from '../../state';
import { Alert } from '../parts/Alert';
import { CompareRuns } from './CompareRuns';
import { ExportPanel } from './ExportPanel';
import { LossChart } from './LossChart';
import { PreferenceChart } from './PreferenceChart';
import { RunCard } from './RunCard';
import { RunSamples } from './RunSamples';
import { RunsTable } from './RunsTable';
import { currentRun } from './runView';

export function RunPanel() {
  const run = useTrain((s) => currentRun(s.runs));
  const storageProblem = useTrain(selectRunStorageProblem);
  return (
    <section className={run ? 'panel' : 'panel panel-idle'} aria-labelledby="run-heading">
      <h2 id="run-heading">Run</h2>
      {storageProblem && (
        <Alert title="Runs are not being saved" tone="warning" testId="run-storage-problem">
          <p>{storageProblem}</p>
        </Alert>
      )}
      {run ? (
        <>
          <RunCard run={run} />
          <LossChart run={run} />
          {run.config.objective === 'dpo' && <PreferenceChart run={run} />}
          <RunSamples run={run} />
        </>
      ) : (
        <p className="hint">Start a run on the left: its progress, loss curve and sample answers show here, and every run is kept below for comparison.</p>
      )}
      <RunsTable />
      <CompareRuns />
      <ExportPanel />
    </section>
  );
}
