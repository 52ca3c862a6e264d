/** A new example in the dataset's own fields (for instance a guardrail answer), added at the end. */
import { MAPPING_SLOTS } from '../../data/mapping';
import type { Row } from '../../data/types';
import { datasetActions, type DatasetView } from '../../state';
import { RowEditor } from './RowEditor';

export function AddExample({ view, onDone }: { view: DatasetView; onDone: () => void }) {
  const { mapping } = view.dataset;
  const blank: Row = {};
  const chat = [
    { role: 'user', content: '' },
    { role: 'assistant', content: '' },
  ];
  if (mapping) {
    for (const { slot } of MAPPING_SLOTS[mapping.kind]) {
      const field = mapping.fields[slot];
      if (field) blank[field] = mapping.kind === 'chat' ? chat : '';
    }
  } else {
    for (const f of view.mapped.fields) blank[f] = '';
  }
  if (Object.keys(blank).length === 0) return <p className="hint">Pick a format under Fields first: a new example is written in its fields.</p>;
  return (
    <div className="add-example">
      <p className="hint">A new row at the end of the dataset. Guardrail examples (an off-topic question with a polite refusal) teach the model what not to answer.</p>
      <RowEditor
        initial={blank}
        saveLabel="Add"
        testId="add-editor"
        onCancel={onDone}
        onSave={(data) => {
          datasetActions.addRow(data);
          onDone();
        }}
      />
    </div>
  );
}
