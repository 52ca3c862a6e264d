/**
 * Full-size Pythia shapes with seeded random weights, written as the Hub ships them (float16
 * model.safetensors), for the shape tests and their fixtures (scripts/shape_fixture.ts).
 */
import path from 'node:path';
import { PYTHIA_SHAPES, type TinyModelSpec } from '../model/tinyConfig';
import { REPO_ROOT } from './tinyModel';

export interface ShapeFixture {
  /** The model: tinyConfig(spec) is the Pythia shape (hidden, layers, heads; vocab 50,304). */
  spec: TinyModelSpec;
  std: number;
  prompt: string;
  /** The prompt's ids with the bundled tokenizer, as the reference was given them. */
  promptIds: number[];
  /** Greedy new tokens from the float64 PyTorch reference, and each step's top-1 minus top-2 logit. */
  tokens: number[];
  margins: number[];
}

export const SHAPES = {
  'pythia-160m': { spec: { ...PYTHIA_SHAPES['160m'], seed: 1 }, std: 0.02 },
} as const;

export const shapeFixturePath = (name: keyof typeof SHAPES) => path.join(REPO_ROOT, 'fixtures/shapes', `${name}.json`);
