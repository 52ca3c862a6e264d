/** Which of the file's fields is the question, the answer… Detected, shown, and editable. */
import { MAPPING_LABELS, MAPPING_SLOTS } from '../../data/mapping';
import type { MappingKind } from '../../data/types';
import { datasetActions, type DatasetView } from '../../state';
import { plural } from '../format';

const KINDS = Object.keys(MAPPING_LABELS) as MappingKind[];

export function MappingSettings({ view }: { view: DatasetView }) {
  const { mapping } = view.dataset;
  const { mapped } = view;
  return (
    <fieldset className="source" data-testid="mapping">
      <legend>Fields</legend>
      <div className="row">
        <label htmlFor="mapping-kind">Format</label>
        <select
          id="mapping-kind"
          data-testid="mapping-kind"
          value={mapping?.kind ?? ''}
          onChange={(e) => datasetActions.setMappingKind(e.target.value as MappingKind)}
        >
          {!mapping && <option value="">Pick a format…</option>}
          {KINDS.map((k) => (
            <option key={k} value={k}>
              {MAPPING_LABELS[k]}
            </option>
          ))}
        </select>
      </div>
      {mapping && (
        <div className="mapping-grid">
          {MAPPING_SLOTS[mapping.kind].map(({ slot, label, required }) => (
            <div className="row" key={slot}>
              <label htmlFor={`map-${slot}`}>{label}</label>
              <select
                id={`map-${slot}`}
                data-testid={`map-${slot}`}
                value={mapping.fields[slot] ?? ''}
                onChange={(e) => datasetActions.setMappingField(slot, e.target.value)}
              >
                {(!required || !mapping.fields[slot]) && <option value="">{required ? 'Pick a field…' : '(none)'}</option>}
                {mapped.fields.map((f) => (
                  <option key={f} value={f}>
                    {f}
                  </option>
                ))}
              </select>
            </div>
          ))}
        </div>
      )}
      {mapped.mappingError ? (
        <p className="field-error" data-testid="mapping-error">
          {mapped.mappingError}
        </p>
      ) : (
        <p className="hint" data-testid="mapping-summary">
          Fields in the file: {mapped.fields.map((f) => `"${f}"`).join(', ') || 'none'}.
          {mapped.issues.length > 0 && ` ${plural(mapped.issues.length, 'row')} cannot be used with this mapping (filter “Not usable” below).`}
        </p>
      )}
    </fieldset>
  );
}
