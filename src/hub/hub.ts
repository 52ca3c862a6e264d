/**
 * Downloads a GPT-NeoX / Pythia checkpoint from the Hugging Face Hub (or a mirror with the
 * same URL layout). Runs in windows, Web Workers and Node: it only needs `fetch`.
 *
 * Order of requests (first download, nothing cached):
 *   1. config.json                                  - required; gated/missing repos fail here
 *   2. tokenizer.json, tokenizer_config.json,
 *      generation_config.json                       - optional (404 -> null)
 *   3. model.safetensors, else model.safetensors.index.json and its shards (sorted by name),
 *      else HEAD pytorch_model.bin(.index.json) to explain why the repo cannot be loaded.
 * The small optional files are fetched before the weights (rather than after) so that when the
 * big download starts every other size is already known, and `overallTotal` becomes exact as
 * soon as the weights' Content-Length arrives.
 *
 * Progress: per file, `loaded`/`total` (total null without Content-Length); `overallLoaded`
 * sums bytes across files; `overallTotal` is null until the size of every remaining file is
 * known, i.e. from the first event of the last weights file that has a Content-Length (for a
 * sharded checkpoint, from the last shard). The last event of the whole download always has
 * overallLoaded === overallTotal.
 *
 * Cache: every file is looked up under its `resolve` URL before any request. Files are written
 * only after the whole download succeeded, so an aborted or failed download leaves the cache as
 * it was. A small manifest (which optional files exist, which weight files) is cached too, so a
 * repeat download needs no network at all instead of re-probing the files that 404.
 * Caveat: a branch such as "main" can move; a cached "main" keeps serving the old files until
 * the cache is cleared. Pin a commit hash as the revision for reproducibility.
 */
import { type FileCache, isQuotaError } from './cache';
import {
  type RequestContext,
  discard,
  httpError,
  oneLine,
  readBody,
  request,
  throwIfAborted,
} from './http';
import { EXAMPLE_REPO_ID, parseRepoRef } from './repoId';

export { parseRepoId, parseRepoRef, type RepoRef } from './repoId';
export { cacheStorageCache, memoryCache, type FileCache, type MemoryCache } from './cache';

export const DEFAULT_HUB_ENDPOINT = 'https://huggingface.co';
export const DEFAULT_REVISION = 'main';

export interface DownloadProgress {
  /** Path of the file inside the repo, e.g. "model.safetensors". */
  file: string;
  loaded: number;
  /** Null while the server has not said how big the file is. */
  total: number | null;
  overallLoaded: number;
  /** Null until every remaining file's size is known (see the module comment). */
  overallTotal: number | null;
}

export interface DownloadOptions {
  /** Hub base URL, e.g. a mirror. Default DEFAULT_HUB_ENDPOINT. */
  endpoint?: string;
  /** Branch, tag, commit or "refs/pr/N". Default: the one in a pasted /tree/<rev> URL, else "main". */
  revision?: string;
  signal?: AbortSignal;
  cache?: FileCache | null;
  onProgress?: (progress: DownloadProgress) => void;
  /** Non-fatal problems, e.g. the cache could not be written because storage is full. */
  onWarning?: (message: string) => void;
  /** Hugging Face access token for gated or private repos (sent as a Bearer token). */
  token?: string;
  fetchImpl?: typeof fetch;
}

export interface DownloadedModel {
  repo: string;
  revision: string;
  config: unknown;
  /** Contents of each safetensors file, in the order of `weightFiles`. */
  weights: ArrayBuffer[];
  /** ["model.safetensors"] or the shard names from the index, sorted. */
  weightFiles: string[];
  tokenizerJson: unknown | null;
  tokenizerConfig: unknown | null;
  generationConfig: unknown | null;
  /** True when every file came from the cache and no request was made. */
  fromCache: boolean;
}

const CONFIG_FILE = 'config.json';
const WEIGHTS_FILE = 'model.safetensors';
const WEIGHTS_INDEX_FILE = 'model.safetensors.index.json';
const OPTIONAL_FILES = ['tokenizer.json', 'tokenizer_config.json', 'generation_config.json'] as const;
const PICKLE_FILES = ['pytorch_model.bin', 'pytorch_model.bin.index.json'];
const MANIFEST_VERSION = 1;

type OptionalFile = (typeof OPTIONAL_FILES)[number];

/** Which files a completed download consisted of; lets a cached repeat skip all probing. */
interface Manifest {
  version: typeof MANIFEST_VERSION;
  weights: string[];
  present: OptionalFile[];
}

interface Weights {
  files: string[];
  data: ArrayBuffer[];
}

/** State of one downloadModel call. */
interface Session {
  ctx: RequestContext;
  cache: FileCache | null;
  progress: OverallProgress;
  warn: (message: string) => void;
  /** Files fetched from the network, written to the cache once everything succeeded. */
  pending: { file: string; url: string; data: ArrayBuffer }[];
  usedNetwork: boolean;
}

/** `${endpoint}/${repo}/resolve/${revision}/${file}`, each part percent-encoded. */
export function hubFileUrl(endpoint: string, repo: string, revision: string, file: string): string {
  const base = endpoint.replace(/\/+$/, '');
  return `${base}/${encodePath(repo)}/resolve/${encodeURIComponent(revision)}/${encodePath(file)}`;
}

function encodePath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

/**
 * Downloads config, tokenizer files and safetensors weights of `repo` (an id or a pasted Hub
 * URL). Rejects with a one-line Error saying what to do, or with a DOMException named
 * "AbortError" when `signal` aborts.
 */
export async function downloadModel(repo: string, opts: DownloadOptions = {}): Promise<DownloadedModel> {
  const session = openSession(repo, opts);
  try {
    return await run(session);
  } catch (err) {
    // Whatever the abort interrupted (fetch, body, cache, a callback), report it the same way.
    throwIfAborted(opts.signal);
    throw err;
  }
}

function openSession(repoInput: string, opts: DownloadOptions): Session {
  const ref = parseRepoRef(repoInput);
  const revision = (opts.revision ?? ref.revision ?? DEFAULT_REVISION).trim();
  if (revision === '') {
    throw new Error(`The revision is empty: use a branch, tag or commit, e.g. "${DEFAULT_REVISION}".`);
  }
  const impl = opts.fetchImpl;
  const warnings = new Set<string>();
  return {
    ctx: {
      // Called through wrappers so the native fetch never sees `this` = ctx ("Illegal invocation").
      fetch: impl ? (input, init) => impl(input, init) : (input, init) => globalThis.fetch(input, init),
      endpoint: normalizeEndpoint(opts.endpoint ?? DEFAULT_HUB_ENDPOINT),
      repo: ref.repo,
      revision,
      headers: opts.token ? { Authorization: `Bearer ${opts.token}` } : {},
      signal: opts.signal,
      hasToken: Boolean(opts.token),
    },
    cache: opts.cache ?? null,
    progress: new OverallProgress(opts.onProgress),
    warn: (message) => {
      // The same cache problem tends to hit every file; say it once.
      if (warnings.has(message)) return;
      warnings.add(message);
      opts.onWarning?.(message);
    },
    pending: [],
    usedNetwork: false,
  };
}

function normalizeEndpoint(endpoint: string): string {
  const trimmed = endpoint.trim().replace(/\/+$/, '');
  let protocol = '';
  try {
    protocol = new URL(trimmed).protocol;
  } catch {
    // Reported below.
  }
  if (protocol !== 'https:' && protocol !== 'http:') {
    throw new Error(`Hub endpoint "${oneLine(endpoint)}" is not an http(s) URL: use ${DEFAULT_HUB_ENDPOINT} or your mirror's address.`);
  }
  return trimmed;
}

async function run(s: Session): Promise<DownloadedModel> {
  throwIfAborted(s.ctx.signal);
  const manifest = await readManifest(s);
  const config = parseConfig(s, await fetchRequired(s, CONFIG_FILE, false));
  const extras = await fetchOptionalFiles(s, manifest);
  const weights = manifest ? await fetchWeightFiles(s, manifest.weights) : await discoverWeights(s);
  await commit(s, manifest ? null : { version: MANIFEST_VERSION, weights: weights.files, present: presentFiles(extras) });
  return {
    repo: s.ctx.repo,
    revision: s.ctx.revision,
    config,
    weights: weights.data,
    weightFiles: weights.files,
    tokenizerJson: extras['tokenizer.json'],
    tokenizerConfig: extras['tokenizer_config.json'],
    generationConfig: extras['generation_config.json'],
    fromCache: !s.usedNetwork,
  };
}

// ---------------------------------------------------------------------------------------------
// Files
// ---------------------------------------------------------------------------------------------

async function fetchOptionalFiles(s: Session, manifest: Manifest | null): Promise<Record<OptionalFile, unknown>> {
  const out: Record<OptionalFile, unknown> = {
    'tokenizer.json': null,
    'tokenizer_config.json': null,
    'generation_config.json': null,
  };
  for (const file of OPTIONAL_FILES) {
    // A cached manifest already knows which files 404; don't ask again.
    if (manifest && !manifest.present.includes(file)) continue;
    const data = await fetchFile(s, file, { optional: true, last: false });
    out[file] = data ? parseJson(s, file, data) : null;
  }
  return out;
}

function presentFiles(extras: Record<OptionalFile, unknown>): OptionalFile[] {
  return OPTIONAL_FILES.filter((file) => extras[file] !== null);
}

/** First download: single file, else sharded index, else explain what the repo has instead. */
async function discoverWeights(s: Session): Promise<Weights> {
  const single = await fetchFile(s, WEIGHTS_FILE, { optional: true, last: true });
  if (single) return { files: [WEIGHTS_FILE], data: [single] };

  const index = await fetchFile(s, WEIGHTS_INDEX_FILE, { optional: true, last: false });
  if (index) return fetchWeightFiles(s, shardNames(s, parseJson(s, WEIGHTS_INDEX_FILE, index)));

  return refuseWithoutSafetensors(s);
}

async function fetchWeightFiles(s: Session, files: string[]): Promise<Weights> {
  const data: ArrayBuffer[] = [];
  for (const [i, file] of files.entries()) {
    data.push(await fetchRequired(s, file, i === files.length - 1));
  }
  return { files, data };
}

/** Distinct shard files named by the index's weight_map, sorted (model-00001-of-000NN first). */
function shardNames(s: Session, index: unknown): string[] {
  const map = isRecord(index) ? index.weight_map : undefined;
  const malformed = `${WEIGHTS_INDEX_FILE} in "${s.ctx.repo}" at revision "${s.ctx.revision}"`;
  if (!isRecord(map)) {
    throw new Error(`${malformed} has no weight_map: the sharded checkpoint is malformed; try another revision or repo.`);
  }
  const shards = new Set<string>();
  for (const value of Object.values(map)) {
    // The index is remote input: never let it point outside the repo or at non-safetensors files.
    if (typeof value !== 'string' || !isSafeShardName(value)) {
      throw new Error(`${malformed} lists an invalid shard ${JSON.stringify(value)}: only .safetensors files inside the repo can be loaded; try another revision or repo.`);
    }
    shards.add(value);
  }
  if (shards.size === 0) {
    throw new Error(`${malformed} lists no shards: the sharded checkpoint is malformed; try another revision or repo.`);
  }
  return [...shards].sort();
}

function isSafeShardName(name: string): boolean {
  return (
    name.endsWith('.safetensors') &&
    !name.includes('\\') &&
    name.split('/').every((segment) => segment !== '' && segment !== '.' && segment !== '..')
  );
}

/** Neither safetensors layout exists: find out whether pickled weights are the reason. */
async function refuseWithoutSafetensors(s: Session): Promise<never> {
  const where = `"${s.ctx.repo}" at revision "${s.ctx.revision}"`;
  for (const file of PICKLE_FILES) {
    if (await exists(s, file)) {
      throw new Error(
        `${where} only has pickled PyTorch weights (${file}), which are refused: unpickling can run arbitrary code and needs Python. ` +
          `Pick a repo or revision that has model.safetensors (e.g. a "refs/pr/N" revision from the Safetensors conversion bot) ` +
          `or convert it with the safetensors convert tool (https://huggingface.co/spaces/safetensors/convert).`,
      );
    }
  }
  throw new Error(`${where} has no model weights (no ${WEIGHTS_FILE} or ${WEIGHTS_INDEX_FILE}): pick a Transformers checkpoint such as "${EXAMPLE_REPO_ID}".`);
}

/** HEAD, so that checking for a multi-GB pickle does not download it. */
async function exists(s: Session, file: string): Promise<boolean> {
  s.usedNetwork = true;
  const response = await request(s.ctx, fileUrl(s, file), 'HEAD');
  discard(response);
  return response.ok;
}

async function fetchRequired(s: Session, file: string, last: boolean): Promise<ArrayBuffer> {
  const data = await fetchFile(s, file, { optional: false, last });
  if (!data) throw new Error(`${file} is missing from "${s.ctx.repo}": try again.`); // unreachable: required 404s throw
  return data;
}

/**
 * Cache first, then network. Returns null for a missing optional file (404). `last` marks the
 * final file of the download, whose size completes `overallTotal`.
 */
async function fetchFile(s: Session, file: string, opts: { optional: boolean; last: boolean }): Promise<ArrayBuffer | null> {
  const url = fileUrl(s, file);
  const cached = await cacheGet(s, url);
  if (cached) {
    // One event so the UI's bar for this file still completes.
    s.progress.report(file, cached.byteLength, cached.byteLength, opts.last);
    s.progress.complete(cached.byteLength);
    return cached;
  }
  s.usedNetwork = true;
  const response = await request(s.ctx, url, 'GET');
  if (response.status === 404 && opts.optional) {
    discard(response);
    return null;
  }
  if (!response.ok) {
    discard(response);
    throw httpError(s.ctx, response, file);
  }
  const data = await readBody(s.ctx, response, file, (loaded, total) => s.progress.report(file, loaded, total, opts.last));
  s.progress.complete(data.byteLength);
  s.pending.push({ file, url, data });
  return data;
}

function fileUrl(s: Session, file: string): string {
  return hubFileUrl(s.ctx.endpoint, s.ctx.repo, s.ctx.revision, file);
}

// ---------------------------------------------------------------------------------------------
// JSON
// ---------------------------------------------------------------------------------------------

function parseJson(s: Session, file: string, data: ArrayBuffer): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(data));
  } catch (err) {
    const detail = err instanceof Error ? oneLine(err.message) : 'parse error';
    throw new Error(`${file} from "${s.ctx.repo}" is not valid JSON (${detail}): a proxy or error page may have replaced it; try again.`, {
      cause: err,
    });
  }
}

function parseConfig(s: Session, data: ArrayBuffer): unknown {
  const config = parseJson(s, CONFIG_FILE, data);
  if (!isRecord(config)) {
    throw new Error(`config.json in "${s.ctx.repo}" is not a JSON object, so it is not a Transformers model config: pick a repo such as "${EXAMPLE_REPO_ID}".`);
  }
  return config;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// ---------------------------------------------------------------------------------------------
// Cache
// ---------------------------------------------------------------------------------------------

/** A read failure (e.g. storage disabled) is a miss, not a failed download. */
async function cacheGet(s: Session, url: string): Promise<ArrayBuffer | null> {
  if (!s.cache) return null;
  let data: ArrayBuffer | null = null;
  try {
    data = await s.cache.get(url);
  } catch (err) {
    s.warn(`Could not read the browser cache (${describe(err)}); downloading from the Hub instead.`);
  }
  throwIfAborted(s.ctx.signal);
  return data;
}

/** A write failure (typically a full quota) only costs caching; the download still succeeds. */
async function cachePut(s: Session, url: string, data: ArrayBuffer, what: string): Promise<void> {
  if (!s.cache) return;
  try {
    await s.cache.put(url, data);
  } catch (err) {
    s.warn(
      isQuotaError(err)
        ? `The model was not saved to the browser cache because site storage is full; it will be downloaded again next time. Free up storage (e.g. clear this site's data) to enable caching.`
        : `Could not save ${what} to the browser cache (${describe(err)}); it will be downloaded again next time.`,
    );
  }
}

/** Writes everything fetched from the network, then the manifest (last, so it never lists absent files). */
async function commit(s: Session, manifest: Manifest | null): Promise<void> {
  for (const { file, url, data } of s.pending) await cachePut(s, url, data, file);
  if (manifest) {
    await cachePut(s, manifestUrl(s), new TextEncoder().encode(JSON.stringify(manifest)).buffer, 'the download manifest');
  }
}

async function readManifest(s: Session): Promise<Manifest | null> {
  const data = await cacheGet(s, manifestUrl(s));
  if (!data) return null;
  try {
    const value: unknown = JSON.parse(new TextDecoder().decode(data));
    return isManifest(value) ? value : null;
  } catch {
    return null; // A corrupt manifest only costs re-probing.
  }
}

function isManifest(value: unknown): value is Manifest {
  return (
    isRecord(value) &&
    value.version === MANIFEST_VERSION &&
    Array.isArray(value.weights) &&
    value.weights.length > 0 &&
    value.weights.every((f) => typeof f === 'string' && isSafeShardName(f)) &&
    Array.isArray(value.present) &&
    value.present.every((f) => (OPTIONAL_FILES as readonly unknown[]).includes(f))
  );
}

/** A query string keeps the key distinct from any real file (the Cache API ignores #fragments). */
function manifestUrl(s: Session): string {
  return `${hubFileUrl(s.ctx.endpoint, s.ctx.repo, s.ctx.revision, '')}?neox-studio-manifest=${MANIFEST_VERSION}`;
}

function describe(err: unknown): string {
  if (err instanceof Error) return oneLine(`${err.name}: ${err.message}`);
  return oneLine(String(err));
}

// ---------------------------------------------------------------------------------------------
// Progress
// ---------------------------------------------------------------------------------------------

/** Adds per-file progress into overall numbers (files are downloaded one after another). */
class OverallProgress {
  private completed = 0;

  constructor(private readonly listener: ((progress: DownloadProgress) => void) | undefined) {}

  report(file: string, loaded: number, total: number | null, last: boolean): void {
    this.listener?.({
      file,
      loaded,
      total,
      overallLoaded: this.completed + loaded,
      // Earlier files are complete, so only the last file's size can still be unknown.
      overallTotal: last && total !== null ? this.completed + total : null,
    });
  }

  complete(bytes: number): void {
    this.completed += bytes;
  }
}
