import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { PinMismatchError, pinnedFetch, type PinnedFile } from './pinnedFiles';

const bytes = new TextEncoder().encode('the pinned weights');
const pin: PinnedFile = { sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.byteLength };
const PINS = { 'org/model': { 'onnx/model_quantized.onnx': pin } };
const serve = (body: Uint8Array<ArrayBuffer> | string, status = 200) => async () => new Response(body, { status, headers: { 'content-type': 'application/octet-stream' } });

describe('pinnedFetch', () => {
  it('hands on the pinned file when its bytes match, at any revision', async () => {
    for (const url of ['https://huggingface.co/org/model/resolve/main/onnx/model_quantized.onnx', 'http://127.0.0.1:1/org/model/resolve/abc123/onnx%2Fmodel_quantized.onnx?download=true']) {
      const r = await pinnedFetch(serve(bytes), PINS)(url);
      expect(new Uint8Array(await r.arrayBuffer())).toEqual(bytes);
      expect(r.headers.get('content-type')).toBe('application/octet-stream');
    }
  });

  it('refuses a pinned file of another size or digest, naming the repo and file', async () => {
    const url = 'https://huggingface.co/org/model/resolve/main/onnx/model_quantized.onnx';
    await expect(pinnedFetch(serve('short'), PINS)(url)).rejects.toThrow(/^org\/model's onnx\/model_quantized\.onnx is 5 bytes, not the 18 the studio pins: .*update the studio/);
    const same = 'THE PINNED WEIGHTS';
    await expect(pinnedFetch(serve(same), PINS)(url)).rejects.toBeInstanceOf(PinMismatchError);
    await expect(pinnedFetch(serve(same), PINS)(url)).rejects.toThrow(/has SHA-256 [0-9a-f]{12}…, not the pinned [0-9a-f]{12}…/);
  });

  it('passes other files, other repos and failed responses through untouched', async () => {
    const other = await pinnedFetch(serve('{}'), PINS)('https://huggingface.co/org/model/resolve/main/config.json');
    expect(await other.text()).toBe('{}');
    const repo = await pinnedFetch(serve('x'), PINS)('https://huggingface.co/org/other/resolve/main/onnx/model_quantized.onnx');
    expect(await repo.text()).toBe('x');
    const missing = await pinnedFetch(serve('not found', 404), PINS)('https://huggingface.co/org/model/resolve/main/onnx/model_quantized.onnx');
    expect(missing.status).toBe(404);
  });
});
