/**
 * A trainer snapshot as one safetensors file: the trained tensors, AdamW's m and v, and the
 * run state as JSON metadata. One file, so a checkpoint is written (and replaced) in one go.
 */
import { readSafetensors, writeSafetensors, type TensorToWrite } from '../model/safetensors';
import type { TrainerSnapshot } from './trainer';

const FORMAT = 'neox-studio-trainer-1';

export function snapshotToBytes(s: TrainerSnapshot): Uint8Array {
  const tensors: TensorToWrite[] = [];
  for (const [name, t] of Object.entries(s.trainable)) {
    tensors.push({ name: `param/${name}`, shape: t.shape, data: t.data });
    tensors.push({ name: `adam_m/${name}`, shape: t.shape, data: s.optimizer.m[name] });
    tensors.push({ name: `adam_v/${name}`, shape: t.shape, data: s.optimizer.v[name] });
  }
  return writeSafetensors(tensors, { metadata: { format: FORMAT, state: JSON.stringify(s.state), optimizer_step: String(s.optimizer.step) } });
}

export function snapshotFromBytes(bytes: Uint8Array): TrainerSnapshot {
  const { tensors, metadata } = readSafetensors(bytes);
  if (metadata.format !== FORMAT) throw new Error(`this checkpoint was written by another version of the studio (${metadata.format ?? 'unknown format'}): start a new run`);
  const snap: TrainerSnapshot = { state: JSON.parse(metadata.state), trainable: {}, optimizer: { step: Number(metadata.optimizer_step), m: {}, v: {} } };
  for (const [key, t] of tensors) {
    const [kind, name] = [key.slice(0, key.indexOf('/')), key.slice(key.indexOf('/') + 1)];
    if (kind === 'param') snap.trainable[name] = { shape: t.shape, data: t.data };
    else if (kind === 'adam_m') snap.optimizer.m[name] = t.data;
    else if (kind === 'adam_v') snap.optimizer.v[name] = t.data;
  }
  return snap;
}
