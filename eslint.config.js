import js from '@eslint/js';
import globals from 'globals';
import reactHooks from 'eslint-plugin-react-hooks';
import tseslint from 'typescript-eslint';

/**
 * The layers of src/, top to bottom. A file may import its own layer and the layers below it,
 * never one above (a back-edge fails `npm test`): the page (ui) drives state, state talks to the
 * engine through the client and its worker, the engine runs training, evaluation, exports and
 * data on the model, and `shared` holds the few helpers every layer may use. The command line
 * and the benchmarks stand where the page does. `testing/` (helpers for tests) may import
 * anything and is imported only by tests; nothing in src/ imports scripts/.
 */
const LAYERS = [['ui', 'cli', 'bench'], ['state'], ['client'], ['worker'], ['engine'], ['backend'], ['protocol'], ['export', 'hub'], ['train', 'eval'], ['data'], ['model'], ['shared'], ['offline']];

/** An import path that climbs out of the file's folder into one of `dirs` (src/ is flat: one folder per layer). */
const into = (dirs) => `^(\\.\\./)+(${dirs.join('|')})(/|$)`;

const layerRules = LAYERS.flatMap((layer, i) => {
  const above = LAYERS.slice(0, i).flat();
  return layer.flatMap((dir) => {
    const patterns = [
      ...(above.length ? [{ regex: into(above), message: `src/${dir}/ is below ${above.join(', ')}: import only from its own layer or those below (see LAYERS in eslint.config.js)` }] : []),
      { regex: into(['scripts']), message: 'src/ does not import scripts/: move what both need into src/ (src/testing/ for test helpers)' },
    ];
    const product = { regex: into(['testing']), message: 'src/testing/ holds test helpers: the product does not import it' };
    // One block for the product and one for its tests (a later block would replace, not add to, an earlier one's rule).
    return [
      { files: [`src/${dir}/**/*.{ts,tsx}`], ignores: ['**/*.test.ts'], rules: { 'no-restricted-imports': ['error', { patterns: [...patterns, product] }] } },
      { files: [`src/${dir}/**/*.test.ts`], rules: { 'no-restricted-imports': ['error', { patterns }] } },
    ];
  });
});

export default tseslint.config(
  { ignores: ['dist', 'node_modules', 'test-results', 'playwright-report', 'fixtures', '.gpu'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser, ...globals.node } },
    plugins: { 'react-hooks': reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  ...layerRules,
);
