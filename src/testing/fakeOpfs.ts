/**
 * An in-memory Origin Private File System for tests of code that writes files there: directories,
 * files, writables that commit on close, move, recursive remove. It fails the way OPFS does
 * (NotFoundError, QuotaExceededError past a byte quota), and tests can hold a write open (`gate`).
 */
interface Dir {
  kind: 'directory';
  entries: Map<string, Dir | File>;
}
interface File {
  kind: 'file';
  data: Uint8Array;
}

const error = (name: string, message: string) => new DOMException(message, name);

export interface FakeOpfs {
  root: () => Promise<FileSystemDirectoryHandle>;
  /** Every file as "path: bytes", sorted. */
  files(): string[];
  /** Total bytes the files may hold (committed plus being written); Infinity by default. */
  quotaBytes: number;
  /** When set, each write waits for it: a test can act while a save is half done. */
  gate: Promise<void> | null;
}

export function fakeOpfs(): FakeOpfs {
  const top: Dir = { kind: 'directory', entries: new Map() };
  const used = (d: Dir): number => [...d.entries.values()].reduce((n, e) => n + (e.kind === 'file' ? e.data.length : used(e)), 0);
  const fs: FakeOpfs = {
    root: async () => dirHandle(top),
    files() {
      const out: string[] = [];
      const walk = (d: Dir, path: string) => {
        for (const [name, e] of d.entries) {
          if (e.kind === 'file') out.push(`${path}${name}: ${e.data.length}`);
          else walk(e, `${path}${name}/`);
        }
      };
      walk(top, '');
      return out.sort();
    },
    quotaBytes: Infinity,
    gate: null,
  };

  function fileHandle(parent: Dir, name: string): FileSystemFileHandle {
    const self = () => {
      const f = parent.entries.get(name);
      if (!f || f.kind !== 'file') throw error('NotFoundError', `${name} was removed`);
      return f;
    };
    return {
      kind: 'file',
      name,
      async getFile() {
        const data = self().data.slice();
        return { size: data.length, arrayBuffer: async () => data.buffer } as unknown as globalThis.File;
      },
      async createWritable() {
        self();
        const parts: Uint8Array[] = [];
        let pending = 0;
        return {
          async write(chunk: Uint8Array) {
            if (fs.gate) await fs.gate;
            if (used(top) + pending + chunk.length > fs.quotaBytes) throw error('QuotaExceededError', 'the quota has been exceeded');
            parts.push(chunk.slice());
            pending += chunk.length;
          },
          async close() {
            const f = self();
            f.data = new Uint8Array(pending);
            let at = 0;
            for (const p of parts) {
              f.data.set(p, at);
              at += p.length;
            }
          },
          async abort() {
            parts.length = 0;
          },
        } as unknown as FileSystemWritableFileStream;
      },
      async move(to: string) {
        const f = self();
        parent.entries.delete(name);
        parent.entries.set(to, f);
        name = to;
      },
    } as unknown as FileSystemFileHandle;
  }

  function dirHandle(d: Dir): FileSystemDirectoryHandle {
    return {
      kind: 'directory',
      async getDirectoryHandle(name: string, o: { create?: boolean } = {}) {
        let e = d.entries.get(name);
        if (!e && o.create) d.entries.set(name, (e = { kind: 'directory', entries: new Map() }));
        if (!e || e.kind !== 'directory') throw error('NotFoundError', `no directory ${name}`);
        return dirHandle(e);
      },
      async getFileHandle(name: string, o: { create?: boolean } = {}) {
        let e = d.entries.get(name);
        if (!e && o.create) d.entries.set(name, (e = { kind: 'file', data: new Uint8Array(0) }));
        if (!e || e.kind !== 'file') throw error('NotFoundError', `no file ${name}`);
        return fileHandle(d, name);
      },
      async removeEntry(name: string, o: { recursive?: boolean } = {}) {
        const e = d.entries.get(name);
        if (!e) throw error('NotFoundError', `no entry ${name}`);
        if (e.kind === 'directory' && e.entries.size > 0 && !o.recursive) throw error('InvalidModificationError', `${name} is not empty`);
        d.entries.delete(name);
      },
    } as unknown as FileSystemDirectoryHandle;
  }
  return fs;
}
