import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const nodeBuiltins = [
  'assert', 'buffer', 'child_process', 'cluster', 'crypto', 'dgram', 'dns', 'events', 'fs', 'fs/promises', 'http', 'http2',
  'https', 'net', 'os', 'path', 'perf_hooks', 'process', 'readline', 'stream', 'timers', 'tls', 'url', 'util', 'v8', 'vm',
  'worker_threads', 'zlib',
];

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', '.cache/**', 'data/**', '**/*.js', '**/*.mjs', '**/*.cjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Workflow code is replayed: it must not touch the machine, the clock or I/O (the throughput bench's workflow too).
    files: ['workflows/**/*.ts', 'scripts/throughput/workflow.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.flatMap((name) => [
            { name, message: 'Node builtins are not deterministic: do this in an activity.' },
            { name: `node:${name}`, message: 'Node builtins are not deterministic: do this in an activity.' },
          ]),
          patterns: [
            {
              group: ['**/activities', '**/activities/**', '**/warehouse/**', '**/platform/**', '**/config', '**/config/**', '**/simulator', '**/simulator/**', '**/analytics/**', '**/reports', '**/reports/**'],
              allowTypeImports: true,
              message: 'Workflows import only types from I/O modules: activities act, workflows decide.',
            },
          ],
        },
      ],
    },
  },
);
