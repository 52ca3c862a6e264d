/**
 * ONNX Runtime's WASM build, served with the app instead of from the jsDelivr CDN that
 * transformers.js points at by default: the similarity score then needs no third-party server
 * (only the Hub, once, for the embedding model), and the runtime is the exact one npm installed.
 * The asyncify build is transformers.js's own default choice.
 */
import { env } from '@huggingface/transformers';
import mjs from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.mjs?url';
import wasm from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url';

/** Points ONNX Runtime's WASM backend at the app's own copies (browsers only: Node runs onnxruntime-node). */
export function serveOnnxRuntimeFromApp(): void {
  if ((globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node) return;
  const w = env.backends.onnx?.wasm as { wasmPaths?: unknown } | undefined;
  if (w) w.wasmPaths = { mjs, wasm };
}
