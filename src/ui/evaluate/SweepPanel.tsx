/** The course's "vary the amount of data": train the Train tab's settings on growing shares of the data. */
import { useMemo, useState } from 'react';
import { CartesianGrid, Legend, Line, LineChart, Tooltip, XAxis, YAxis } from 'recharts';
import { trainActions, useTrain } from '../../state';
import { SWEEP_FRACTIONS } from '../../state/trainStore';
import { ActionButton } from '../parts/ActionButton';
import { useStartBlocker } from '../train/useTrainContext';
import { SWEEP_METRICS, sweepPoints, type SweepMetric } from './sweepView';
import { ChartBox } from '../parts/ChartBox';

export function SweepPanel() {
  const runs = useTrain((s) => s.runs);
  const blocker = useStartBlocker();
  const [fractions, setFractions] = useState<number[]>([...SWEEP_FRACTIONS]);
  const [metric, setMetric] = useState<SweepMetric>('trainLoss');
  const points = useMemo(() => sweepPoints(runs, metric), [runs, metric]);
  const toggle = (f: number) => setFractions((xs) => (xs.includes(f) ? xs.filter((x) => x !== f) : [...xs, f]));
  const none = fractions.length === 0 ? 'Tick at least one share of the data.' : null;
  return (
    <section className="panel" aria-labelledby="sweep-heading">
      <h2 id="sweep-heading">Data-amount sweep</h2>
      <p className="hint">
        Trains the Train tab’s settings on each share of the train split, one run after another, and plots the eval loss against the examples used: does more data still help? Each run is listed in the Train tab and can be
        compared here. Stopping a run ends the sweep.
      </p>
      <div className="row">
        {SWEEP_FRACTIONS.map((f) => (
          <label key={f} className="checkbox">
            <input type="checkbox" data-testid="sweep-fraction" checked={fractions.includes(f)} onChange={() => toggle(f)} />
            {f * 100}%
          </label>
        ))}
        <ActionButton variant="primary" data-testid="sweep-start" blocker={blocker ?? none} onClick={() => void trainActions.startSweep(fractions)}>
          Start sweep
        </ActionButton>
        <label htmlFor="sweep-metric">Also plot</label>
        <select id="sweep-metric" value={metric} onChange={(e) => setMetric(e.target.value as SweepMetric)}>
          {Object.entries(SWEEP_METRICS)
            .filter(([k]) => k !== 'evalLoss')
            .map(([k, m]) => (
              <option key={k} value={k}>
                {m.label}
              </option>
            ))}
        </select>
      </div>
      {points.length > 0 && (
        <figure className="sweep-chart" data-testid="sweep-chart" data-points={points.filter((p) => p.evalLoss !== null).length}>
          <ChartBox className="chart-box">
            <LineChart data={points} margin={{ top: 8, right: 4, bottom: 0, left: 0 }} accessibilityLayer={false}>
              <CartesianGrid vertical={false} className="chart-grid" />
              <XAxis dataKey="examples" type="number" domain={[0, 'dataMax']} tick={{ fontSize: 11 }} tickLine={false} />
              <YAxis width={44} tick={{ fontSize: 11 }} tickLine={false} axisLine={false} domain={['auto', 'auto']} />
              <Tooltip labelFormatter={(x) => `${x} training examples`} formatter={(v) => Number(v).toFixed(3)} />
              <Legend wrapperStyle={{ fontSize: 12 }} />
              <Line dataKey="evalLoss" name="final eval loss" stroke="var(--accent)" connectNulls isAnimationActive={false} />
              <Line dataKey="metric" name={SWEEP_METRICS[metric].label} stroke="var(--muted)" strokeDasharray="4 3" connectNulls isAnimationActive={false} />
            </LineChart>
          </ChartBox>
          <figcaption className="muted">
            {points.map((p) => `${p.name}: ${p.examples} examples, ${p.status}${p.evalLoss !== null ? `, eval loss ${p.evalLoss.toFixed(3)}` : ''}`).join(' · ')}
          </figcaption>
        </figure>
      )}
    </section>
  );
}
