/** The OPFS checkpoint store on an in-memory file system: what a full disk, a failed open and a Delete mid-save leave behind. */
import { describe, expect, it } from 'vitest';
import { fakeOpfs } from '../testing/fakeOpfs';
import { checkpointSaveMessage, opfsCheckpointStore } from './checkpointStore';

const bytes = (n: number, v: number) => new Uint8Array(n).fill(v);

describe('the OPFS checkpoint store', () => {
  it('saves, replaces and loads a checkpoint; a missing one is null', async () => {
    const fs = fakeOpfs();
    const store = opfsCheckpointStore(fs.root);
    expect(await store.load('r1', 'last')).toBeNull();
    await store.save('r1', 'last', bytes(10, 1));
    await store.save('r1', 'last', bytes(12, 2));
    expect(await store.load('r1', 'last')).toEqual(bytes(12, 2));
    expect(fs.files()).toEqual(['runs/r1/last.safetensors: 12']);
  });

  it('a full quota in the middle of a write keeps the last good checkpoint and leaves no .tmp', async () => {
    const fs = fakeOpfs();
    const store = opfsCheckpointStore(fs.root);
    await store.save('r1', 'last', bytes(100, 1));
    fs.quotaBytes = 150;
    const failed = await store.save('r1', 'last', bytes(100, 2)).catch((e) => e);
    expect((failed as Error).name).toBe('QuotaExceededError');
    expect(checkpointSaveMessage(failed)).toMatch(/quota is full: the previous checkpoint is kept/);
    expect(await store.load('r1', 'last')).toEqual(bytes(100, 1));
    expect(fs.files()).toEqual(['runs/r1/last.safetensors: 100']);
  });

  it('a file that cannot be opened for writing leaves no empty .tmp', async () => {
    const fs = fakeOpfs();
    const root = await fs.root();
    const broken = async () =>
      ({
        getDirectoryHandle: async (name: string, o: { create?: boolean }) => {
          const dir = await root.getDirectoryHandle(name, o);
          return {
            getDirectoryHandle: async (n: string, oo: { create?: boolean }) => {
              const run = await dir.getDirectoryHandle(n, oo);
              return {
                getFileHandle: async (f: string, ooo: { create?: boolean }) => {
                  await run.getFileHandle(f, ooo); // the empty file is made, as OPFS makes it
                  return { createWritable: async () => Promise.reject(new DOMException('the file is locked', 'NoModificationAllowedError')) };
                },
                removeEntry: (f: string) => run.removeEntry(f),
              };
            },
          };
        },
      }) as unknown as FileSystemDirectoryHandle;
    const store = opfsCheckpointStore(broken);
    await expect(store.save('r1', 'best', bytes(5, 1))).rejects.toThrow(/locked/);
    expect(fs.files()).toEqual([]);
  });

  it('a Delete pressed during a save waits for it, then removes the whole run: no folder is left', async () => {
    const fs = fakeOpfs();
    const store = opfsCheckpointStore(fs.root);
    await store.save('r1', 'best', bytes(8, 1));
    let open!: () => void;
    fs.gate = new Promise((r) => (open = r));
    const saving = store.save('r1', 'last', bytes(8, 2)); // held in its write
    const deleting = store.delete('r1');
    await new Promise((r) => setTimeout(r, 0));
    expect(fs.files()).toEqual(['runs/r1/best.safetensors: 8', 'runs/r1/last.tmp: 0']); // the delete has not run over the save
    fs.gate = null;
    open();
    await saving;
    await deleting;
    expect(fs.files()).toEqual([]);
    expect(await store.load('r1', 'last')).toBeNull();
  });

  it('deleting a run that has no checkpoints is not an error', async () => {
    const store = opfsCheckpointStore(fakeOpfs().root);
    await expect(store.delete('never-saved')).resolves.toBeUndefined();
  });
});
