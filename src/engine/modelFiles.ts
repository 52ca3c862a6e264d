/**
 * Which of a set of dropped or downloaded files make up a model.
 */
import { PICKLE_REFUSAL } from '../model/checkpoint';

export interface NamedFile {
  name: string;
  data: ArrayBuffer;
}

export interface ModelFiles {
  config: unknown;
  shards: ArrayBuffer[];
  /** Each shard's file name, for messages. */
  shardNames: string[];
  tokenizerJson: unknown | null;
  tokenizerConfig: unknown | null;
  /** generation_config.json (its eos_token_id list: where generation stops), or null. */
  generationConfig: unknown | null;
  bytes: number;
}

const baseName = (n: string): string => n.slice(n.lastIndexOf('/') + 1);

function parseJson(f: NamedFile): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(f.data));
  } catch (e) {
    throw new Error(`${f.name} is not valid JSON (${(e as Error).message})`, { cause: e });
  }
}

export function modelFilesFromList(list: NamedFile[]): ModelFiles {
  const byName = new Map(list.map((f) => [baseName(f.name), f]));
  const config = byName.get('config.json');
  if (!config) {
    throw new Error(`no config.json among the ${list.length} file(s): drop the model folder, or select config.json, model.safetensors and tokenizer.json together`);
  }
  let shards = list.filter((f) => f.name.endsWith('.safetensors'));
  const index = byName.get('model.safetensors.index.json');
  if (index) {
    const map = (parseJson(index) as { weight_map?: Record<string, string> }).weight_map ?? {};
    const order = [...new Set(Object.values(map))];
    const missing = order.filter((s) => !byName.has(s));
    if (missing.length) throw new Error(`model.safetensors.index.json lists ${missing.join(', ')}, which is not among the files: add every shard`);
    shards = order.map((s) => byName.get(s)!);
  } else {
    shards.sort((a, b) => a.name.localeCompare(b.name));
  }
  if (shards.length === 0) {
    if (list.some((f) => /\.(bin|pt|pth|ckpt)$/.test(f.name))) throw new Error(PICKLE_REFUSAL);
    throw new Error('no model.safetensors among the files: add the weights file');
  }
  const tok = byName.get('tokenizer.json');
  const tokCfg = byName.get('tokenizer_config.json');
  const genCfg = byName.get('generation_config.json');
  return {
    config: parseJson(config),
    shards: shards.map((s) => s.data),
    shardNames: shards.map((s) => baseName(s.name)),
    tokenizerJson: tok ? parseJson(tok) : null,
    tokenizerConfig: tokCfg ? parseJson(tokCfg) : null,
    generationConfig: genCfg ? parseJson(genCfg) : null,
    bytes: list.reduce((n, f) => n + f.data.byteLength, 0),
  };
}
