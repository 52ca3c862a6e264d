/**
 * Where checkpoints live: the browser's Origin Private File System in the worker (large binary
 * files, no structured-clone copies), memory in tests and the command line.
 *
 * A save writes a new file and only then replaces the old one, so a full quota or a closed tab in
 * the middle of a write leaves the previous checkpoint readable.
 */
export type CheckpointKind = 'last' | 'best';

export interface CheckpointStore {
  save(runId: string, kind: CheckpointKind, bytes: Uint8Array): Promise<void>;
  load(runId: string, kind: CheckpointKind): Promise<Uint8Array | null>;
  delete(runId: string): Promise<void>;
}

export function memoryCheckpointStore(): CheckpointStore {
  const files = new Map<string, Uint8Array>();
  return {
    save: async (runId, kind, bytes) => void files.set(`${runId}/${kind}`, bytes.slice()),
    load: async (runId, kind) => files.get(`${runId}/${kind}`)?.slice() ?? null,
    delete: async (runId) => {
      for (const k of [...files.keys()]) if (k.startsWith(`${runId}/`)) files.delete(k);
    },
  };
}

/** Why a save failed, in words: a full quota is the common case and has a clear remedy. */
export function checkpointSaveMessage(e: unknown): string {
  const name = (e as Error)?.name;
  if (name === 'QuotaExceededError') return 'the browser storage quota is full: the previous checkpoint is kept; free space (delete old runs) to save again';
  return `the checkpoint could not be saved (${(e as Error)?.message ?? String(e)}): the previous one is kept`;
}

/** The part of the File System Access API the store uses (OPFS in the browser; a fake in tests). */
export type DirectoryRoot = () => Promise<FileSystemDirectoryHandle>;

/**
 * Checkpoints as files in OPFS: runs/<runId>/<kind>.safetensors. Operations on one run are done
 * one after another (a Delete pressed during a save waits for it, then removes the whole folder),
 * and a failed save, whether at creating, writing or closing the file, leaves no `.tmp` behind.
 */
export function opfsCheckpointStore(root: DirectoryRoot = () => navigator.storage.getDirectory()): CheckpointStore {
  const runsDir = async (create: boolean) => (await root()).getDirectoryHandle('runs', { create });
  const runDir = async (runId: string, create: boolean) => (await runsDir(create)).getDirectoryHandle(runId, { create });
  const queues = new Map<string, Promise<unknown>>();
  /** Runs fn after every earlier operation on the same run has ended (ok or not). */
  const serial = <T>(runId: string, fn: () => Promise<T>): Promise<T> => {
    const next = (queues.get(runId) ?? Promise.resolve()).catch(() => {}).then(fn);
    queues.set(runId, next);
    void next.finally(() => queues.get(runId) === next && queues.delete(runId)).catch(() => {});
    return next;
  };
  return {
    save: (runId, kind, bytes) =>
      serial(runId, async () => {
        const dir = await runDir(runId, true);
        const name = `${kind}.tmp`;
        let w: FileSystemWritableFileStream | null = null;
        try {
          const tmp = await dir.getFileHandle(name, { create: true });
          w = await tmp.createWritable();
          await w.write(bytes as Uint8Array<ArrayBuffer>);
          await w.close();
          w = null;
          // The move replaces the old checkpoint only once the new one is complete.
          await (tmp as FileSystemFileHandle & { move(name: string): Promise<void> }).move(`${kind}.safetensors`);
        } catch (e) {
          await w?.abort().catch(() => {});
          await dir.removeEntry(name).catch(() => {});
          throw e;
        }
      }),
    load: (runId, kind) =>
      serial(runId, async () => {
        try {
          const file = await (await (await runDir(runId, false)).getFileHandle(`${kind}.safetensors`)).getFile();
          return new Uint8Array(await file.arrayBuffer());
        } catch (e) {
          if ((e as Error)?.name === 'NotFoundError') return null;
          throw e;
        }
      }),
    delete: (runId) =>
      serial(runId, async () => {
        await (await runsDir(true)).removeEntry(runId, { recursive: true }).catch((e) => {
          if ((e as Error)?.name !== 'NotFoundError') throw e;
        });
      }),
  };
}
