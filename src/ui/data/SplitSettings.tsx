/** The seeded train/test split, its counts, and the JSONL exports of the processed set and each split. */
import { useState } from 'react';
import type { ExportFormat } from '../../data/exportJsonl';
import { datasetActions, type DatasetView } from '../../state';
import { Field } from '../parts/Field';
import { useDraft } from '../parts/useDraft';
import { formatInt } from '../format';

const checkSeed = (t: string) => (/^\d{1,9}$/.test(t.trim()) ? null : 'A whole number, 0 or more.');
const checkPercent = (t: string) => {
  const n = Number(t);
  return t.trim() !== '' && Number.isFinite(n) && n >= 0 && n < 100 ? null : 'A percentage from 0 up to (not including) 100.';
};

export function SplitSettings({ view }: { view: DatasetView }) {
  const { split } = view.dataset;
  const seed = useDraft(split.seed, checkSeed, (t) => datasetActions.setSplit({ seed: Number(t) }));
  const percent = useDraft(Math.round(split.testFraction * 1000) / 10, checkPercent, (t) => datasetActions.setSplit({ testFraction: Number(t) / 100 }));
  const [format, setFormat] = useState<ExportFormat>('prompt-completion');
  const s = view.split;
  const none = view.usable.length === 0 ? 'No usable examples to export.' : null;
  return (
    <fieldset className="source" data-testid="split">
      <legend>Train / test split</legend>
      <div className="settings-grid">
        <Field label="Seed" hint="The same seed gives the same split." error={seed.error}>
          {({ id, describedBy }) => (
            <input type="text" id={id} aria-describedby={describedBy} data-testid="split-seed" inputMode="numeric" value={seed.text} onChange={(e) => seed.onChange(e.target.value)} onBlur={seed.onBlur} />
          )}
        </Field>
        <Field label="Test share (%)" hint="Held out to measure the model on examples it never trained on." error={percent.error}>
          {({ id, describedBy }) => (
            <input type="text" id={id} aria-describedby={describedBy} data-testid="split-percent" inputMode="decimal" value={percent.text} onChange={(e) => percent.onChange(e.target.value)} onBlur={percent.onBlur} />
          )}
        </Field>
      </div>
      {s.error ? (
        <p className="field-error" data-testid="split-error">
          {s.error}
        </p>
      ) : (
        <p className="split-counts" data-testid="split-counts">
          <strong data-testid="split-train">{formatInt(s.train.length)}</strong> train · <strong data-testid="split-test">{formatInt(s.test.length)}</strong> test
        </p>
      )}
      <div className="row export-row">
        <label htmlFor="export-format">Export as</label>
        <select id="export-format" data-testid="export-format" value={format} onChange={(e) => setFormat(e.target.value as ExportFormat)}>
          <option value="prompt-completion">{'{"prompt", "completion"}'} JSONL</option>
          <option value="text">{'{"text"}'} JSONL</option>
        </select>
      </div>
      <div className="row">
        <button type="button" className="btn btn-secondary" disabled={!!none} title={none ?? undefined} data-testid="export-all" onClick={() => datasetActions.exportJsonl('all', format)}>
          Export all ({formatInt(view.usable.length)})
        </button>
        <button type="button" className="btn btn-secondary" disabled={!!none || !!s.error} data-testid="export-train" onClick={() => datasetActions.exportJsonl('train', format)}>
          Export train
        </button>
        <button type="button" className="btn btn-secondary" disabled={!!none || !!s.error || s.test.length === 0} data-testid="export-test" onClick={() => datasetActions.exportJsonl('test', format)}>
          Export test
        </button>
      </div>
      <p className="hint">Exports hold the processed text (after the template), which Hugging Face datasets and TRL load as-is.</p>
    </fieldset>
  );
}
