/** Full fine-tune or LoRA, and the settings that only one of them has. */
import { selectLoraTargetsError, selectModelInfo, trainActions, useStudio, useTrain } from '../../state';
import { linearNames, type BlockLinear, type TrainMethod } from '../../state/trainOptions';
import { NumberGrid } from './NumberField';

const METHODS: { id: TrainMethod; label: string; hint: string }[] = [
  { id: 'full', label: 'Full fine-tune', hint: 'every weight learns; the optimizer keeps two extra copies of each.' },
  { id: 'lora', label: 'LoRA', hint: 'the model stays frozen; small low-rank adapters beside chosen layers learn instead.' },
];

/** What each family's block linears do, in words. */
export const TARGET_NAMES: Record<BlockLinear, string> = {
  'attention.query_key_value': 'Attention q·k·v',
  'attention.dense': 'Attention output',
  'mlp.dense_h_to_4h': 'MLP up',
  'mlp.dense_4h_to_h': 'MLP down',
  'self_attn.q_proj': 'Attention query',
  'self_attn.k_proj': 'Attention key',
  'self_attn.v_proj': 'Attention value',
  'self_attn.o_proj': 'Attention output',
  'mlp.gate_proj': 'MLP gate',
  'mlp.up_proj': 'MLP up',
  'mlp.down_proj': 'MLP down',
  'attn.c_attn': 'Attention q·k·v',
  'attn.c_proj': 'Attention output',
  'mlp.c_fc': 'MLP up',
  'mlp.c_proj': 'MLP down',
};

export function MethodSettings() {
  const method = useTrain((s) => s.draft.method);
  return (
    <fieldset className="source" data-testid="train-method">
      <legend>Method</legend>
      <div className="method-options" role="radiogroup" aria-label="Method">
        {METHODS.map((m) => (
          <label key={m.id} className="checkbox">
            <input type="radio" name="train-method" value={m.id} data-testid={`train-method-${m.id}`} checked={method === m.id} onChange={() => trainActions.setDraft({ method: m.id })} />
            <span>
              {m.label} <small className="hint">{m.hint}</small>
            </span>
          </label>
        ))}
      </div>
      {method === 'full' ? <FullSettings /> : <LoraSettings />}
      <CheckpointingToggle />
    </fieldset>
  );
}

function FullSettings() {
  const freeze = useTrain((s) => s.draft.freezeEmbeddings);
  return (
    <label className="checkbox">
      <input type="checkbox" data-testid="train-freeze-embeddings" checked={freeze} onChange={(e) => trainActions.setDraft({ freezeEmbeddings: e.target.checked })} />
      <span>
        Freeze the input embedding <small className="hint">the token table (about a third of Pythia-70m) stays as it is: less memory, and rare tokens are not disturbed.</small>
      </span>
    </label>
  );
}

/** Both methods: trade a second forward pass per block for far less activation memory. */
function CheckpointingToggle() {
  const chosen = useTrain((s) => s.draft.activationCheckpointing);
  // Left open, the engine turns it on where the run is tight without it (the estimate says so).
  const auto = useTrain((s) => chosen === undefined && s.estimate.status === 'ready' && s.estimate.value.autoCheckpointing);
  return (
    <label className="checkbox">
      <input type="checkbox" data-testid="train-checkpointing" checked={chosen ?? auto} onChange={(e) => trainActions.setDraft({ activationCheckpointing: e.target.checked })} />
      <span>
        Activation checkpointing{' '}
        {auto && (
          <small className="badge" data-testid="train-checkpointing-auto">
            on by itself: the run is tight without it
          </small>
        )}{' '}
        <small className="hint">keeps one layer's activations instead of all of them and recomputes the rest in the backward pass: much less memory, and on Pythia-70m no slower. Left alone, it turns on where the run would not fit without it.</small>
      </span>
    </label>
  );
}

function LoraSettings() {
  const targets = useTrain((s) => s.draft.lora.targets);
  const rslora = useTrain((s) => s.draft.lora.rslora === true);
  const error = useTrain(selectLoraTargetsError);
  const config = useStudio(selectModelInfo)?.config;
  // The loaded model's linears; before a model is loaded, the ones chosen.
  const linears = config ? linearNames(config) : targets;
  const toggle = (t: BlockLinear, on: boolean) => {
    const lora = useTrain.getState().draft.lora;
    // Kept in the model's order, so equal choices compare equal between runs.
    trainActions.setDraft({ lora: { ...lora, targets: linears.filter((x) => (x === t ? on : lora.targets.includes(x))) } });
  };
  return (
    <div className="lora-settings">
      <NumberGrid fields={['loraRank', 'loraAlpha', 'loraDropout', 'loraPlusRatio']} />
      <label className="checkbox">
        <input type="checkbox" data-testid="train-lora-rslora" checked={rslora} onChange={(e) => trainActions.setDraft({ lora: { ...useTrain.getState().draft.lora, rslora: e.target.checked } })} />
        <span>
          rsLoRA <small className="hint">scales the adapters by alpha/√rank instead of alpha/rank, so a higher rank does not shrink their update (PEFT’s use_rslora).</small>
        </span>
      </label>
      <fieldset className="lora-targets" data-testid="train-lora-targets" aria-describedby={error ? 'lora-targets-error' : undefined}>
        <legend>Adapt these layers</legend>
        <div className="target-grid">
          {linears.map((t) => (
            <label key={t} className="checkbox">
              <input type="checkbox" data-testid={`train-lora-target-${t}`} checked={targets.includes(t)} onChange={(e) => toggle(t, e.target.checked)} />
              <span>
                {TARGET_NAMES[t] ?? t} <code className="target-code">{t}</code>
              </span>
            </label>
          ))}
        </div>
        {error && (
          <small className="field-error" id="lora-targets-error">
            {error}
          </small>
        )}
      </fieldset>
    </div>
  );
}
