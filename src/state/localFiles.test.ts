import { describe, expect, it } from 'vitest';
import { checkLocalFiles, type LocalFileRef } from './localFiles';

const refs = (...paths: string[]): LocalFileRef[] => paths.map((path) => ({ path, name: path.split('/').pop()! }));

describe('checkLocalFiles', () => {
  it('sends config, weights and tokenizer, ignores the rest', () => {
    expect(checkLocalFiles(refs('m/config.json', 'm/model.safetensors', 'm/tokenizer.json', 'm/README.md', 'm/pytorch_model.bin'))).toEqual({
      ok: true,
      pick: { send: ['config.json', 'model.safetensors', 'tokenizer.json'], ignored: ['README.md', 'pytorch_model.bin'], tokenizer: 'model' },
    });
  });

  it('falls back to the bundled tokenizer', () => {
    const r = checkLocalFiles(refs('config.json', 'model.safetensors'));
    expect(r.ok && r.pick.tokenizer).toBe('bundled');
  });

  it('refuses a pickle when there is no safetensors', () => {
    const r = checkLocalFiles(refs('config.json', 'pytorch_model.bin'));
    expect(r.ok).toBe(false);
    expect(!r.ok && r.message).toMatch(/pytorch_model\.bin is a PyTorch pickle.*arbitrary code.*model\.safetensors/);
  });

  it('asks for config.json, shard index and unique names', () => {
    expect(checkLocalFiles(refs('model.safetensors'))).toMatchObject({ ok: false, message: expect.stringMatching(/^config\.json is missing/) });
    expect(checkLocalFiles(refs('config.json', 'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors'))).toMatchObject({
      ok: false,
      message: expect.stringMatching(/index\.json is missing/),
    });
    expect(checkLocalFiles(refs('a/config.json', 'b/config.json', 'a/model.safetensors'))).toMatchObject({
      ok: false,
      message: expect.stringMatching(/Two files are named config\.json \(a\/config\.json and b\/config\.json\)/),
    });
  });
});
