/** The Evaluate tab: pick models, then side by side, batch evaluation, the arena, ARC and the data sweep. */
import { ArcPanel } from './ArcPanel';
import { ArenaPanel } from './ArenaPanel';
import { BatchEvalPanel } from './BatchEvalPanel';
import { ModelPicker } from './ModelPicker';
import { SideBySidePanel } from './SideBySidePanel';
import { SweepPanel } from './SweepPanel';
import './evaluate.css';

export function EvaluatePage() {
  return (
    <div className="evaluate">
      <section className="panel" aria-labelledby="compare-heading">
        <h2 id="compare-heading">Compare models</h2>
        <ModelPicker />
        <SideBySidePanel />
      </section>
      <BatchEvalPanel />
      <div className="evaluate-pair">
        <ArenaPanel />
        <ArcPanel />
      </div>
      <SweepPanel />
    </div>
  );
}
