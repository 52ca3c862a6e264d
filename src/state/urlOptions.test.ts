import { describe, expect, it } from 'vitest';
import { parseStartOptions, withBackend } from './urlOptions';

describe('parseStartOptions', () => {
  it('defaults to auto and the public Hub', () => {
    expect(parseStartOptions('')).toEqual({ backend: 'auto', hubEndpoint: 'https://huggingface.co' });
  });

  it('reads backend and hub, dropping a trailing slash', () => {
    expect(parseStartOptions('?backend=wasm&hub=http://127.0.0.1:8123/')).toEqual({
      backend: 'wasm',
      hubEndpoint: 'http://127.0.0.1:8123',
    });
  });

  it('ignores an unknown backend', () => {
    expect(parseStartOptions('?backend=cuda').backend).toBe('auto');
  });
});

describe('withBackend', () => {
  it('keeps other parameters', () => {
    expect(withBackend('?hub=http%3A%2F%2Fx', 'cpu')).toBe('?hub=http%3A%2F%2Fx&backend=cpu');
    expect(withBackend('?backend=cpu', 'auto')).toBe('');
  });
});
