/**
 * Checks a set of local files before any byte is read: what will be sent to the engine,
 * what is ignored, and which tokenizer the model will get. Refusing pickles here, not in
 * the worker, means the error shows at once instead of after reading hundreds of MB.
 */

export interface LocalFileRef {
  /** File name without folders; the engine looks files up by it. */
  name: string;
  /** Path inside the dropped folder (or the name), for messages. */
  path: string;
}

export interface LocalPick {
  /** Names sent to the engine: config, weights, index, tokenizer files. */
  send: string[];
  /** Names left out (READMEs, pickles next to a .safetensors, …). */
  ignored: string[];
  tokenizer: 'model' | 'bundled';
}

export type LocalCheck = { ok: true; pick: LocalPick } | { ok: false; message: string };

/** PyTorch pickles: loading one runs whatever code it holds. */
const PICKLE = /\.(bin|pt|pth|ckpt|pkl)$/i;
const SHARD = /-\d+-of-\d+\.safetensors$/i;

/** The engine needs config.json, the .safetensors weights and optionally the index and tokenizer JSON. */
const isSent = (name: string) => /\.safetensors$/i.test(name) || /\.json$/i.test(name);

export function checkLocalFiles(files: LocalFileRef[]): LocalCheck {
  if (files.length === 0) {
    return { ok: false, message: 'No files were picked: choose the model folder, or config.json and model.safetensors together.' };
  }
  const sent = files.filter((f) => isSent(f.name));
  const ignored = files.filter((f) => !isSent(f.name)).map((f) => f.name);

  const seen = new Map<string, string>();
  for (const f of sent) {
    const other = seen.get(f.name);
    if (other !== undefined) {
      return {
        ok: false,
        message: `Two files are named ${f.name} (${other} and ${f.path}): pick one model's folder, not a folder holding several.`,
      };
    }
    seen.set(f.name, f.path);
  }

  const names = sent.map((f) => f.name);
  const weights = names.filter((n) => /\.safetensors$/i.test(n));
  if (weights.length === 0) {
    const pickle = files.find((f) => PICKLE.test(f.name));
    if (pickle) {
      return {
        ok: false,
        message: `${pickle.name} is a PyTorch pickle, which is refused: unpickling can run arbitrary code. Use model.safetensors instead (the Hub has one for Pythia models).`,
      };
    }
    return { ok: false, message: 'No weights found: add model.safetensors (or its shards together with model.safetensors.index.json).' };
  }
  if (!names.includes('config.json')) {
    return { ok: false, message: 'config.json is missing: pick it together with the weights (or drop the whole model folder).' };
  }
  if (weights.some((n) => SHARD.test(n)) && !names.includes('model.safetensors.index.json')) {
    return { ok: false, message: 'The weights are sharded but model.safetensors.index.json is missing: add it so the shards can be put together.' };
  }
  return { ok: true, pick: { send: names, ignored, tokenizer: names.includes('tokenizer.json') ? 'model' : 'bundled' } };
}
