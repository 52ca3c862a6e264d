/** The app's evaluation actions: the studio's engine, the Data tab's test split, results kept in IndexedDB. */
import { createStore, get, set } from 'idb-keyval';
import type { EvalExample } from '../eval/evalTypes';
import { templatedPrompt } from '../eval/templatedPrompt';
import { evalExampleOf, guardrailAnswersOf } from '../eval/report';
import { exampleInTemplate } from './evalExampleInTemplate';
import { DEFAULT_EVAL_SAMPLING } from '../eval/evalTypes';
import { actions } from './actions';
import { createEvalActions, type EvalData } from './createEvalActions';
import { dataClient, datasetActions } from './datasetApp';
import { downloadText } from './download';
import { trainActions } from './trainApp';
import { deriveDataset, selectRowIndex, splitSegments } from './datasetDerived';
import { useDataset } from './datasetStore';
import { useEval, type SavedEval } from './evalStore';
import { modelChoices, type ModelChoice } from './modelChoices';
import { checkSamplingDraft } from './samplingDraft';
import { useStudio } from './store';
import { selectModelLabel } from './selectors';
import { useTrain } from './trainStore';

const evalDb = createStore('neox-studio-eval', 'eval');

/** The Data tab's test split as prompt/target pairs (row ids as example ids), or why there is none. */
export function evalData(): EvalData | { problem: string } {
  const { dataset, measure } = useDataset.getState();
  if (!dataset) return { problem: 'Load a dataset in the Data tab first.' };
  const view = deriveDataset(dataset, measure);
  if (view.split.error) return { problem: view.split.error };
  const index = selectRowIndex(dataset.rows);
  const examples = view.split.test.flatMap((id) => {
    const ex = evalExampleOf(String(id), view.rendered.segments[index.get(id)!] ?? []);
    return ex ? [ex] : [];
  });
  const targets = splitSegments(dataset, view, 'all').flatMap((segs) => segs.filter((s) => s.train).map((s) => s.text));
  return { examples, tokenize: dataset.tokenize, guardrails: guardrailAnswersOf(targets) };
}

/** The run `model` names, if it is one. */
const runOf = (model: ModelChoice) => (model.ref.kind === 'run' ? useTrain.getState().runs.find((r) => model.ref.kind === 'run' && r.id === model.ref.runId) : undefined);

/** A test example in the template `model` trained with (see exampleInTemplate). */
export function exampleFor(example: EvalExample, model: ModelChoice): EvalExample {
  const dataset = useDataset.getState().dataset;
  const own = runOf(model)?.template;
  return dataset && own ? exampleInTemplate(example, dataset, own) : example;
}

export function currentChoices() {
  const t = useTrain.getState();
  return modelChoices(t.runs, selectModelLabel(useStudio.getState()), t.trainedRunId);
}

export const evalActions = createEvalActions(useEval, {
  engine: () => actions.engine(),
  choices: currentChoices,
  data: evalData,
  exampleFor,
  templated: (text, model) => {
    const run = runOf(model);
    if (run?.template) return templatedPrompt(text, run.template.spec, run.template.mapping);
    const d = useDataset.getState().dataset;
    return d ? templatedPrompt(text, d.template, d.mapping) : text;
  },
  sampling: () => {
    const c = checkSamplingDraft(useStudio.getState().sampling);
    return c.ok ? c.params : { problem: `Fix the playground's sampling settings: ${Object.values(c.errors)[0]}` };
  },
  batchSampling: (maxNewTokens) => ({ ...DEFAULT_EVAL_SAMPLING, maxNewTokens }),
  similarity: (outputs, targets, signal) => dataClient.request('similarity', { outputs, targets }, { signal }),
  storage: {
    load: async () => ((await get('eval', evalDb)) as SavedEval | undefined) ?? null,
    save: (s) => set('eval', s, evalDb),
  },
  download: (name, text) => downloadText(name, text, 'application/jsonl'),
  // Through the same import as a dropped file (the dataset it replaces stays one Undo away).
  trainOnPairs: async (name, jsonl) => {
    await datasetActions.importFile(new File([jsonl], name, { type: 'application/jsonl' }));
    trainActions.setDraft({ objective: 'dpo' });
  },
});
