/** Ask the loaded model something and watch the answer stream in. */
import { actions, selectGenerateBlocker, selectIsGenerating, selectModelInfo, selectPrompt, useStudio } from '../../state';
import { ActionButton } from '../parts/ActionButton';
import { GenerateWith } from './GenerateWith';
import { GenerationOutput } from './GenerationOutput';
import { SamplingSettings } from './SamplingSettings';

/** Instruct models: the prompt as a user turn in the model's own chat template, the reply as the assistant's. */
function ChatToggle() {
  const chat = useStudio((s) => s.chat);
  return (
    <label className="checkbox">
      <input type="checkbox" data-testid="chat-mode" checked={chat} onChange={(e) => actions.setChat(e.target.checked)} />
      <span>
        Chat <small className="hint">send the prompt as a user turn in the model&apos;s chat template; the model answers as the assistant and stops at its end-of-turn token.</small>
      </span>
    </label>
  );
}

export function PlaygroundPanel() {
  const prompt = useStudio(selectPrompt);
  const generateBlocker = useStudio(selectGenerateBlocker);
  const generating = useStudio(selectIsGenerating);
  const model = useStudio(selectModelInfo);
  return (
    <section className={model ? 'panel' : 'panel panel-idle'} aria-labelledby="playground-heading">
      <h2 id="playground-heading">Playground</h2>
      <p className="hint" data-testid="playground-model">
        {model ? (
          <>
            Model: <strong>{model.label}</strong>
          </>
        ) : (
          'Load a model on the left to generate text. You can write the prompt meanwhile.'
        )}
      </p>
      <GenerateWith />
      <label htmlFor="prompt">Prompt</label>
      <textarea
        id="prompt"
        data-testid="prompt"
        rows={6}
        spellCheck={false}
        value={prompt}
        aria-describedby="prompt-hint"
        onChange={(e) => actions.setPrompt(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && (e.ctrlKey || e.metaKey) && generateBlocker === null) {
            e.preventDefault();
            void actions.generate();
          }
        }}
      />
      <small className="hint" id="prompt-hint">
        Ctrl+Enter generates. The default follows the course's Q&A template.
      </small>
      {model?.chatTemplate && <ChatToggle />}
      <SamplingSettings />
      <div className="row actions">
        <ActionButton blocker={generateBlocker} variant="primary" data-testid="generate" onClick={() => void actions.generate()}>
          Generate
        </ActionButton>
        <ActionButton blocker={generating ? null : 'Nothing is being generated.'} variant="danger" data-testid="stop" onClick={actions.stopGeneration}>
          Stop
        </ActionButton>
        {generateBlocker && !generating && (
          <small className="hint" data-testid="generate-blocked">
            {generateBlocker}
          </small>
        )}
      </div>
      <GenerationOutput />
    </section>
  );
}
