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

export function opfsCheckpointStore(): CheckpointStore {
  const runsDir = async (create: boolean) => (await navigator.storage.getDirectory()).getDirectoryHandle('runs', { create });
  const runDir = async (runId: string, create: boolean) => (await runsDir(create)).getDirectoryHandle(runId, { create });
  return {
    async save(runId, kind, bytes) {
      const dir = await runDir(runId, true);
      const tmp = await dir.getFileHandle(`${kind}.tmp`, { create: true });
      const w = await tmp.createWritable();
      try {
        await w.write(bytes as Uint8Array<ArrayBuffer>);
        await w.close();
      } catch (e) {
        await w.abort().catch(() => {});
        await dir.removeEntry(`${kind}.tmp`).catch(() => {});
        throw e;
      }
      // The move replaces the old checkpoint only once the new one is complete.
      await (tmp as FileSystemFileHandle & { move(name: string): Promise<void> }).move(`${kind}.safetensors`);
    },
    async load(runId, kind) {
      try {
        const file = await (await (await runDir(runId, false)).getFileHandle(`${kind}.safetensors`)).getFile();
        return new Uint8Array(await file.arrayBuffer());
      } catch (e) {
        if ((e as Error)?.name === 'NotFoundError') return null;
        throw e;
      }
    },
    async delete(runId) {
      await (await runsDir(true)).removeEntry(runId, { recursive: true }).catch((e) => {
        if ((e as Error)?.name !== 'NotFoundError') throw e;
      });
    },
  };
}
