/** Models in and out: export a run (or the base) as Hugging Face files, the recipe for bigger hardware, and PEFT adapter import. */
import { useState } from 'react';
import { exportActions, readPickedFiles, useExport, useTrain } from '../../state';
import type { ExportDtype, ModelFormat, ExportKind } from '../../protocol/protocol';
import { ActionButton } from '../parts/ActionButton';
import { useModelChoices } from '../evaluate/useModelChoices';
import { HubPush } from './HubPush';
import { RecipeButton } from './RecipeButton';

const canPickFolder = typeof window !== 'undefined' && 'showDirectoryPicker' in window;

export function ExportPanel() {
  const choices = useModelChoices();
  const runs = useTrain((s) => s.runs);
  const status = useExport();
  const [picked, setPicked] = useState<string | null>(null);
  const [kind, setKind] = useState<ExportKind>('adapter');
  const [format, setFormat] = useState<ModelFormat>('hf');
  const [pickedDtype, setDtype] = useState<ExportDtype>('float32');
  if (choices.length === 0) return null;
  const choice = choices.find((c) => c.id === picked) ?? choices[choices.length - 1];
  const lora = choice.ref.kind === 'run' && choice.ref.config.method === 'lora';
  const k: ExportKind = lora ? (kind === 'model' ? 'merged' : kind) : 'model';
  const run = choice.ref.kind === 'run' ? runs.find((r) => r.id === (choice.ref as { runId: string }).runId) : undefined;
  const busy = status.status === 'working' ? 'An export or import is in progress.' : null;
  // Q8_0 is llama.cpp's; a Hugging Face folder is float32 or float16.
  const dtype: ExportDtype = format === 'hf' && pickedDtype === 'q8_0' ? 'float32' : pickedDtype;
  const what = { kind: k, format, dtype };
  const weightsShown = k !== 'adapter'; // adapters are float32 in either format (they are small)
  return (
    <section className="export-panel" aria-labelledby="export-heading" data-testid="export-panel">
      <h3 id="export-heading">Export and import</h3>
      <p className="hint">
        Hugging Face files: a model folder for <code>from_pretrained</code>, or a PEFT adapter for <code>PeftModel.from_pretrained</code> on the same base, each with a model card. Or GGUF for llama.cpp, Ollama and LM Studio, with an Ollama <code>Modelfile</code> that prompts the model the way it was trained.
      </p>
      <div className="row">
        <div className="field grow">
          <label htmlFor="export-model">Model</label>
          <select id="export-model" data-testid="export-model" value={choice.id} onChange={(e) => setPicked(e.target.value)}>
            {choices.map((c) => (
              <option key={c.id} value={c.id}>
                {c.label}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="model-export-format">Format</label>
          <select id="model-export-format" data-testid="model-export-format" value={format} onChange={(e) => setFormat(e.target.value as ModelFormat)}>
            <option value="hf">Hugging Face</option>
            <option value="gguf">GGUF (llama.cpp, Ollama)</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor="export-kind">As</label>
          <select id="export-kind" data-testid="export-kind" value={k} onChange={(e) => setKind(e.target.value as ExportKind)}>
            {lora ? (
              <>
                <option value="adapter">{format === 'gguf' ? 'LoRA adapter (llama.cpp --lora)' : 'PEFT adapter'}</option>
                <option value="merged">model, adapter merged in</option>
              </>
            ) : (
              <option value="model">{format === 'gguf' ? 'model (model.gguf)' : 'model folder'}</option>
            )}
          </select>
        </div>
        {weightsShown && (
          <div className="field">
            <label htmlFor="export-dtype">Weights</label>
            <select id="export-dtype" data-testid="export-dtype" value={dtype} onChange={(e) => setDtype(e.target.value as ExportDtype)}>
              <option value="float32">float32</option>
              <option value="float16">float16 (half the size)</option>
              {format === 'gguf' && <option value="q8_0">Q8_0 (8-bit, about a quarter)</option>}
            </select>
          </div>
        )}
      </div>
      {format === 'gguf' && (
        <p className="hint" data-testid="gguf-howto">
          Run it with Ollama: <code>ollama create my-model -f Modelfile</code> then <code>ollama run my-model</code>; or with llama.cpp: <code>llama-cli -m {k === 'adapter' ? 'base.gguf --lora adapter.gguf' : 'model.gguf'}</code>
          {k === 'adapter' && ' (export the base model as GGUF too, and name it base.gguf)'}.
        </p>
      )}
      <div className="row">
        <ActionButton variant="primary" blocker={busy} data-testid="export-zip" onClick={() => void exportActions.exportModel(choice.id, what, 'zip')}>
          Download zip
        </ActionButton>
        <ActionButton blocker={busy ?? (canPickFolder ? null : 'This browser cannot write into a folder you pick (Chrome and Edge can): download the zip.')} onClick={() => void exportActions.exportModel(choice.id, what, 'folder')}>
          Save to a folder…
        </ActionButton>
        {run && <RecipeButton name={run.name} config={run.config} busy={busy} />}
      </div>
      <HubPush onPush={(hub) => exportActions.exportModel(choice.id, what, { hub })} busy={busy} />
      <div className="row">
        <label className="btn btn-secondary file-button">
          Import a PEFT adapter…
          <input
            type="file"
            multiple
            accept=".json,.safetensors,.zip"
            data-testid="import-adapter" className="visually-hidden"
            onChange={async (e) => {
              if (!e.target.files?.length) return;
              const list = Array.from(e.target.files);
              e.target.value = '';
              await exportActions.importAdapter(() => readPickedFiles(list), list.length === 1 ? list[0].name : 'adapter');
            }}
          />
        </label>
        <small className="hint">adapter_config.json and adapter_model.safetensors (or their zip), for the loaded base model.</small>
      </div>
      {status.message && (
        <p className={status.status === 'failed' ? 'field-error' : 'muted'} data-testid="export-status" role="status">
          {status.message}
        </p>
      )}
    </section>
  );
}
