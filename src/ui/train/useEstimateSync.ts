/** Re-asks the engine for the memory and time estimate when the settings, model or data change. */
import { useEffect } from 'react';
import { DEFAULT_TOKENIZE } from '../../data/defaults';
import { selectBackend, selectModelInfo, trainActions, useDerivedDataset, useStudio, useTrain } from '../../state';
import { estimateSeqLen } from '../../state/trainOptions';
import { seqLenBasis } from './runView';

const DEBOUNCE_MS = 300;

/** The estimate's inputs from the Data tab: train split size and the sequence length a batch will have. */
export interface EstimateInputs {
  trainExamples: number;
  seqLen: number;
  /** Where seqLen comes from, in words. */
  seqBasis: string;
}

export function useEstimateInputs(): EstimateInputs {
  const view = useDerivedDataset();
  const tokenize = view?.dataset.tokenize ?? DEFAULT_TOKENIZE;
  const longest = view?.stats?.tokens.max ?? null;
  return { trainExamples: view?.split.train.length ?? 0, seqLen: estimateSeqLen(tokenize, longest), seqBasis: seqLenBasis(tokenize, longest) };
}

export function useEstimateSync({ trainExamples, seqLen }: EstimateInputs): void {
  const draft = useTrain((s) => s.draft);
  const model = useStudio(selectModelInfo);
  const backend = useStudio(selectBackend);
  useEffect(() => {
    // estimateTraining is answered beside a running job (engineSerial), so it follows edits mid-run too.
    const t = setTimeout(() => void trainActions.estimate(trainExamples, seqLen), DEBOUNCE_MS);
    return () => clearTimeout(t);
  }, [draft, model, backend, trainExamples, seqLen]);
}
