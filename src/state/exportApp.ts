/** The app's export and import actions: the studio's engine, downloads or a picked folder, runs kept with the others. */
import { create } from 'zustand';
import { summarizeAnswered } from '../eval/report';
import { modelCard } from '../export/modelCard';
import { trainingRecipe } from '../export/recipe';
import type { ExportedFile } from '../protocol/protocol';
import type { TrainConfig } from '../train/types';
import { actions } from './actions';
import { createExportActions, slug, zipFiles, type ExportState } from './createExportActions';
import { useDataset } from './datasetStore';
import { downloadText, saveToPickedFolder } from './download';
import { currentChoices } from './evalApp';
import { useEval } from './evalStore';
import { useStudio } from './store';
import { selectModelInfo, selectModelLabel } from './selectors';
import { trainActions, trainingData } from './trainApp';
import { useTrain, type RunRecord } from './trainStore';

export const useExport = create<ExportState>()(() => ({ status: 'idle', message: null }));

const modelLabel = () => selectModelLabel(useStudio.getState());

const utf8 = (name: string, text: string): ExportedFile => ({ name, bytes: new TextEncoder().encode(text) });

/** The model card of a run: its data, template, settings, final losses, and its batch-evaluation scores if it was evaluated. */
function runCard(run: RunRecord, choiceId: string, kind: 'full' | 'adapter'): ExportedFile {
  const batch = useEval.getState().batch;
  const at = batch.models.findIndex((m) => m.id === choiceId);
  const s = at >= 0 ? summarizeAnswered(batch.examples, batch.outputs[at] ?? [], batch.guardrails) : null;
  const template = useDataset.getState().dataset?.template ?? { id: 'plain' as const, custom: '' };
  return utf8(
    'README.md',
    modelCard({
      runName: run.name,
      baseModel: run.model,
      datasetName: run.dataset.name,
      trainExamples: run.dataset.train,
      testExamples: run.dataset.test,
      template,
      tokenize: run.tokenize,
      config: run.config,
      modelType: selectModelInfo(useStudio.getState())?.config.modelType,
      metrics: {
        finalTrainLoss: run.steps.at(-1)?.loss ?? null,
        evalLoss: run.evals.at(-1)?.loss ?? null,
        perplexity: run.evals.at(-1)?.perplexity ?? null,
        batch: s ? { exactMatch: s.exactMatch, tokenF1: s.tokenF1, rougeL: s.rougeL, examples: s.n } : null,
      },
      kind,
    }),
  );
}

/**
 * The recipe to train these settings on the Data tab's data with Hugging Face tools on GPUs: the
 * way out when the estimate says the browser cannot hold the model.
 */
export function recipeFiles(name: string, config: TrainConfig): ExportedFile[] {
  const d = trainingData();
  if ('problem' in d) throw new Error(d.problem);
  const dataset = useDataset.getState().dataset!;
  const modelConfig = selectModelInfo(useStudio.getState())?.config;
  return trainingRecipe({ runName: name, baseModel: modelLabel() ?? 'EleutherAI/pythia-70m', config, tokenize: d.data.tokenize, template: dataset.template, train: d.data.train, test: d.data.test, modelConfig });
}

export const exportActions = createExportActions(useTrain, {
  engine: () => actions.engine(),
  model: modelLabel,
  choices: currentChoices,
  card: (choice, kind) => {
    if (choice.ref.kind !== 'run') return null;
    const runId = choice.ref.runId;
    const run = useTrain.getState().runs.find((r) => r.id === runId);
    return run ? runCard(run, choice.id, kind === 'adapter' ? 'adapter' : 'full') : null;
  },
  template: (choice) => {
    if (choice.ref.kind !== 'run') return null;
    const runId = choice.ref.runId;
    return useTrain.getState().runs.find((r) => r.id === runId)?.template?.spec ?? null;
  },
  save: async (name, files, target) => {
    if (target === 'folder') {
      await saveToPickedFolder(name, files);
      return `in folder ${name}`;
    }
    if (target === 'zip') {
      downloadText(`${name}.zip`, zipFiles(files), 'application/zip');
      return `as ${name}.zip`;
    }
    // Loaded on first push only: the Hub client is not needed for anything else.
    const { pushToHub } = await import('../hub/push');
    const r = await pushToHub({ ...target.hub, files, commitMessage: `Upload ${name} from NeoX Studio` });
    return `to ${r.url} (commit ${r.commit.slice(0, 8)})`;
  },
  addRun: (run) => void trainActions.addRun(run),
  report: (s) => useExport.setState(s),
});

/** Saves the recipe for these settings as `<name>-recipe.zip`. */
export const saveRecipe = (name: string, config: TrainConfig) => exportActions.saveFiles(`${slug(name)}-recipe`, () => recipeFiles(name, config), 'zip');
