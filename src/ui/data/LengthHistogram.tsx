/** Examples per token length, with the bins that truncation reaches set apart. */
import { useMemo } from 'react';
import { Bar, BarChart, CartesianGrid, Rectangle, ReferenceLine, Tooltip, XAxis, YAxis, type BarShapeProps } from 'recharts';
import type { LengthHistogram as LengthHistogramData } from '../../data/stats';
import { formatInt } from '../format';
import { binLabel, binOverflows, maxLengthBin } from './tokenDisplay';
import { ChartBox } from '../parts/ChartBox';
import './dataViews.css';

interface BarDatum {
  label: string;
  count: number;
  over: boolean;
}

// Colours come from the stylesheet (CSS beats the fill attribute), so the palette stays in CSS.
function HistogramBar(p: BarShapeProps) {
  const { over } = p.payload as BarDatum;
  return <Rectangle x={p.x} y={p.y} width={p.width} height={p.height} className={over ? 'hist-bar hist-bar-over' : 'hist-bar'} />;
}

export function LengthHistogram({ histogram, maxLength }: { histogram: LengthHistogramData; maxLength: number }) {
  const { bins } = histogram;
  const data = useMemo<BarDatum[]>(() => bins.map((b) => ({ label: binLabel(b), count: b.count, over: binOverflows(b, maxLength) })), [bins, maxLength]);
  if (bins.length === 0) {
    return (
      <p className="note" data-testid="length-histogram">
        No examples to measure.
      </p>
    );
  }
  const mark = maxLengthBin(bins, maxLength);
  const summary = `Token length histogram: ${bins.length} bins from ${bins[0].start} to ${bins[bins.length - 1].end - 1} tokens`;
  return (
    <figure className="hist" data-testid="length-histogram" data-bins={bins.length} data-all-fit={mark === null} aria-label={summary}>
      {/* The table speaks for the chart to screen readers. */}
      <ChartBox className="hist-chart">
        <BarChart data={data} margin={{ top: 18, right: 12, bottom: 0, left: 0 }} accessibilityLayer={false}>
          <CartesianGrid vertical={false} className="hist-grid" />
          <XAxis dataKey="label" tick={{ fontSize: 11 }} tickLine={false} />
          <YAxis allowDecimals={false} width={40} tick={{ fontSize: 11 }} tickLine={false} axisLine={false} />
          <Tooltip formatter={(v) => [formatInt(Number(v)), 'examples']} labelFormatter={(label) => `${label} tokens`} />
          <Bar dataKey="count" shape={HistogramBar} isAnimationActive={false} />
          {mark && <ReferenceLine x={binLabel(mark)} className="hist-max" label={{ value: `max length ${maxLength}`, position: 'top', className: 'hist-max-label' }} />}
        </BarChart>
      </ChartBox>
      <figcaption className="hint">
        {mark === null ? `All examples fit in the max length (${formatInt(maxLength)} tokens).` : `Amber bars reach past the max length (${formatInt(maxLength)} tokens): truncation cuts those examples.`}
      </figcaption>
      <table className="visually-hidden">
        <caption>Examples per token length</caption>
        <thead>
          <tr>
            <th scope="col">Tokens</th>
            <th scope="col">Examples</th>
          </tr>
        </thead>
        <tbody>
          {data.map((d) => (
            <tr key={d.label}>
              <td>{d.label}</td>
              <td>{d.count}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}
