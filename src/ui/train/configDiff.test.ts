import { describe, expect, it } from 'vitest';
import { DEFAULT_TRAIN, TRAIN_PRESETS } from '../../state/trainOptions';
import { configDiff, flattenConfig } from './configDiff';

describe('flattenConfig', () => {
  it('names nested fields by their path and lists arrays', () => {
    const flat = flattenConfig(DEFAULT_TRAIN);
    expect(flat['optimizer.lr']).toBe('0.0001');
    expect(flat['lora.rank']).toBe('8');
    expect(flat['lora.targets']).toBe('attention.query_key_value');
    expect(flat['schedule.kind']).toBe('cosine');
    expect(flat.freezeEmbeddings).toBe('false');
    expect(flat.samplePrompt).toBe('(empty)');
    expect('optimizer' in flat).toBe(false);
  });
});

describe('configDiff', () => {
  it('is empty for identical configs or fewer than two', () => {
    expect(configDiff([DEFAULT_TRAIN, { ...DEFAULT_TRAIN }])).toEqual([]);
    expect(configDiff([DEFAULT_TRAIN])).toEqual([]);
  });

  it('lists only the fields that differ, one value per run', () => {
    const b = { ...DEFAULT_TRAIN, batchSize: 8, optimizer: { ...DEFAULT_TRAIN.optimizer, lr: 3e-4 } };
    expect(configDiff([DEFAULT_TRAIN, b])).toEqual([
      { field: 'optimizer.lr', values: ['0.0001', '0.0003'] },
      { field: 'batchSize', values: ['4', '8'] },
    ]);
  });

  it('a run saved before activation checkpointing existed reads as off', () => {
    const old = { ...DEFAULT_TRAIN };
    delete old.activationCheckpointing;
    expect(configDiff([old, { ...DEFAULT_TRAIN, activationCheckpointing: false }])).toEqual([]);
    expect(configDiff([old, { ...DEFAULT_TRAIN, activationCheckpointing: true }])).toEqual([{ field: 'activationCheckpointing', values: ['false', 'true'] }]);
  });

  it('shows a field when any one of three runs differs', () => {
    const c = { ...DEFAULT_TRAIN, seed: 7 };
    expect(configDiff([DEFAULT_TRAIN, DEFAULT_TRAIN, c])).toEqual([{ field: 'seed', values: ['42', '42', '7'] }]);
  });

  it('hides LoRA settings when no run uses LoRA', () => {
    const b = { ...DEFAULT_TRAIN, lora: { ...DEFAULT_TRAIN.lora, rank: 16 } };
    expect(configDiff([DEFAULT_TRAIN, b])).toEqual([]);
  });

  it('compares a full run with a LoRA run on method and adapters', () => {
    const lora = TRAIN_PRESETS.find((p) => p.id === 'lora')!.config;
    const fields = configDiff([DEFAULT_TRAIN, lora]).map((r) => r.field);
    expect(fields).toContain('method');
    expect(fields).toContain('lora.targets');
    expect(fields).toContain('optimizer.lr');
    expect(fields).not.toContain('lora.rank');
  });
});
