/** Saves text or bytes as a file through the browser's download (nothing leaves the machine). */
export function downloadText(name: string, text: string | Uint8Array<ArrayBuffer>, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = Object.assign(document.createElement('a'), { href: url, download: name });
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

interface DirectoryHandle {
  getDirectoryHandle(name: string, o: { create: boolean }): Promise<DirectoryHandle>;
  getFileHandle(name: string, o: { create: boolean }): Promise<{ createWritable(): Promise<{ write(d: Uint8Array<ArrayBuffer>): Promise<void>; close(): Promise<void> }> }>;
}

/** Writes files (names may hold "dir/file") into a folder the person picks: the File System Access API, Chromium only. */
export async function saveToPickedFolder(folder: string, files: { name: string; bytes: Uint8Array }[]): Promise<void> {
  const pick = (window as unknown as { showDirectoryPicker?: (o: { mode: string }) => Promise<DirectoryHandle> }).showDirectoryPicker;
  if (!pick) throw new Error('this browser cannot write into a folder you pick (Chrome and Edge can): download the zip instead');
  let dir = await (await pick({ mode: 'readwrite' })).getDirectoryHandle(folder, { create: true });
  const root = dir;
  for (const f of files) {
    const parts = f.name.split('/');
    dir = root;
    for (const p of parts.slice(0, -1)) dir = await dir.getDirectoryHandle(p, { create: true });
    const w = await (await dir.getFileHandle(parts.at(-1)!, { create: true })).createWritable();
    await w.write(new Uint8Array(f.bytes));
    await w.close();
  }
}
