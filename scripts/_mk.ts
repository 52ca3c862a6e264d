import { writeTinyModelDir } from '../src/testing/tinyModel';
const [dir, h, l, n] = process.argv.slice(2);
writeTinyModelDir(dir, { spec: { hiddenSize: +h, numLayers: +l, numHeads: +n, seed: 1 }, dtype: 'F16' });
