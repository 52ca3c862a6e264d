import { describe, expect, it } from 'vitest';
import { DEFAULT_TRAIN, checkTrainConfig } from '../../state/trainOptions';
import { NUMBER_FIELDS, fieldError, parseNumber, withText } from './trainFields';

describe('parseNumber', () => {
  it('reads decimals and e-notation', () => {
    expect(parseNumber('1e-4')).toBe(1e-4);
    expect(parseNumber(' 2.5E-5 ')).toBe(2.5e-5);
    expect(parseNumber('.5')).toBe(0.5);
    expect(parseNumber('3')).toBe(3);
  });
  it('rejects blanks and junk rather than reading them as 0', () => {
    expect(parseNumber('')).toBeNaN();
    expect(parseNumber('  ')).toBeNaN();
    expect(parseNumber('0x10')).toBeNaN();
    expect(parseNumber('1e')).toBeNaN();
    expect(parseNumber('abc')).toBeNaN();
  });
});

describe('NUMBER_FIELDS', () => {
  it('each field writes where it reads, and leaves its neighbours alone', () => {
    for (const spec of Object.values(NUMBER_FIELDS)) {
      const next = withText(DEFAULT_TRAIN, spec, '7');
      expect(spec.get(next), spec.key).toBe(7);
      for (const other of Object.values(NUMBER_FIELDS)) if (other !== spec) expect(other.get(next), `${spec.key} → ${other.key}`).toBe(other.get(DEFAULT_TRAIN));
    }
  });
  it('every key is one checkTrainConfig reports on', () => {
    const bad = { ...DEFAULT_TRAIN, method: 'lora' as const, objective: 'dpo' as const };
    for (const spec of Object.values(NUMBER_FIELDS)) {
      const errors = checkTrainConfig(withText(bad, spec, '-1.5'));
      expect(errors[spec.key], spec.key).toBeTruthy();
    }
  });
});

describe('fieldError', () => {
  it('gives the config check’s message for this field only', () => {
    expect(fieldError(DEFAULT_TRAIN, NUMBER_FIELDS.lr, '1e-4')).toBeNull();
    expect(fieldError(DEFAULT_TRAIN, NUMBER_FIELDS.lr, '')).toMatch(/learning rate/i);
    expect(fieldError(DEFAULT_TRAIN, NUMBER_FIELDS.batchSize, '2.5')).toMatch(/whole number/i);
    expect(fieldError(DEFAULT_TRAIN, NUMBER_FIELDS.maxSteps, '0')).toBeNull();
  });
  it('ignores another field’s error', () => {
    const broken = { ...DEFAULT_TRAIN, batchSize: 0 };
    expect(fieldError(broken, NUMBER_FIELDS.lr, '1e-4')).toBeNull();
  });
});
