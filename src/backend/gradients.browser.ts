// tfjs-core registers no gradients by itself; training needs them on every backend.
// (Bundled ESM build; Node uses gradients.node.ts, picked by package.json "imports".)
import '@tensorflow/tfjs-core/dist/register_all_gradients';
