/**
 * The embedding model's weights pinned by content. Its repo cannot be pinned by commit from here
 * (the commit id is not known offline), and a digest is the stronger pin anyway: whatever the
 * branch says, the scores come from the file the studio was tested with, or from none.
 *
 * A fetch wrapper for transformers.js (`env.fetch`): a download of a pinned file is read whole,
 * checked (size, then SHA-256) and handed on only when it matches; transformers.js then caches
 * what it was handed, so a cached copy is one that passed.
 */
export interface PinnedFile {
  sha256: string;
  bytes: number;
}

/** Hub repo → file → pin (the SHA-256 of a file the Hub stores with LFS is also its LFS object id). */
export const PINNED_FILES: Record<string, Record<string, PinnedFile>> = {
  'Xenova/all-MiniLM-L6-v2': {
    'onnx/model_quantized.onnx': { sha256: 'afdb6f1a0e45b715d0bb9b11772f032c399babd23bfc31fed1c170afc848bdb1', bytes: 22_972_370 },
  },
};

export class PinMismatchError extends Error {
  override name = 'PinMismatchError';
}

type Fetch = (input: string | URL, init?: RequestInit) => Promise<Response>;

/** The repo and file a Hub URL (`…/{owner}/{name}/resolve/{revision}/{file}`) names, if it is a pinned one. */
function pinOf(url: string, pins: typeof PINNED_FILES): { repo: string; file: string; pin: PinnedFile } | null {
  const m = /\/([^/]+\/[^/]+)\/resolve\/[^/]+\/(.+?)(?:\?.*)?$/.exec(url);
  const pin = m ? pins[m[1]]?.[decodeURIComponent(m[2])] : undefined;
  return m && pin ? { repo: m[1], file: decodeURIComponent(m[2]), pin } : null;
}

const hex = (b: ArrayBuffer) => Array.from(new Uint8Array(b), (x) => x.toString(16).padStart(2, '0')).join('');

/** `inner`, except that a pinned file that is not the pinned bytes rejects with PinMismatchError. */
export function pinnedFetch(inner: Fetch, pins = PINNED_FILES): Fetch {
  return async (input, init) => {
    const response = await inner(input, init);
    const found = pinOf(String(input), pins);
    if (!found || !response.ok) return response;
    const body = await response.arrayBuffer();
    const { repo, file, pin } = found;
    const fix = 'the similarity scores would not be comparable with the ones this studio was tested with: update the studio, or leave the metric off';
    if (body.byteLength !== pin.bytes) {
      throw new PinMismatchError(`${repo}'s ${file} is ${body.byteLength.toLocaleString('en-US')} bytes, not the ${pin.bytes.toLocaleString('en-US')} the studio pins: ${fix}`);
    }
    const digest = hex(await crypto.subtle.digest('SHA-256', body));
    if (digest !== pin.sha256) throw new PinMismatchError(`${repo}'s ${file} has SHA-256 ${digest.slice(0, 12)}…, not the pinned ${pin.sha256.slice(0, 12)}…: ${fix}`);
    return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
  };
}
