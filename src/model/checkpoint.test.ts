import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadFixture, startTestBackend } from '../testing/fixtures';
import { loadModel } from './checkpoint';
import { parseConfig } from './config';
import { disposeParams } from './params';
import { readSafetensors, SafetensorsError, writeSafetensors, type TensorToWrite } from './safetensors';

const f = loadFixture('parallel-rot025-f32');
const config = parseConfig(f.configJson);
const all: TensorToWrite[] = [...readSafetensors(f.weights).tensors].map(([name, t]) => ({ name, shape: t.shape, data: t.data }));
const QKV = 'gpt_neox.layers.1.attention.query_key_value.weight';
const UP = 'gpt_neox.layers.0.mlp.dense_h_to_4h.weight';

/** The fixture's tensors split in two shards at `at` (header order), as sharded Hub checkpoints are. */
function twoShards(at: number, extraInSecond: TensorToWrite[] = []): [Uint8Array, Uint8Array] {
  return [writeSafetensors(all.slice(0, at)), writeSafetensors([...all.slice(at), ...extraInSecond])];
}
const SHARD_NAMES = ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors'];

/** The message of what `f` throws. */
function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('nothing was thrown');
}

/** What loading the shards does (tensors on the CPU backend). */
const readCheckpoint = (_config: typeof config, shards: Uint8Array[], names?: string[]) => loadModel(f.configJson, shards, names);

describe('loading shards, and their headers', () => {
  beforeAll(() => startTestBackend('cpu'));

  it('two shards that split the tensors read as one checkpoint, with no warnings', () => {
    const { params, warnings } = readCheckpoint(config, twoShards(10), SHARD_NAMES);
    expect(Object.keys(params)).toHaveLength(all.length);
    expect(params[QKV].dataSync()).toEqual(all.find((t) => t.name === QKV)!.data);
    expect(warnings).toEqual([]);
    disposeParams(params);
  });

  it('a tensor in two shards is refused, naming it and both shards', () => {
    const dup = all.find((t) => t.name === QKV)!;
    const shards = twoShards(all.indexOf(dup) + 1, [dup]); // QKV ends the first shard and reappears in the second
    expect(thrown(() => readCheckpoint(config, shards, SHARD_NAMES)).message).toMatch(
      new RegExp(`tensor "${QKV.replace(/\./g, '\\.')}" is in both model-00001-of-00002\\.safetensors and model-00002-of-00002\\.safetensors`),
    );
  });

  it('without file names, the shards are numbered', () => {
    const dup = all.find((t) => t.name === QKV)!;
    expect(thrown(() => readCheckpoint(config, twoShards(all.indexOf(dup) + 1, [dup]))).message).toMatch(/is in both shard 1 of 2 and shard 2 of 2/);
  });

  it('a tensor whose shape disagrees with config.json names the file, the tensor, the found and the expected shape', () => {
    const bad = all.map((t) => (t.name === UP ? { ...t, shape: [64, 128] } : t));
    const m = thrown(() => readCheckpoint(config, [writeSafetensors(bad)])).message;
    expect(m).toBe(
      `model.safetensors: tensor "${UP}" has shape [64,128] but config.json implies [128,64]: the weights and config.json do not belong together`,
    );
  });

  it('a missing tensor (a shard left out) is refused, saying how many more are missing', () => {
    const m = thrown(() => readCheckpoint(config, [twoShards(10)[1]])).message;
    expect(m).toMatch(/^the checkpoint has no tensor "gpt_neox\.embed_in\.weight" \(and 9 more\): .*every shard added/);
  });

  it('a damaged shard is refused with its file name in front of the safetensors message', () => {
    const [first, second] = twoShards(10);
    const before = tf.memory().numTensors;
    const e = thrown(() => readCheckpoint(config, [first, second.subarray(0, second.length - 3)], SHARD_NAMES));
    expect(tf.memory().numTensors).toBe(before); // nothing half-loaded
    expect(e).toBeInstanceOf(SafetensorsError);
    expect(e.message).toMatch(/^model-00002-of-00002\.safetensors: tensor ".*" ends at byte \d+ but the data section has \d+ bytes: the file is truncated/);
  });

  it('a tensor the config does not have names the file', () => {
    const extra = [...all, { name: 'gpt_neox.layers.2.mlp.dense_h_to_4h.bias', shape: [128], data: new Float32Array(128) }];
    expect(thrown(() => readCheckpoint(config, [writeSafetensors(extra)])).message).toMatch(/^model\.safetensors: the checkpoint has a tensor "gpt_neox\.layers\.2\.mlp\.dense_h_to_4h\.bias"/);
  });
});

describe('loadModel', () => {
  beforeAll(() => startTestBackend('cpu'));

  it('NaN and infinite weights load, with one warning naming the file and the tensors', () => {
    const poisoned = all.map((t) => {
      if (t.name !== UP) return t;
      const data = Float32Array.from(t.data);
      data[0] = NaN;
      data[5] = Infinity;
      return { ...t, data };
    });
    const model = loadModel(f.configJson, [writeSafetensors(poisoned)], ['model.safetensors']);
    try {
      expect(model.warnings).toHaveLength(1);
      expect(model.warnings[0]).toMatch(new RegExp(`^model\\.safetensors: "${UP.replace(/\./g, '\\.')}" has 1 NaN and 1 infinite of 8192 values\\.`));
      expect(Object.keys(model.params)).toHaveLength(all.length);
    } finally {
      disposeParams(model.params);
    }
  });

  it('a clean checkpoint has no warnings', () => {
    const model = loadModel(f.configJson, [f.weights]);
    expect(model.warnings).toEqual([]);
    disposeParams(model.params);
  });

  it('a refused checkpoint leaves no tensor on the backend (nothing half-loaded)', () => {
    const before = tf.memory().numTensors;
    const bad = all.map((t) => (t.name === 'embed_out.weight' ? { ...t, shape: [64, 96] } : t)); // embed_out is uploaded last
    expect(() => loadModel(f.configJson, [writeSafetensors(bad)])).toThrow(/"embed_out\.weight" has shape \[64,96\] but config\.json implies \[96,64\]/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a bad config.json is refused before the shards are looked at', () => {
    expect(() => loadModel({ ...(f.configJson as object), num_hidden_layers: 5000 }, [new Uint8Array(3)])).toThrow(/"num_hidden_layers" is 5000/);
  });
});
