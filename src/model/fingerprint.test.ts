import { describe, expect, it } from 'vitest';
import { modelFingerprint } from './fingerprint';

describe('modelFingerprint', () => {
  it('is the same for the same files, and differs for another config or one changed byte, in a small or a large file', async () => {
    const small = new Uint8Array(1000).fill(7).buffer;
    const large = new Uint8Array(40 * 2 ** 20).fill(3);
    const a = await modelFingerprint({ hidden_size: 64 }, [small, large.buffer]);
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(await modelFingerprint({ hidden_size: 64 }, [small.slice(0), large.slice().buffer])).toBe(a);
    expect(await modelFingerprint({ hidden_size: 65 }, [small, large.buffer])).not.toBe(a);
    const changed = large.slice();
    changed[0] = 4; // inside the first sampled slice
    expect(await modelFingerprint({ hidden_size: 64 }, [small, changed.buffer])).not.toBe(a);
    const smallChanged = new Uint8Array(small.slice(0));
    smallChanged[999] = 8;
    expect(await modelFingerprint({ hidden_size: 64 }, [smallChanged.buffer, large.buffer])).not.toBe(a);
  });
});
