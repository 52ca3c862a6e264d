/** Re-asks the engine for the memory and time estimate when the settings, model or data change. */
import { useEffect, useMemo } from 'react';
import { DEFAULT_TOKENIZE } from '../../data/defaults';
import { selectBackend, selectModelInfo, trainActions, useDerivedDataset, useStudio, useTrain } from '../../state';
import { selectRowIndex } from '../../state/datasetDerived';
import { estimateSeqLen, planPacking, resolvePacking, type PackingPlan } from '../../state/trainOptions';
import { seqLenBasis } from './runView';

const DEBOUNCE_MS = 300;

/** The estimate's inputs from the Data tab: train split size and the sequence length a batch will have. */
export interface EstimateInputs {
  trainExamples: number;
  /** Batch rows per epoch: the examples, or the rows they pack into. */
  trainRows: number;
  seqLen: number;
  /** Where seqLen comes from, in words. */
  seqBasis: string;
  /** Sequence packing as the run would do it, once the Data tab has counted the tokens. */
  packing: { plan: PackingPlan; on: boolean; auto: boolean } | null;
}

export function useEstimateInputs(): EstimateInputs {
  const view = useDerivedDataset();
  const asked = useTrain((s) => s.draft.packing);
  const dpo = useTrain((s) => s.draft.objective === 'dpo');
  const maxSteps = useTrain((s) => s.draft.maxSteps);
  const batchSize = useTrain((s) => s.draft.batchSize);
  const tokenize = view?.dataset.tokenize ?? DEFAULT_TOKENIZE;
  const longest = view?.stats?.tokens.max ?? null;
  const trainExamples = view?.split.train.length ?? 0;
  const rows = view?.dataset.rows;
  const lengths = view?.lengths ?? null;
  const train = view?.split.train;
  // The train split's lengths as the trainer will see them (cut at the max length), packed as it will pack them.
  const plan = useMemo(() => {
    if (!rows || !lengths || !train?.length || !(batchSize >= 1)) return null;
    const index = selectRowIndex(rows);
    const cut = Int32Array.from(train, (id) => Math.min(lengths[index.get(id)!], tokenize.maxLength));
    return planPacking(cut, Math.floor(batchSize), tokenize.maxLength);
  }, [rows, lengths, train, batchSize, tokenize.maxLength]);
  // DPO scores each pair whole: never packed (as the engine's resolveRun decides).
  const packing = plan && !dpo ? { plan, on: resolvePacking(asked, plan, maxSteps), auto: asked === undefined } : null;
  if (packing?.on) {
    return { trainExamples, trainRows: plan!.packedRows, seqLen: plan!.packedSeqLen, seqBasis: `${trainExamples} examples packed into ${plan!.packedRows} rows`, packing };
  }
  return { trainExamples, trainRows: trainExamples, seqLen: estimateSeqLen(tokenize, longest), seqBasis: seqLenBasis(tokenize, longest), packing };
}

export function useEstimateSync({ trainRows, seqLen }: EstimateInputs): void {
  const draft = useTrain((s) => s.draft);
  const model = useStudio(selectModelInfo);
  const backend = useStudio(selectBackend);
  useEffect(() => {
    // estimateTraining is answered beside a running job (engineSerial), so it follows edits mid-run too.
    const t = setTimeout(() => void trainActions.estimate(trainRows, seqLen), DEBOUNCE_MS);
    return () => clearTimeout(t);
  }, [draft, model, backend, trainRows, seqLen]);
}
