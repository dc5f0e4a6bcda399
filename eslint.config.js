// Lint configuration: ESLint's recommended rules, typescript-eslint's type-checked rules (the ones
// that catch un-awaited promises, promises passed where a callback's result is ignored, and switches
// that miss a case), and an import-cycle check.
import js from '@eslint/js';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  // examples/library is a package of its own: its dependency (this package) is installed by its test only.
  { ignores: ['node_modules/', 'dist/', 'cdk.out/', 'test-results/', 'bench/results/', 'out/', '.venv/', 'examples/library/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: globals.node,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { 'import-x': importX },
    settings: {
      'import-x/extensions': ['.ts', '.js', '.mjs'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      // Sources import './x.js' (NodeNext); the file on disk is './x.ts'.
      'import-x/resolver-next': [createNodeResolver({ extensionAlias: { '.js': ['.ts', '.js'] } })],
    },
    rules: {
      // Non-null assertions are used where a prior check guarantees the value (documented at the site).
      '@typescript-eslint/no-non-null-assertion': 'off',
      // The `!` and `as T` after an index access record that a prior check guarantees the element;
      // the compiler calls them unnecessary only because noUncheckedIndexedAccess is off.
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
      // Async functions without `await` implement promise-returning interfaces (test doubles, async
      // generators consumed as AsyncIterable); the floating/misused-promise rules cover the real risk.
      '@typescript-eslint/require-await': 'off',
      // A step's failure is whatever user code threw; rethrowing an `unknown` is as allowed as in only-throw-error.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingUnknown: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      // Empty catch blocks are deliberate "best effort" cleanups.
      'no-empty': ['error', { allowEmptyCatch: true }],
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
    },
  },
  // Plain JavaScript (this file, bin/) is not part of the TypeScript project.
  { files: ['**/*.js', '**/*.mjs', '**/*.cjs'], ...tseslint.configs.disableTypeChecked },
);
