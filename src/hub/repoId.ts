/**
 * Parsing and validation of Hugging Face model repo ids ("owner/name"), including ids
 * pasted as Hub URLs. Messages are shown verbatim in the UI, so each one says what is
 * wrong and what a valid id looks like.
 */

/** Shown in every message so the user sees the expected shape. */
export const EXAMPLE_REPO_ID = 'EleutherAI/pythia-70m';

/** The Hub's limit for each of the owner and name parts (huggingface_hub's REPO_ID_REGEX). */
const MAX_PART_LENGTH = 96;

/** Hosts whose URLs we take apart; any other host is more likely a mistake (e.g. GitHub). */
const HUB_HOST = /^(?:[a-z0-9-]+\.)*(?:huggingface\.co|hf\.co)$/i;

/** Web-UI path segments that are followed by a revision: /tree/main, /blob/main/config.json … */
const REVISION_MARKERS = new Set(['tree', 'blob', 'resolve', 'commits', 'commit', 'raw']);

/** First path segments of Hub URLs that are not model repos. */
const NON_MODEL_KINDS: Record<string, string> = {
  datasets: 'a dataset',
  spaces: 'a Space',
  models: 'the model listing, not a model',
  collections: 'a collection, not a model',
};

export interface RepoRef {
  /** Normalised "owner/name". */
  repo: string;
  /** Revision named by a pasted URL (/tree/<rev>, /blob/<rev>/…), decoded; null when absent. */
  revision: string | null;
}

/** Validates a model repo id typed or pasted by the user and returns "owner/name". */
export function parseRepoId(input: string): string {
  return parseRepoRef(input).repo;
}

/** Like parseRepoId, but also returns the revision when a pasted URL names one. */
export function parseRepoRef(input: string): RepoRef {
  const text = input.trim();
  if (text === '') {
    throw new Error(`Enter a model repo id such as "${EXAMPLE_REPO_ID}".`);
  }
  const url = asHubUrl(text);
  if (url) return refFromUrl(url, text);
  // Tolerate a trailing slash, which copy-paste often brings along.
  const parts = text.replace(/\/+$/, '').split('/');
  return { repo: validateParts(parts, text), revision: null };
}

/** Returns a URL when the input is (or starts like) a Hub URL, otherwise null. */
function asHubUrl(text: string): URL | null {
  let candidate: string;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) candidate = text;
  else if (/^(?:www\.)?(?:huggingface\.co|hf\.co)(?:[/?#]|$)/i.test(text)) candidate = `https://${text}`;
  else return null;

  let url: URL;
  try {
    url = new URL(candidate);
  } catch {
    throw new Error(`"${show(text)}" is not a valid URL; paste a Hugging Face model URL or type an id such as "${EXAMPLE_REPO_ID}".`);
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || !HUB_HOST.test(url.hostname)) {
    throw new Error(`"${show(text)}" is not a huggingface.co model URL; paste one from huggingface.co or type an id such as "${EXAMPLE_REPO_ID}".`);
  }
  return url;
}

function refFromUrl(url: URL, text: string): RepoRef {
  const segments = url.pathname.split('/').filter((s) => s !== '').map((s) => decodeSegment(s, text));
  const kind = segments.length > 0 ? NON_MODEL_KINDS[segments[0]] : undefined;
  if (kind) {
    throw new Error(`"${show(text)}" is ${kind}; enter a model repo such as "${EXAMPLE_REPO_ID}".`);
  }
  if (segments.length < 2) {
    throw new Error(`"${show(text)}" does not point at a model repo; it should look like https://huggingface.co/${EXAMPLE_REPO_ID}.`);
  }
  const repo = validateParts(segments.slice(0, 2), text);
  const marker = segments[2];
  const revision = marker !== undefined && REVISION_MARKERS.has(marker) && segments[3] ? segments[3] : null;
  return { repo, revision };
}

function decodeSegment(segment: string, text: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new Error(`"${show(text)}" contains a malformed %-escape; type the id instead, e.g. "${EXAMPLE_REPO_ID}".`);
  }
}

function validateParts(parts: string[], text: string): string {
  if (parts.length === 1) {
    throw new Error(`"${show(text)}" is missing the owner; use "owner/name", e.g. "${EXAMPLE_REPO_ID}".`);
  }
  if (parts.length !== 2) {
    throw new Error(`"${show(text)}" should have exactly one "/" between owner and name, e.g. "${EXAMPLE_REPO_ID}".`);
  }
  validatePart(parts[0], 'owner', text);
  validatePart(parts[1], 'name', text);
  return `${parts[0]}/${parts[1]}`;
}

/** Mirrors the Hub's rules: [\w.-]{1,96}, word characters at both ends, no "--" or "..". */
function validatePart(part: string, label: 'owner' | 'name', text: string): void {
  const where = `The ${label} in "${show(text)}"`;
  const hint = `a valid id looks like "${EXAMPLE_REPO_ID}"`;
  if (part === '') throw new Error(`${where} is empty; ${hint}.`);
  if (part.length > MAX_PART_LENGTH) {
    throw new Error(`${where} is longer than ${MAX_PART_LENGTH} characters; ${hint}.`);
  }
  const bad = /[^A-Za-z0-9._-]/.exec(part);
  if (bad) {
    throw new Error(`${where} contains "${bad[0]}"; only letters, digits, "-", "_" and "." are allowed, e.g. "${EXAMPLE_REPO_ID}".`);
  }
  if (/^[.-]|[.-]$/.test(part)) {
    throw new Error(`${where} must not start or end with "-" or "."; ${hint}.`);
  }
  if (part.includes('--') || part.includes('..')) {
    throw new Error(`${where} must not contain "--" or ".."; ${hint}.`);
  }
  if (label === 'name' && part.toLowerCase().endsWith('.git')) {
    throw new Error(`${where} must not end in ".git"; ${hint}.`);
  }
}

/** Keeps echoed user input to one short line. */
function show(text: string): string {
  const line = text.replace(/\s+/g, ' ');
  return line.length > 120 ? `${line.slice(0, 117)}...` : line;
}
