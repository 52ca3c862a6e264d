/**
 * Pushes a model or adapter to the Hugging Face Hub with the user's write token: creates the
 * repo if needed, then uploads every file in one commit. Messages are shown verbatim in the UI,
 * so each says what to do, and none may contain the token (it is a password).
 */
import { commitIter, createRepo, HubApiError, type CommitOperation } from '@huggingface/hub';
import { oneLine } from './http';
import { parseRepoId } from './repoId';

export interface PushFile {
  /** Path in the repo; "/" makes sub-folders. */
  name: string;
  bytes: Uint8Array;
}

export interface PushParams {
  /** "owner/name" (or a pasted huggingface.co URL); owner is the user or an org they can write to. */
  repo: string;
  /** hf_… write token. */
  token: string;
  files: PushFile[];
  /** Only applies when the repo is created: an existing repo keeps its visibility. */
  private: boolean;
  commitMessage?: string;
  /** Default https://huggingface.co (a mirror or a test server). */
  hubUrl?: string;
  fetch?: typeof fetch;
  signal?: AbortSignal;
  /**
   * 0…1 by bytes. Plain fetch() has no upload progress, so large (LFS) files count when each
   * finishes uploading and small ones when the commit lands; the last call is always 1.
   */
  onProgress?: (fraction: number) => void;
}

export interface PushResult {
  /** e.g. https://huggingface.co/owner/name */
  url: string;
  /** Commit id (sha) of the upload. */
  commit: string;
}

const DEFAULT_HUB_URL = 'https://huggingface.co';
const TOKENS_PAGE = 'https://huggingface.co/settings/tokens';
/** Longest server message we echo; HTML error pages would otherwise fill the UI. */
const MAX_SERVER_MESSAGE = 300;

export async function pushToHub(p: PushParams): Promise<PushResult> {
  const repo = parseRepoId(p.repo); // throws a message with an example id before any request
  const token = p.token.trim();
  // Printable ASCII only: the library insists on "hf_", and fetch() rejects a header with spaces or
  // control characters with a TypeError that quotes the header, i.e. the token.
  if (!/^hf_[\x21-\x7e]+$/.test(token)) {
    throw new Error(`That is not a Hugging Face access token: paste a write token (it starts with "hf_") from ${TOKENS_PAGE}.`);
  }
  checkFiles(p.files);
  const hubUrl = (p.hubUrl ?? DEFAULT_HUB_URL).replace(/\/+$/, ''); // the library appends "/api/…"
  const base = p.fetch ?? fetch;
  // createRepo takes no AbortSignal, so lend it ours; commit requests carry their own (linked) one.
  const fetchWithSignal: typeof fetch = (input, init) => base(input, { ...init, signal: init?.signal ?? p.signal });
  const designation = { type: 'model' as const, name: repo }; // a string "datasets/x" would change type
  let step = 'creating';
  try {
    throwIfAborted(p.signal);
    try {
      await createRepo({
        repo: designation,
        accessToken: token,
        visibility: p.private ? 'private' : 'public',
        hubUrl,
        fetch: fetchWithSignal,
      });
    } catch (err) {
      // 409: the repo exists (e.g. a second push); committing to it is what the user wants.
      if (!(err instanceof HubApiError && err.statusCode === 409)) throw err;
    }
    step = 'uploading to';
    throwIfAborted(p.signal); // commitIter only listens for a *future* abort
    const commit = await commitFiles(p, designation, token, hubUrl, fetchWithSignal);
    p.onProgress?.(1);
    return { url: `${hubUrl}/${repo}`, commit };
  } catch (err) {
    throw explain(err, { repo, hubUrl, token, step, signal: p.signal });
  }
}

/** One commit (preupload → LFS batch + PUTs → commit), driving the library's iterator for progress. */
async function commitFiles(
  p: PushParams,
  repo: { type: 'model'; name: string },
  token: string,
  hubUrl: string,
  fetchImpl: typeof fetch,
): Promise<string> {
  const operations: CommitOperation[] = p.files.map((f) => ({
    operation: 'addOrUpdate',
    path: f.name,
    // Blob refuses views of a SharedArrayBuffer (tensors from threaded WASM); slice() copies out.
    content: new Blob([f.bytes.buffer instanceof ArrayBuffer ? (f.bytes as Uint8Array<ArrayBuffer>) : f.bytes.slice()]),
  }));
  const sizes = new Map(p.files.map((f) => [f.name, f.bytes.byteLength]));
  const total = Math.max(1, p.files.reduce((sum, f) => sum + f.bytes.byteLength, 0));
  const done = new Map<string, number>();
  let reported = 0;
  const iterator = commitIter({
    repo,
    accessToken: token,
    operations,
    title: p.commitMessage?.trim() || `Upload ${p.files.length} file${p.files.length === 1 ? '' : 's'}`,
    hubUrl,
    fetch: fetchImpl,
    abortSignal: p.signal,
    // Classic LFS (presigned PUTs): the xet path would run its WASM chunker in the page.
    useXet: false,
  });
  for (;;) {
    const next = await iterator.next();
    if (next.done) {
      const oid = next.value?.commit.oid;
      if (!oid) throw new Error('the Hub accepted the commit but returned no commit id');
      return oid;
    }
    const event = next.value;
    if (event.event !== 'fileProgress' || event.state === 'hashing') continue;
    if (event.state === 'error') throw new Error(`the Hub rejected ${event.path}`); // as commit() does
    done.set(event.path, event.progress);
    let sent = 0;
    for (const [path, fraction] of done) sent += (sizes.get(path) ?? 0) * fraction;
    // Below 1 until the commit lands: uploaded LFS objects are not in the repo yet.
    const fraction = Math.min(0.99, sent / total);
    if (fraction > reported) {
      reported = fraction;
      p.onProgress?.(fraction);
    }
  }
}

function checkFiles(files: PushFile[]): void {
  if (files.length === 0) throw new Error('There are no files to push: export the model or adapter first.');
  const seen = new Set<string>();
  for (const { name } of files) {
    // The Hub rejects these paths; say so before creating a repo.
    if (name === '' || name.startsWith('/') || name.split('/').some((s) => s === '' || s === '.' || s === '..')) {
      throw new Error(`"${name}" is not a valid file path in a repo: use names like "config.json" or "adapter/model.safetensors".`);
    }
    if (seen.has(name)) throw new Error(`"${name}" is listed twice: each file in a push needs its own path.`);
    seen.add(name);
  }
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortError();
}

function abortError(): DOMException {
  return new DOMException('The upload to the Hugging Face Hub was cancelled.', 'AbortError');
}

interface ErrorContext {
  repo: string;
  hubUrl: string;
  token: string;
  step: string;
  signal?: AbortSignal;
}

/** Turns whatever the library threw into one line that says what to do, without the token. */
function explain(err: unknown, ctx: ErrorContext): Error {
  if (ctx.signal?.aborted) return abortError();
  const owner = ctx.repo.split('/')[0];
  const redact = (text: string) => oneLine(text.split(ctx.token).join('hf_***'));
  if (err instanceof HubApiError) {
    const status = err.statusCode;
    const server = serverMessage(err, redact);
    const said = server ? ` (the Hub said: ${server})` : '';
    // LFS bytes go to presigned storage URLs without the token; a 403 there is an expired URL.
    if (err.url && !err.url.startsWith(ctx.hubUrl)) {
      return new Error(`The Hub's file storage answered HTTP ${status} while uploading to "${ctx.repo}"${said}: try again, or download the zip instead.`);
    }
    if (status === 401 || status === 403) {
      return new Error(
        `The Hub refused your token (HTTP ${status})${said}: it is invalid, expired, or lacks write access to "${owner}". Paste a write token from ${TOKENS_PAGE}; for an organization, the token must be allowed to write to it.`,
      );
    }
    const hint = status === 429 ? 'wait a minute and try again'
      : status >= 500 ? 'try again later, or download the zip instead'
      : 'check the repo id and files, then try again, or download the zip instead';
    return new Error(`The Hub answered HTTP ${status} while ${ctx.step} "${ctx.repo}"${said}: ${hint}.`);
  }
  // fetch() reports DNS failures, refused connections, offline mode and CORS blocks as TypeError.
  if (err instanceof TypeError) {
    return new Error(
      `Could not reach the Hugging Face Hub at ${ctx.hubUrl} (${redact(networkDetail(err))}): are you offline? Check your connection and try again, or download the zip instead.`,
    );
  }
  const message = err instanceof Error ? err.message : String(err);
  return new Error(`Pushing to "${ctx.repo}" failed while ${ctx.step} it: ${redact(message)}. Try again, or download the zip instead.`);
}

/** The server's own words: HubApiError.message also carries the URL and request id, so use its data. */
function serverMessage(err: HubApiError, redact: (text: string) => string): string {
  const data = (err.data ?? {}) as { error?: unknown; message?: unknown };
  // Per-object LFS batch errors exist only in err.message.
  const raw = typeof data.error === 'string' ? data.error : typeof data.message === 'string' ? data.message : err.message;
  const text = redact(raw);
  return text.length > MAX_SERVER_MESSAGE ? `${text.slice(0, MAX_SERVER_MESSAGE - 1)}…` : text;
}

/** "fetch failed: ECONNREFUSED" in Node, "Failed to fetch" in browsers. */
function networkDetail(err: TypeError): string {
  const cause = (err as { cause?: { code?: unknown; message?: unknown } }).cause;
  if (typeof cause?.code === 'string') return `${err.message}: ${cause.code}`;
  if (typeof cause?.message === 'string') return `${err.message}: ${cause.message}`;
  return err.message;
}
