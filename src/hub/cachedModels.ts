/**
 * The models this browser keeps in its Hub cache, with their sizes, and deleting one: the cache
 * shares the origin's storage quota with the training checkpoints, so the user needs to see it
 * and free it. A model is what one manifest lists; files no manifest lists (an older studio's, or
 * a download whose cache write failed part-way) are one more entry, "other cached files".
 */
import type { ListableCache } from './cache';
import { MANIFEST_QUERY, manifestFiles, parseManifest, type Manifest } from './hub';

export interface CachedModel {
  /** What deleteCachedModel takes: the manifest's cache key, or OTHER_FILES. */
  key: string;
  /** "EleutherAI/pythia-70m", or null for the other files. */
  repo: string | null;
  revision: string | null;
  commit: string | null;
  /** The Hub or mirror it came from. */
  endpoint: string | null;
  files: number;
  bytes: number;
}

export const OTHER_FILES = 'other-files';

/** Every valid manifest in the cache, with the cache keys of the files it lists (read once per call). */
async function manifests(cache: ListableCache, entries: { url: string }[]): Promise<{ key: string; manifest: Manifest; files: string[] }[]> {
  const out: { key: string; manifest: Manifest; files: string[] }[] = [];
  for (const e of entries) {
    if (!e.url.includes(`?${MANIFEST_QUERY}=`)) continue;
    const data = await cache.get(e.url);
    const manifest = data && parseManifest(data);
    if (manifest) out.push({ key: e.url, manifest, files: manifestFiles(manifest) });
  }
  return out;
}

/** Every cached model (largest first), then the files none of them lists. */
export async function listCachedModels(cache: ListableCache): Promise<CachedModel[]> {
  const entries = await cache.entries();
  const size = new Map(entries.map((e) => [e.url, e.bytes]));
  const listed = new Set<string>();
  const models: CachedModel[] = [];
  for (const { key, manifest: m, files: all } of await manifests(cache, entries)) {
    const files = all.filter((u) => size.has(u));
    [key, ...files].forEach((u) => listed.add(u));
    models.push({ key, repo: m.repo, revision: m.revision, commit: m.commit, endpoint: m.endpoint, files: files.length, bytes: files.reduce((n, u) => n + size.get(u)!, size.get(key) ?? 0) });
  }
  models.sort((a, b) => b.bytes - a.bytes);
  const other = entries.filter((e) => !listed.has(e.url));
  if (other.length) models.push({ key: OTHER_FILES, repo: null, revision: null, commit: null, endpoint: null, files: other.length, bytes: other.reduce((n, e) => n + e.bytes, 0) });
  return models;
}

/**
 * Deletes a cached model: its manifest first (so a half-deleted model is never loaded as whole),
 * then its files, except those another manifest also lists (two revisions at one commit). With
 * OTHER_FILES, every entry no valid manifest lists (an older studio's keys and manifests included).
 */
export async function deleteCachedModel(cache: ListableCache, key: string): Promise<void> {
  const entries = await cache.entries();
  const all = await manifests(cache, entries);
  const kept = (except: string | null) => new Set(all.filter((m) => m.key !== except).flatMap((m) => [m.key, ...m.files]));
  if (key === OTHER_FILES) {
    const keep = kept(null);
    for (const e of entries) if (!keep.has(e.url)) await cache.delete(e.url);
    return;
  }
  const target = all.find((m) => m.key === key);
  if (!target) return;
  const shared = kept(key);
  await cache.delete(key);
  for (const u of target.files) if (!shared.has(u)) await cache.delete(u);
}
