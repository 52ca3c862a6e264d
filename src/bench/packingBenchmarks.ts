/**
 * Sequence packing's benchmark: useful (loss-carrying) tokens per second of whole training steps
 * on the course's lamini_docs (Q&A template, max length 512), padded buckets against packed rows,
 * in the same run, on the Pythia-70m shape with the Train tab's default settings. Useful tokens
 * are the targets the steps' examples carry loss on, so both ways count the same work.
 */
import { DEFAULT_TOKENIZE } from '../data/defaults';
import { encodeSegments } from '../data/encode';
import { detectMapping, mapRows } from '../data/mapping';
import { renderSegments } from '../data/templates';
import type { Tokenizer } from '../data/tokenizer';
import type { EncodedExample, Row } from '../data/types';
import { parseConfig } from '../model/config';
import { disposeParams, initRandomData, paramsFromData } from '../model/params';
import type { BackendInfo } from '../protocol/protocol';
import { epochBatches, planPacking, positionAt } from '../train/batchPlan';
import { resolveRun } from '../train/estimate';
import { DEFAULT_TRAIN } from '../train/presets';
import { Trainer } from '../train/trainer';
import type { BenchLine } from './benchmarks';

const MAX_LENGTH = 512;
/** Timed steps per mode, after one warm-up step. */
const STEPS = 3;

/** lamini_docs through the Data tab's pipeline: fields detected, the Q&A template, tokenized and cut at MAX_LENGTH. */
export function encodeCourseData(rows: Row[], tokenizer: Tokenizer): EncodedExample[] {
  const mapping = detectMapping(rows);
  if (!mapping) throw new Error('lamini_docs: no known fields');
  const tokenize = { ...DEFAULT_TOKENIZE, maxLength: MAX_LENGTH };
  return mapRows(rows, mapping).examples.flatMap((e) => (e ? [encodeSegments(renderSegments(e, { id: 'qa', custom: '' }, mapping.kind), tokenizer, tokenize)] : []));
}

const lossTokens = (e: EncodedExample): number => e.loss.reduce((n, x) => n + x, 0);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function runPackingBenchmarks(backend: BackendInfo, examples: EncodedExample[], matmulGflops: number, base: Record<string, unknown>, emit: (line: BenchLine) => void): Promise<void> {
  const config = parseConfig({ model_type: 'gpt_neox', vocab_size: 50304, max_position_embeddings: 2048, rotary_pct: 0.25, hidden_size: 512, num_hidden_layers: 6, num_attention_heads: 8, intermediate_size: 2048 });
  const model = { params: paramsFromData(config, initRandomData(config, 0)), config };
  const lengths = examples.map((e) => e.ids.length);
  const sorted = [...lengths].sort((a, b) => a - b);
  const plan = planPacking(lengths, DEFAULT_TRAIN.batchSize, MAX_LENGTH);
  const data = { train: examples, test: [], maxLength: MAX_LENGTH, padId: 0 };
  try {
    for (const packing of [false, true]) {
      const asked = { ...DEFAULT_TRAIN, evalEvery: 0, sampleEvery: 0, checkpointEvery: 0, maxSteps: 1 + STEPS, packing };
      const { train: c, seqLen } = resolveRun(config, asked, { trainLengths: lengths, longest: sorted[sorted.length - 1], tokenize: { maxLength: MAX_LENGTH, padding: 'longest' } }, { name: backend.name, limits: backend.limits });
      const trainer = new Trainer(model, data, c);
      try {
        const times: number[] = [];
        const useful: number[] = [];
        const computed: number[] = [];
        for (let step = 0; step <= STEPS; step++) {
          // The step's micro-batch, from the same plan the trainer follows (gradAccum 1).
          const at = positionAt(step, packing ? plan.packedRows : examples.length, c.batchSize, c.gradAccum);
          const planned = epochBatches(lengths, c.batchSize, MAX_LENGTH, c.seed, at.epoch, packing)[at.batch];
          const t0 = performance.now();
          await trainer.trainStep();
          if (step === 0) continue; // warm-up: kernels and buffers for the shapes
          times.push(performance.now() - t0);
          useful.push(planned.rows.reduce((n, r) => n + lossTokens(examples[r]), 0));
          computed.push((planned.packs?.length ?? planned.rows.length) * planned.T);
        }
        const seconds = times.reduce((a, b) => a + b, 0) / 1000;
        emit({
          ...base,
          figure: 'train_useful_tokens_per_s',
          value: +(useful.reduce((a, b) => a + b, 0) / seconds).toFixed(1),
          packing,
          data: `lamini_docs, ${examples.length} examples, median ${median(lengths)} tokens, max length ${MAX_LENGTH}`,
          method: c.method,
          batch_size: c.batchSize,
          checkpoint: c.activationCheckpointing === true,
          estimate_seq_len: seqLen,
          computed_tokens_per_s: +(computed.reduce((a, b) => a + b, 0) / seconds).toFixed(1),
          loss_tokens_share: +(useful.reduce((a, b) => a + b, 0) / computed.reduce((a, b) => a + b, 0)).toFixed(3),
          step_ms: Math.round(median(times)),
          epoch_rows: packing ? plan.packedRows : examples.length,
          planned_gain: +plan.gain.toFixed(2),
          matmul_gflops: +matmulGflops.toFixed(2),
        });
      } finally {
        trainer.dispose();
      }
    }
  } finally {
    disposeParams(model.params);
  }
}
