// In Node the ESM build of tfjs-core cannot be deep-imported (directory imports), so the
// gradients come from the union package's CommonJS bundle, which registers them on the same core.
import '@tensorflow/tfjs';
