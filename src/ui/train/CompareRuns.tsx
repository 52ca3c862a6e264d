/** The ticked runs side by side: their loss curves on one chart, and the settings that differ. */
import { useMemo } from 'react';
import { CartesianGrid, Legend, Line, LineChart, Tooltip, XAxis, YAxis } from 'recharts';
import { useTrain, type RunRecord } from '../../state';
import { compareChartData } from './chartData';
import { configDiff } from './configDiff';
import { newestFirst } from './runView';
import { formatLoss } from './trainFormat';
import { ChartBox } from '../parts/ChartBox';

/** One colour per run, distinct for the usual handful; they repeat after eight. */
export const RUN_COLOURS = ['#1f4fb8', '#c2410c', '#1d7a46', '#7c3aed', '#b91c5c', '#0e7490', '#a16207', '#4b5563'];

export function CompareRuns() {
  const allRuns = useTrain((s) => s.runs);
  const compare = useTrain((s) => s.compare);
  // Oldest first, so a run keeps its colour as newer ones are ticked.
  const runs = useMemo(() => newestFirst(allRuns.filter((r) => compare.includes(r.id))).reverse(), [allRuns, compare]);
  if (runs.length < 2) return null;
  return (
    <section className="compare" data-testid="compare" data-runs={runs.length} aria-labelledby="compare-heading">
      <h3 id="compare-heading">Comparing {runs.length} runs</h3>
      <CompareChart runs={runs} />
      <ConfigDiffTable runs={runs} />
    </section>
  );
}

function CompareChart({ runs }: { runs: RunRecord[] }) {
  const data = useMemo(() => compareChartData(runs), [runs]);
  const names = new Map<string, string>(runs.flatMap((r, i) => [[`train${i}`, `${r.name} train`] as const, [`eval${i}`, `${r.name} eval`] as const]));
  return (
    <figure className="loss-chart" data-testid="compare-chart" aria-label={`Smoothed train loss and eval loss of ${runs.map((r) => r.name).join(', ')}`}>
      <ChartBox className="chart-box">
        <LineChart data={data} margin={{ top: 8, right: 8, bottom: 0, left: 0 }} accessibilityLayer={false}>
          <CartesianGrid vertical={false} className="chart-grid" />
          <XAxis dataKey="step" type="number" domain={[0, 'dataMax']} allowDecimals={false} tick={{ fontSize: 11 }} tickLine={false} />
          <YAxis width={44} tick={{ fontSize: 11 }} tickLine={false} axisLine={false} domain={['auto', 'auto']} tickFormatter={(v: number) => formatLoss(v)} />
          <Tooltip labelFormatter={(step) => `step ${step}`} formatter={(v, name) => [formatLoss(Number(v)), names.get(String(name)) ?? name]} />
          <Legend itemSorter={null} formatter={(name) => names.get(String(name)) ?? name} wrapperStyle={{ fontSize: 12 }} />
          {runs.map((r, i) => (
            <Line key={`t${r.id}`} dataKey={`train${i}`} stroke={RUN_COLOURS[i % RUN_COLOURS.length]} strokeWidth={2} dot={false} connectNulls isAnimationActive={false} />
          ))}
          {runs.map((r, i) =>
            r.evals.length > 0 ? (
              <Line
                key={`e${r.id}`}
                dataKey={`eval${i}`}
                stroke={RUN_COLOURS[i % RUN_COLOURS.length]}
                strokeWidth={1.5}
                strokeDasharray="5 3"
                dot={{ r: 2.5 }}
                connectNulls
                isAnimationActive={false}
              />
            ) : null,
          )}
        </LineChart>
      </ChartBox>
      <figcaption className="hint">Solid: train loss, smoothed. Dashed with dots: eval loss.</figcaption>
    </figure>
  );
}

function ConfigDiffTable({ runs }: { runs: RunRecord[] }) {
  const rows = configDiff(runs.map((r) => r.config));
  const otherModel = runs.some((r) => r.model !== runs[0].model);
  const otherData = runs.some((r) => r.dataset.name !== runs[0].dataset.name || r.dataset.train !== runs[0].dataset.train);
  return (
    <div className="config-diff">
      <h4>Settings that differ</h4>
      {rows.length === 0 ? (
        <p className="hint" data-testid="config-diff-none">
          The same training settings{otherModel || otherData ? '.' : ', model and data: with the same seed the curves should match.'}
        </p>
      ) : (
        <div className="table-scroll">
          <table className="runs-table" data-testid="config-diff">
            <thead>
              <tr>
                <th scope="col">Setting</th>
                {runs.map((r, i) => (
                  <th scope="col" key={r.id}>
                    <span className="swatch" style={{ background: RUN_COLOURS[i % RUN_COLOURS.length] }} aria-hidden="true" /> {r.name}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => (
                <tr key={row.field} data-testid="config-diff-row">
                  <th scope="row">
                    <code>{row.field}</code>
                  </th>
                  {row.values.map((v, i) => (
                    <td key={runs[i].id}>{v}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {(otherModel || otherData) && (
        <p className="note">
          {otherModel && 'The runs trained different models. '}
          {otherData && 'The runs trained on different data.'}
        </p>
      )}
    </div>
  );
}
