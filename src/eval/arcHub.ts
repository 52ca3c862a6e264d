/**
 * ARC docs straight from the Hugging Face Hub, for when the user has no ARC file at hand.
 *
 * The Hub stores allenai/ai2_arc as parquet; rather than ship a parquet reader, this asks the
 * dataset viewer's rows API, which serves any slice of a split as JSON:
 *
 *   GET {endpoint}/rows?dataset=allenai/ai2_arc&config=ARC-Easy&split=test&offset=0&length=100
 *   → { rows: [{ row_idx, row: {id, question, choices: {text, label}, answerKey}, truncated_cells }],
 *       num_rows_total, num_rows_per_page, partial, features }
 *   errors → { error: "…" } with an X-Error-Code header
 *
 * `length` is capped at 100 by the server, so a limit of 250 takes three requests. Every row is
 * checked by parseArc, the same rules as a dropped JSONL file, and reported by row_idx.
 */
import { type ArcDoc, parseArc } from './arcDocs';

export const DEFAULT_DATASETS_SERVER = 'https://datasets-server.huggingface.co';
export const ARC_DATASET = 'allenai/ai2_arc';
/** The most rows the rows API returns per request. */
export const ROWS_PER_REQUEST = 100;

export interface ArcHubQuery {
  config: 'ARC-Easy' | 'ARC-Challenge';
  split: 'train' | 'validation' | 'test';
  /** Rows wanted from the start of the split; fewer come back when the split is smaller. */
  limit: number;
  /** Default https://datasets-server.huggingface.co (a stand-in in tests). */
  endpoint?: string;
}

export interface ArcHubOptions {
  fetch?: typeof fetch;
  signal?: AbortSignal;
  /** After each page: rows received so far, and how many will come in all. */
  onProgress?: (loaded: number, total: number) => void;
}

/** What to do when the Hub cannot help, at the end of every error. */
const FALLBACK = 'drop an ARC JSONL file instead';
/** Bad rows listed in full in an error; the rest are counted. */
const PROBLEMS_SHOWN = 3;

interface Row {
  row_idx: number;
  row: unknown;
  /** Cells the server cut short (it does so for huge cells): such a row is not the real question. */
  truncated: string[];
}

interface RowsPage {
  rows: Row[];
  total: number | null;
}

export async function fetchArcDocs(q: ArcHubQuery, opts: ArcHubOptions = {}): Promise<ArcDoc[]> {
  if (!Number.isInteger(q.limit) || q.limit < 1) throw new Error(`limit must be a positive whole number of questions (got ${q.limit})`);
  const endpoint = (q.endpoint ?? DEFAULT_DATASETS_SERVER).replace(/\/+$/, '');
  const doFetch = opts.fetch ?? globalThis.fetch.bind(globalThis);
  const where = `${ARC_DATASET} ${q.config}/${q.split}`;

  const rows: Row[] = [];
  let total = q.limit;
  while (rows.length < total) {
    const offset = rows.length;
    const length = Math.min(ROWS_PER_REQUEST, total - offset);
    const page = await fetchPage(doFetch, endpoint, q, offset, length, where, opts.signal);
    // The split's size is known from the first page: ask for no more than it has.
    if (page.total !== null) total = Math.min(total, page.total);
    rows.push(...page.rows.slice(0, total - offset));
    opts.onProgress?.(rows.length, total);
    // A short page before the end (a partially converted split) would otherwise repeat forever.
    if (page.rows.length < length) break;
  }
  if (rows.length === 0) throw new Error(`${where} has no rows: pick another split, or ${FALLBACK}`);

  const { docs, problems } = checkRows(rows);
  if (problems.length > 0) {
    const more = problems.length > PROBLEMS_SHOWN ? `; and ${problems.length - PROBLEMS_SHOWN} more` : '';
    throw new Error(`${problems.length} of ${rows.length} rows of ${where} are not ARC questions (${problems.slice(0, PROBLEMS_SHOWN).join('; ')}${more}): ${FALLBACK}`);
  }
  return docs;
}

/** parseArc's rules, row by row; problems are named by row_idx and come in row order. */
function checkRows(rows: Row[]): { docs: ArcDoc[]; problems: string[] } {
  const whole = rows.filter((r) => r.truncated.length === 0);
  // One JSON object per line, so parseArc's "line N" is the Nth whole row.
  const parsed = parseArc(whole.map((r) => JSON.stringify(r.row ?? null)).join('\n'));
  const byRow = new Map<Row, string>();
  for (const problem of parsed.problems) {
    const m = /^line (\d+): (.*)$/s.exec(problem);
    if (m) byRow.set(whole[Number(m[1]) - 1], m[2]);
  }
  for (const r of rows) if (r.truncated.length > 0) byRow.set(r, `the server truncated ${r.truncated.map((c) => `"${c}"`).join(', ')}`);
  const problems = rows.filter((r) => byRow.has(r)).map((r) => `row ${r.row_idx}: ${byRow.get(r)}`);
  return { docs: parsed.docs, problems };
}

async function fetchPage(
  doFetch: typeof fetch,
  endpoint: string,
  q: ArcHubQuery,
  offset: number,
  length: number,
  where: string,
  signal: AbortSignal | undefined,
): Promise<RowsPage> {
  signal?.throwIfAborted();
  const params = new URLSearchParams({ dataset: ARC_DATASET, config: q.config, split: q.split, offset: String(offset), length: String(length) });
  let response: Response;
  let text: string;
  try {
    response = await doFetch(`${endpoint}/rows?${params}`, { signal });
    text = await response.text();
  } catch (err) {
    signal?.throwIfAborted();
    // fetch reports DNS failures, refused connections, offline mode and CORS blocks as TypeError;
    // a body that breaks off lands here too.
    throw new Error(`could not reach the Hugging Face datasets server at ${endpoint} (${describeNetworkError(err)}): ${FALLBACK}`, { cause: err });
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (!response.ok) throw httpError(response, body, where);
  return parsePage(body, where, offset);
}

/** The rows API's answer, checked only as far as we use it (parseArc checks each row). */
function parsePage(body: unknown, where: string, offset: number): RowsPage {
  if (body === undefined) throw new Error(`the datasets server's answer for ${where} at offset ${offset} is not JSON (a proxy or sign-in page in the way?): ${FALLBACK}`);
  const b = body as { rows?: unknown; num_rows_total?: unknown };
  if (typeof b !== 'object' || b === null || !Array.isArray(b.rows)) {
    throw new Error(`the datasets server's answer for ${where} at offset ${offset} is not a rows page (no "rows" list): ${FALLBACK}`);
  }
  const rows = b.rows.map((r: unknown, i): Row => {
    const entry = r as { row_idx?: unknown; row?: unknown; truncated_cells?: unknown } | null;
    const cells = entry?.truncated_cells;
    return {
      row_idx: typeof entry?.row_idx === 'number' ? entry.row_idx : offset + i,
      row: entry?.row,
      // A truncated cell would be scored as if it were the whole text: the row counts as bad.
      truncated: Array.isArray(cells) ? cells.map(String) : [],
    };
  });
  const total = typeof b.num_rows_total === 'number' && Number.isInteger(b.num_rows_total) ? b.num_rows_total : null;
  return { rows, total };
}

function httpError(response: Response, body: unknown, where: string): Error {
  const status = response.status;
  const serverSays = typeof (body as { error?: unknown } | undefined)?.error === 'string' ? oneLine((body as { error: string }).error) : null;
  const code = response.headers.get('X-Error-Code');
  const detail = [`HTTP ${status}`, code, serverSays].filter(Boolean).join(', ');
  if (status === 429) return new Error(`the Hugging Face datasets server is rate-limiting requests (${detail}): wait a minute and try again, or ${FALLBACK}`);
  if (status >= 500) return new Error(`the Hugging Face datasets server had an error serving ${where} (${detail}): try again later, or ${FALLBACK}`);
  return new Error(`the Hugging Face datasets server refused ${where} (${detail}): ${FALLBACK}`);
}

/** "fetch failed: ECONNREFUSED" in Node (the code hides in `cause`), "Failed to fetch" in browsers. */
function describeNetworkError(err: unknown): string {
  if (!(err instanceof Error)) return oneLine(String(err));
  const cause = (err as { cause?: unknown }).cause;
  const code = typeof cause === 'object' && cause !== null ? (cause as { code?: unknown }).code : undefined;
  if (typeof code === 'string') return oneLine(`${err.message}: ${code}`);
  if (cause instanceof Error) return oneLine(`${err.message}: ${cause.message}`);
  return oneLine(err.message);
}

const oneLine = (text: string): string => text.replace(/\s+/g, ' ').trim();
