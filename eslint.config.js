// `npm run lint`: typescript-eslint's type-aware rules that catch real bugs in this code (a promise
// nobody awaits, a switch that misses a case, a promise where a callback is expected), and the
// package boundaries: libs never import apps, meshca-dp never loads the CA clients or the store.
import tseslint from 'typescript-eslint';

const APPS = ['@meshca/global', '@meshca/zone', '@meshca/ctl', '@meshca/dp-agent'];

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      '.venv/**',
      '.meshca/**',
      'coverage/**',
      '**/*.js',
      '**/*.mjs',
      'vitest.config.ts',
      'vitest.*.ts',
      'libs/http/openapi/*.json',
    ],
  },
  {
    files: ['**/*.ts', '**/*.tsx'],
    extends: [tseslint.configs.base],
    languageOptions: {
      // Each workspace's own tsconfig; bench/ is type-checked with test/'s.
      parserOptions: {
        project: ['./libs/*/tsconfig.json', './libs/gui/web/tsconfig.json', './apps/*/tsconfig.json', './test/tsconfig.json'],
        tsconfigRootDir: import.meta.dirname,
      },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false, attributes: false } }],
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-unnecessary-type-assertion': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false }],
      'no-restricted-imports': ['error', { paths: [], patterns: [] }],
    },
  },
  {
    files: ['libs/**/*.ts', 'libs/**/*.tsx'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: APPS.map((name) => ({ name, message: 'a lib never imports an app: move what both need into a lib' })),
          patterns: [{ group: ['**/apps/**'], message: 'a lib never imports an app: move what both need into a lib' }],
        },
      ],
    },
  },
  {
    files: ['apps/dp-agent/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ['@meshca/ca', '@meshca/store', '@meshca/identity', '@meshca/kds', '@meshca/global', '@meshca/zone'].map((name) => ({
            name,
            message:
              'meshca-dp talks to its zone through @meshca/dp-protocol only: it must not load the CA clients, the store or a control plane',
          })),
        },
      ],
    },
  },
);
