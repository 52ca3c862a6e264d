/**
 * A model's fingerprint: SHA-256 over its config.json and its weight files (files up to 16 MB
 * whole; larger ones by 64 KB slices at 256 evenly spaced places, plus their length), in hex. Two
 * loads of the same files agree; a different checkpoint under the same name (a moved branch, a
 * re-exported folder) does not, so a run can refuse to resume on weights it was not trained from.
 */
const WHOLE = 16 * 2 ** 20;
const SLICE = 64 * 1024;
const SLICES = 256;

export async function modelFingerprint(configJson: unknown, shards: readonly ArrayBuffer[]): Promise<string> {
  const parts: Uint8Array[] = [new TextEncoder().encode(JSON.stringify(configJson))];
  for (const shard of shards) {
    const bytes = new Uint8Array(shard);
    parts.push(new TextEncoder().encode(`|${bytes.length}|`));
    if (bytes.length <= WHOLE) {
      parts.push(bytes);
      continue;
    }
    const step = Math.floor((bytes.length - SLICE) / (SLICES - 1));
    for (let i = 0; i < SLICES; i++) parts.push(bytes.subarray(i * step, i * step + SLICE));
  }
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', all));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}
