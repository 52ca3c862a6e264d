/** Which settings differ between runs: the config flattened to dotted paths, compared value by value. */
import type { TrainConfig } from '../../state/trainOptions';

type Flat = Record<string, string>;

const show = (v: unknown): string => (Array.isArray(v) ? v.join(', ') : typeof v === 'string' ? (v === '' ? '(empty)' : v) : String(v));

/** { optimizer: { lr: 1e-4 } } → { 'optimizer.lr': '0.0001' }; arrays become comma lists. */
export function flattenConfig(value: object, prefix = ''): Flat {
  const out: Flat = {};
  for (const [k, v] of Object.entries(value)) {
    const path = prefix ? `${prefix}.${k}` : k;
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) Object.assign(out, flattenConfig(v as object, path));
    else out[path] = show(v);
  }
  return out;
}

export interface DiffRow {
  field: string;
  /** One value per config, in the order given ('–' where a config lacks the field). */
  values: string[];
}

/**
 * The fields whose values are not all equal, in the first config's field order. LoRA settings
 * are left out when no run uses LoRA (they do nothing there), and so is freezeEmbeddings when
 * every run is LoRA.
 */
export function configDiff(configs: readonly TrainConfig[]): DiffRow[] {
  if (configs.length < 2) return [];
  // Runs saved before a setting existed lack it; they ran with its default.
  const flat = configs.map((c) => flattenConfig({ activationCheckpointing: false, ...c }));
  const fields: string[] = [];
  for (const f of flat) for (const k of Object.keys(f)) if (!fields.includes(k)) fields.push(k);
  const anyLora = configs.some((c) => c.method === 'lora');
  const allLora = configs.every((c) => c.method === 'lora');
  return fields
    .filter((k) => (anyLora || !k.startsWith('lora.')) && (!allLora || k !== 'freezeEmbeddings'))
    .map((field) => ({ field, values: flat.map((f) => f[field] ?? '–') }))
    .filter((row) => row.values.some((v) => v !== row.values[0]));
}
