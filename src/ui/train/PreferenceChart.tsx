/** A DPO run's rewards (chosen, rejected), their margin and the preference accuracy, by step. */
import { useMemo } from 'react';
import { CartesianGrid, Legend, Line, LineChart, Tooltip, XAxis, YAxis } from 'recharts';
import type { RunRecord } from '../../state';
import { ChartBox } from '../parts/ChartBox';
import { preferenceChartData } from './chartData';

const NAMES: Record<string, string> = {
  chosen: 'chosen reward',
  rejected: 'rejected reward',
  margin: 'margin',
  accuracy: 'accuracy',
  evalMargin: 'eval margin',
  evalAccuracy: 'eval accuracy',
};
const isShare = (name: string) => name === 'accuracy' || name === 'evalAccuracy';
const format = (v: number, name: string) => (isShare(name) ? `${Math.round(v * 100)}%` : v.toFixed(3));

export function PreferenceChart({ run }: { run: RunRecord }) {
  const data = useMemo(() => preferenceChartData(run.steps, run.evals), [run.steps, run.evals]);
  const last = [...data].reverse().find((r) => r.margin !== undefined);
  return (
    <figure className="loss-chart" data-testid="preference-chart" data-points={data.length} data-margin={last?.margin ?? ''} aria-label={`DPO rewards by step for ${run.name}: ${data.length} points`}>
      {data.length === 0 ? (
        <p className="note chart-empty">The rewards start with the first step.</p>
      ) : (
        <ChartBox className="chart-box">
          <LineChart data={data} margin={{ top: 8, right: 4, bottom: 0, left: 0 }} accessibilityLayer={false}>
            <CartesianGrid vertical={false} className="chart-grid" />
            <XAxis dataKey="step" type="number" domain={[0, 'dataMax']} allowDecimals={false} tick={{ fontSize: 11 }} tickLine={false} />
            <YAxis yAxisId="reward" width={44} tick={{ fontSize: 11 }} tickLine={false} axisLine={false} domain={['auto', 'auto']} tickFormatter={(v: number) => v.toFixed(2)} />
            <YAxis yAxisId="share" orientation="right" width={40} domain={[0, 1]} tick={{ fontSize: 11 }} tickLine={false} axisLine={false} tickFormatter={(v: number) => `${Math.round(v * 100)}%`} />
            <Tooltip labelFormatter={(step) => `step ${step}`} formatter={(v, name) => [format(Number(v), String(name)), NAMES[String(name)] ?? name]} />
            <Legend itemSorter={null} formatter={(name) => NAMES[String(name)] ?? name} wrapperStyle={{ fontSize: 12 }} />
            <Line yAxisId="reward" dataKey="chosen" stroke="#15803d" strokeWidth={1.5} dot={false} isAnimationActive={false} />
            <Line yAxisId="reward" dataKey="rejected" stroke="#b91c1c" strokeWidth={1.5} dot={false} isAnimationActive={false} />
            <Line yAxisId="reward" dataKey="margin" stroke="#1f4fb8" strokeWidth={2} dot={false} isAnimationActive={false} />
            <Line yAxisId="share" dataKey="accuracy" stroke="#8a8c94" strokeWidth={1} strokeDasharray="4 3" dot={false} isAnimationActive={false} />
            <Line yAxisId="reward" dataKey="evalMargin" stroke="#c2410c" strokeWidth={1.5} dot={{ r: 3 }} connectNulls isAnimationActive={false} />
          </LineChart>
        </ChartBox>
      )}
      <figcaption className="hint">
        Reward = β × (log-probability under the trained model − under the base), per answer. The margin (chosen − rejected) should rise; accuracy is the share of pairs where the chosen answer’s reward is higher (right axis).
      </figcaption>
    </figure>
  );
}
