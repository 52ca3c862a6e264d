/**
 * Turns a drop or a file input into files with their folder paths. A dropped folder is
 * walked with webkitGetAsEntry, the only way to see inside it from a drop.
 */
import type { LocalFileInput } from '../../state';

/** Dot folders (a cloned repo's .git) hold nothing the engine reads, and can be huge. */
const isHidden = (path: string) => path.split('/').some((part) => part.startsWith('.') && part.length > 1);

export function filesFromInput(list: FileList | null): LocalFileInput[] {
  return Array.from(list ?? [])
    .map((file) => ({ path: file.webkitRelativePath || file.name, file }))
    .filter((f) => !isHidden(f.path));
}

export async function filesFromDrop(dt: DataTransfer): Promise<LocalFileInput[]> {
  // Entries must be taken before the first await: the browser empties the DataTransfer once the drop handler returns.
  const entries = Array.from(dt.items)
    .filter((item) => item.kind === 'file')
    .map((item) => item.webkitGetAsEntry())
    .filter((e): e is FileSystemEntry => e !== null);
  if (entries.length === 0) return filesFromInput(dt.files);
  const out: LocalFileInput[] = [];
  for (const entry of entries) await walk(entry, out);
  return out;
}

async function walk(entry: FileSystemEntry, out: LocalFileInput[]): Promise<void> {
  if (entry.name.startsWith('.')) return;
  if (isFile(entry)) {
    const file = await new Promise<File>((resolve, reject) => entry.file(resolve, reject));
    out.push({ path: entry.fullPath.replace(/^\//, ''), file });
  } else if (isDirectory(entry)) {
    const reader = entry.createReader();
    // readEntries returns at most 100 entries per call; an empty batch means done.
    for (;;) {
      const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
      if (batch.length === 0) break;
      for (const child of batch) await walk(child, out);
    }
  }
}

const isFile = (e: FileSystemEntry): e is FileSystemFileEntry => e.isFile;
const isDirectory = (e: FileSystemEntry): e is FileSystemDirectoryEntry => e.isDirectory;
