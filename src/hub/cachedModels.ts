/**
 * The models this browser keeps in its Hub cache, with their sizes, and deleting one: the cache
 * shares the origin's storage quota with the training checkpoints, so the user needs to see it
 * and free it. A model is what one manifest lists; files no manifest lists (an older studio's, or
 * a download whose cache write failed part-way) are one more entry, "other cached files".
 */
import type { ListableCache } from './cache';
import { MANIFEST_QUERY, manifestFiles, parseManifest } from './hub';

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

/** Every cached model (largest first), then the files none of them lists. */
export async function listCachedModels(cache: ListableCache): Promise<CachedModel[]> {
  const entries = await cache.entries();
  const size = new Map(entries.map((e) => [e.url, e.bytes]));
  const listed = new Set<string>();
  const models: CachedModel[] = [];
  for (const e of entries) {
    if (!e.url.includes(`?${MANIFEST_QUERY}=`)) continue;
    const data = await cache.get(e.url);
    const m = data && parseManifest(data);
    if (!m) continue;
    listed.add(e.url);
    const files = manifestFiles(m).filter((u) => size.has(u));
    files.forEach((u) => listed.add(u));
    models.push({ key: e.url, repo: m.repo, revision: m.revision, commit: m.commit, endpoint: m.endpoint, files: files.length, bytes: files.reduce((n, u) => n + size.get(u)!, e.bytes) });
  }
  models.sort((a, b) => b.bytes - a.bytes);
  const other = entries.filter((e) => !listed.has(e.url));
  if (other.length) models.push({ key: OTHER_FILES, repo: null, revision: null, commit: null, endpoint: null, files: other.length, bytes: other.reduce((n, e) => n + e.bytes, 0) });
  return models;
}

/**
 * Deletes a cached model: its manifest first (so a half-deleted model is never loaded as whole),
 * then its files, except those another manifest also lists (two revisions at one commit).
 */
export async function deleteCachedModel(cache: ListableCache, key: string): Promise<void> {
  const models = await listCachedModels(cache);
  const target = models.find((m) => m.key === key);
  if (!target) return;
  const entries = await cache.entries();
  if (key === OTHER_FILES) {
    const keep = new Set<string>();
    for (const m of models) {
      if (m.key === OTHER_FILES) continue;
      keep.add(m.key);
      for (const u of await filesOf(cache, m.key)) keep.add(u);
    }
    for (const e of entries) if (!keep.has(e.url)) await cache.delete(e.url); // older manifests included
    return;
  }
  const mine = await filesOf(cache, key);
  const shared = new Set<string>();
  for (const m of models) if (m.key !== key && m.key !== OTHER_FILES) for (const u of await filesOf(cache, m.key)) shared.add(u);
  await cache.delete(key);
  for (const u of mine) if (!shared.has(u)) await cache.delete(u);
}

async function filesOf(cache: ListableCache, manifestKey: string): Promise<string[]> {
  const data = await cache.get(manifestKey);
  const m = data && parseManifest(data);
  return m ? manifestFiles(m) : [];
}
