/** A test row as a run saw it: rendered in the template and mapping the run trained with. */
import { mapRow } from '../data/mapping';
import { renderSegments } from '../data/templates';
import type { EvalExample } from '../eval/evalTypes';
import { evalExampleOf } from '../eval/report';
import { selectRowIndex } from './datasetDerived';
import type { Dataset } from './datasetStore';
import type { RunRecord } from './trainStore';

/**
 * `example` (row `example.id` of `dataset`, rendered with the Data tab's template) rendered instead
 * with `template`. Unchanged where that is the Data tab's own, where the run kept no mapping, and for
 * a row the run's template cannot render (it then sees the Data tab's prompt, as before runs kept
 * their template).
 */
export function exampleInTemplate(example: EvalExample, dataset: Pick<Dataset, 'rows' | 'template' | 'mapping'>, template: NonNullable<RunRecord['template']>): EvalExample {
  if (!template.mapping) return example;
  if (JSON.stringify(template) === JSON.stringify({ spec: dataset.template, mapping: dataset.mapping })) return example;
  const row = dataset.rows[selectRowIndex(dataset.rows).get(Number(example.id)) ?? -1];
  if (!row) return example;
  try {
    const mapped = mapRow(row.data, template.mapping);
    if (!('example' in mapped)) return example;
    return evalExampleOf(example.id, renderSegments(mapped.example, template.spec, template.mapping.kind)) ?? example;
  } catch {
    return example;
  }
}
