import { describe, expect, it } from 'vitest';
import { mapRow } from '../data/mapping';
import { renderSegments } from '../data/templates';
import type { FieldMapping, TemplateSpec } from '../data/types';
import { evalExampleOf } from '../eval/report';
import { exampleInTemplate } from './evalExampleInTemplate';

const QA: TemplateSpec = { id: 'qa', custom: '' };
const MAPPING: FieldMapping = { kind: 'qa', fields: { question: 'q', answer: 'a' } };
const rows = [
  { id: 3, line: 1, data: { q: 'What is one?', a: 'One is a number.' } },
  { id: 7, line: 2, data: { q: 'What is two?', a: 'Two is a number.' } },
];
const dataset = { rows, template: QA, mapping: MAPPING };
// The Data tab's example of row 7, made as evalData makes it.
const shown = () => {
  const m = mapRow(rows[1].data, MAPPING);
  if (!('example' in m)) throw new Error('unmapped');
  return evalExampleOf('7', renderSegments(m.example, QA, 'qa'))!;
};

describe('exampleInTemplate', () => {
  it('renders the same row in the run’s own template and mapping', () => {
    const custom: TemplateSpec = { id: 'custom', custom: 'Q: {q}\nA:' };
    const x = exampleInTemplate(shown(), dataset, { spec: custom, mapping: MAPPING });
    expect(x).toEqual({ id: '7', prompt: 'Q: What is two?\nA:', target: expect.stringContaining('Two is a number.') });
    expect(x.prompt).not.toBe(shown().prompt);
  });

  it('keeps the example where the run trained on the Data tab’s template, kept no mapping, or the row is gone or cannot render', () => {
    expect(exampleInTemplate(shown(), dataset, { spec: QA, mapping: MAPPING })).toEqual(shown());
    expect(exampleInTemplate(shown(), dataset, { spec: { id: 'alpaca', custom: '' }, mapping: null })).toEqual(shown());
    expect(exampleInTemplate({ ...shown(), id: '99' }, dataset, { spec: { id: 'custom', custom: 'Q: {q}' }, mapping: MAPPING })).toEqual({ ...shown(), id: '99' });
    // The custom template names a field this row lacks.
    expect(exampleInTemplate(shown(), dataset, { spec: { id: 'custom', custom: 'Q: {nope}' }, mapping: MAPPING })).toEqual(shown());
  });
});
