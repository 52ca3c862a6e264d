/**
 * Drives a Trainer: steps, evaluations, samples and checkpoints on their schedules, pause and
 * stop at step boundaries, early stopping. Shared by the worker engine and the command line.
 */
import type { Trainer } from './trainer';
import type { EvalMetrics, StepMetrics } from './types';

export type RunEnd = 'finished' | 'stopped' | 'paused' | 'early-stop';

export interface RunHooks {
  signal?: AbortSignal;
  /** Read between steps: the page's Pause and Stop buttons. */
  control?: () => 'run' | 'pause' | 'stop';
  onStep?: (m: StepMetrics) => void;
  onEval?: (m: EvalMetrics, best: boolean) => void;
  onSample?: (step: number) => Promise<void>;
  /** 'best' after an eval that beat every earlier one; 'last' on the checkpoint schedule and at the end. */
  onCheckpoint?: (kind: 'last' | 'best') => Promise<void>;
}

const every = (n: number, step: number) => n > 0 && step % n === 0;

/** Lets the worker read control and cancel messages between steps. */
const breathe = () => new Promise<void>((r) => setTimeout(r, 0));

export async function runTraining(trainer: Trainer, hooks: RunHooks = {}): Promise<RunEnd> {
  const c = trainer.config;
  // A baseline before the first step, so the chart shows where the eval loss started.
  if (trainer.state.history.evals.length === 0 && c.evalEvery > 0) await evaluate(trainer, hooks);
  while (!trainer.done) {
    await breathe();
    if (hooks.signal?.aborted) throw new DOMException('cancelled', 'AbortError');
    const control = hooks.control?.() ?? 'run';
    if (control !== 'run') {
      await settle(trainer, hooks);
      await hooks.onCheckpoint?.('last');
      return control === 'pause' ? 'paused' : 'stopped';
    }
    // On WebGPU a step is only queued, and what comes back is the step before's metrics (see
    // Trainer.queueStep); everything below that reads the weights settles the last step first.
    const m = await trainer.queueStep();
    if (m) hooks.onStep?.(m);
    const { step } = trainer.state;
    const last = trainer.done;
    const evalDue = every(c.evalEvery, step) || (last && c.evalEvery > 0);
    const sampleDue = every(c.sampleEvery, step) || (last && c.sampleEvery > 0);
    if (evalDue || sampleDue || every(c.checkpointEvery, step) || last) await settle(trainer, hooks);
    if (evalDue) {
      await evaluate(trainer, hooks);
      if (c.earlyStopPatience > 0 && trainer.state.evalsSinceBest >= c.earlyStopPatience) {
        await hooks.onCheckpoint?.('last');
        return 'early-stop';
      }
    }
    if (sampleDue) await hooks.onSample?.(step);
    if (every(c.checkpointEvery, step) || last) await hooks.onCheckpoint?.('last');
  }
  return 'finished';
}

async function settle(trainer: Trainer, hooks: RunHooks): Promise<void> {
  const m = await trainer.settle();
  if (m) hooks.onStep?.(m);
}

async function evaluate(trainer: Trainer, hooks: RunHooks): Promise<void> {
  const m = await trainer.evaluate();
  if (!m) return;
  const best = trainer.state.bestEval === m;
  hooks.onEval?.(m, best);
  if (best && m.step > 0) await hooks.onCheckpoint?.('best');
}
