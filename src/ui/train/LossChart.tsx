/** Train loss (raw and smoothed), eval loss, and the learning rate, by step. */
import { useMemo } from 'react';
import { CartesianGrid, Legend, Line, LineChart, Tooltip, XAxis, YAxis } from 'recharts';
import type { RunRecord } from '../../state';
import { lossChartData } from './chartData';
import { formatLoss, formatLr } from './trainFormat';
import { ChartBox } from '../parts/ChartBox';

const NAMES: Record<string, string> = { loss: 'train loss', smooth: 'train loss (smoothed)', evalLoss: 'eval loss', lr: 'learning rate' };

export function LossChart({ run }: { run: RunRecord }) {
  const data = useMemo(() => lossChartData(run.steps, run.evals), [run.steps, run.evals]);
  const points = data.filter((r) => r.loss !== undefined).length;
  const last = data[data.length - 1];
  return (
    <figure className="loss-chart" data-testid="loss-chart" data-points={points} aria-label={`Loss by step for ${run.name}: ${points} steps`}>
      {data.length === 0 ? (
        <p className="note chart-empty">The loss curve starts with the first step.</p>
      ) : (
        <ChartBox className="chart-box">
          <LineChart data={data} margin={{ top: 8, right: 4, bottom: 0, left: 0 }} accessibilityLayer={false}>
            <CartesianGrid vertical={false} className="chart-grid" />
            <XAxis dataKey="step" type="number" domain={[0, 'dataMax']} allowDecimals={false} tick={{ fontSize: 11 }} tickLine={false} />
            <YAxis yAxisId="loss" width={44} tick={{ fontSize: 11 }} tickLine={false} axisLine={false} domain={['auto', 'auto']} tickFormatter={(v: number) => formatLoss(v)} />
            <YAxis yAxisId="lr" orientation="right" width={52} tick={{ fontSize: 11 }} tickLine={false} axisLine={false} tickFormatter={(v: number) => formatLr(v)} />
            <Tooltip
              labelFormatter={(step) => `step ${step}`}
              formatter={(v, name) => [name === 'lr' ? formatLr(Number(v)) : formatLoss(Number(v)), NAMES[String(name)] ?? name]}
            />
            <Legend itemSorter={null} formatter={(name) => NAMES[String(name)] ?? name} wrapperStyle={{ fontSize: 12 }} />
            <Line yAxisId="loss" dataKey="loss" className="line-raw" stroke="#9db4e6" strokeWidth={1} dot={false} isAnimationActive={false} />
            <Line yAxisId="loss" dataKey="smooth" stroke="#1f4fb8" strokeWidth={2} dot={false} isAnimationActive={false} />
            <Line yAxisId="loss" dataKey="evalLoss" stroke="#c2410c" strokeWidth={1.5} dot={{ r: 3 }} connectNulls isAnimationActive={false} />
            <Line yAxisId="lr" dataKey="lr" stroke="#8a8c94" strokeWidth={1} strokeDasharray="4 3" dot={false} isAnimationActive={false} />
          </LineChart>
        </ChartBox>
      )}
      {last && (
        <figcaption className="hint">
          Smoothed: exponential moving average (0.9). Eval loss is measured on the test split{run.evals.some((e) => e.step === 0) ? ', first before any training' : ''}. Learning rate on the right axis.
        </figcaption>
      )}
    </figure>
  );
}
