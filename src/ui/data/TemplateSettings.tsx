/** How each example becomes text: the template, a custom one with its error shown in place, and a preview. */
import { useEffect, useState } from 'react';
import { TEMPLATES } from '../../data/templates';
import type { TemplateId } from '../../data/types';
import { datasetActions, selectRowIndex, useDataset, type DatasetView } from '../../state';
import { RenderedText } from './RenderedText';

/** Re-rendering every row per keystroke is slow on a big set: the store gets the text once typing pauses. */
const APPLY_AFTER_MS = 250;

function useDebouncedCustom(stored: string): [string, (t: string) => void] {
  const [draft, setDraft] = useState<string | null>(null);
  useEffect(() => {
    if (draft === null) return;
    const t = setTimeout(() => {
      datasetActions.setTemplate({ custom: draft });
      setDraft(null);
    }, APPLY_AFTER_MS);
    return () => clearTimeout(t);
  }, [draft]);
  return [draft ?? stored, setDraft];
}

export function TemplateSettings({ view }: { view: DatasetView }) {
  const { template } = view.dataset;
  const [custom, setCustom] = useDebouncedCustom(template.custom);
  const error = view.rendered.templateError;
  const selectedId = useDataset((s) => s.selectedId);
  const chatProblem = useDataset((s) => s.modelChatProblem);
  const info = TEMPLATES.find((t) => t.id === template.id);
  // The preview follows the selected example, else the first usable one.
  const selectedIndex = selectedId === null ? undefined : selectRowIndex(view.dataset.rows).get(selectedId);
  const previewIndex = selectedIndex !== undefined && view.rendered.segments[selectedIndex] ? selectedIndex : view.usable[0];
  const preview = previewIndex === undefined ? null : view.rendered.segments[previewIndex];
  return (
    <fieldset className="source" data-testid="template">
      <legend>Template</legend>
      <div className="row">
        <label htmlFor="template-id">Template</label>
        <select id="template-id" data-testid="template-id" value={template.id} onChange={(e) => datasetActions.setTemplate({ id: e.target.value as TemplateId })}>
          {TEMPLATES.map((t) => (
            <option key={t.id} value={t.id}>
              {t.label}
            </option>
          ))}
        </select>
      </div>
      {info && <p className="hint">{info.description}</p>}
      {template.id === 'custom' && (
        <>
          <label htmlFor="template-custom">Custom prompt</label>
          <textarea
            id="template-custom"
            data-testid="template-custom"
            rows={4}
            spellCheck={false}
            value={custom}
            aria-invalid={error !== null}
            aria-describedby="template-custom-error"
            onChange={(e) => setCustom(e.target.value)}
          />
          {error && error.end > error.start && (
            <pre className="template-mirror" aria-hidden="true">
              {template.custom.slice(0, error.start)}
              <mark>{template.custom.slice(error.start, error.end)}</mark>
              {template.custom.slice(error.end)}
            </pre>
          )}
        </>
      )}
      {template.id === 'model' && chatProblem ? (
        <p className="field-error" id="template-custom-error" data-testid="template-chat-problem">
          The loaded model has a chat template, but it is not used: {chatProblem}. Pick another template.
        </p>
      ) : (
        error && (
          <p className="field-error" id="template-custom-error" data-testid="template-error">
            {error.message}
          </p>
        )
      )}
      {preview && (
        <div data-testid="template-preview">
          <p className="hint">
            Row {previewIndex + 1} as the model reads it: <span className="seg-prompt-key">prompt</span> then <span className="seg-train-key">answer</span>
            {view.dataset.tokenize.appendEos && ', then the end-of-text token'}.
          </p>
          <RenderedText segments={preview} />
        </div>
      )}
    </fieldset>
  );
}
