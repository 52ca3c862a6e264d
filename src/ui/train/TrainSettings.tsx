/** The left panel: preset, method, optimizer, batch, cadence, then the estimate and Start. */
import { useState } from 'react';
import { BatchSettings } from './BatchSettings';
import { CadenceSettings } from './CadenceSettings';
import { EstimateCard } from './EstimateCard';
import { MethodSettings } from './MethodSettings';
import { ObjectiveSettings } from './ObjectiveSettings';
import { OptimizerSettings } from './OptimizerSettings';
import { PresetPicker } from './PresetPicker';
import { StartRow } from './StartRow';
import { useEstimateInputs, useEstimateSync } from './useEstimateSync';

export function TrainSettings() {
  // A preset replaces every value: remount the fields so half-typed text does not hide the new ones.
  const [generation, setGeneration] = useState(0);
  const inputs = useEstimateInputs();
  useEstimateSync(inputs);
  return (
    <section className="panel train-settings" aria-labelledby="train-settings-heading">
      <h2 id="train-settings-heading">Training settings</h2>
      <p className="hint">Trains the model loaded on the Model tab on the Data tab’s training split. A run’s settings are fixed when it starts.</p>
      <PresetPicker onApply={() => setGeneration((g) => g + 1)} />
      <div key={generation}>
        <ObjectiveSettings />
        <MethodSettings />
        <OptimizerSettings />
        <BatchSettings packing={inputs.packing} />
        <CadenceSettings />
      </div>
      <EstimateCard inputs={inputs} />
      <StartRow />
    </section>
  );
}
