/** A model from disk: drop a folder or files, or pick them. Nothing leaves the machine. */
import { useState, type DragEvent } from 'react';
import { actions, selectLoadBlocker, selectLocalPick, useStudio } from '../../state';
import { filesFromDrop, filesFromInput } from './droppedFiles';

/** React has no typed prop for it; set the attribute directly. */
const asFolderPicker = (el: HTMLInputElement | null) => el?.setAttribute('webkitdirectory', '');

export function LocalFilesSource() {
  const blocker = useStudio(selectLoadBlocker);
  const pick = useStudio(selectLocalPick);
  const [over, setOver] = useState(false);

  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setOver(false);
    if (blocker !== null) return;
    void filesFromDrop(e.dataTransfer).then(actions.loadLocalFiles);
  };

  return (
    <fieldset className="source">
      <legend>Local files</legend>
      <div
        className={['drop-zone', over ? 'drop-over' : '', blocker ? 'drop-blocked' : ''].join(' ')}
        data-testid="files-drop"
        title={blocker ?? undefined}
        onDragOver={(e) => {
          e.preventDefault();
          e.dataTransfer.dropEffect = blocker ? 'none' : 'copy';
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={onDrop}
      >
        <p>Drop the model folder or its files here, or</p>
        <div className="row center">
          <label className={blocker ? 'btn btn-secondary file-button disabled' : 'btn btn-secondary file-button'} title={blocker ?? undefined}>
            Choose files
            <input
              type="file"
              multiple
              className="visually-hidden"
              data-testid="files-input"
              disabled={blocker !== null}
              onChange={(e) => {
                const files = filesFromInput(e.target.files);
                e.target.value = ''; // so picking the same files again fires change
                void actions.loadLocalFiles(files);
              }}
            />
          </label>
          <label className={blocker ? 'btn btn-secondary file-button disabled' : 'btn btn-secondary file-button'} title={blocker ?? undefined}>
            Choose folder
            <input
              type="file"
              ref={asFolderPicker}
              className="visually-hidden"
              data-testid="folder-input"
              disabled={blocker !== null}
              onChange={(e) => {
                const files = filesFromInput(e.target.files);
                e.target.value = '';
                void actions.loadLocalFiles(files);
              }}
            />
          </label>
        </div>
      </div>
      <p className="hint">
        Needs <code>config.json</code> and <code>model.safetensors</code> (or the shards with <code>model.safetensors.index.json</code>).{' '}
        <code>tokenizer.json</code> is optional: without it the bundled Pythia tokenizer is used. PyTorch <code>.bin</code> pickles are
        refused (unpickling can run arbitrary code).
      </p>
      {pick && (
        <p className="note" data-testid="files-summary">
          Sent: {pick.send.join(', ')} · tokenizer: {pick.tokenizer === 'model' ? 'tokenizer.json from the files' : 'bundled Pythia (no tokenizer.json)'}
          {pick.ignored.length > 0 && ` · ignored: ${pick.ignored.join(', ')}`}
        </p>
      )}
    </fieldset>
  );
}
