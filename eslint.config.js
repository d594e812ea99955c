// ESLint flat config. The layer rule keeps the pure layers (lib/model, lib/builders, lib/plan, lib/roles)
// free of I/O: they may not import clients, node's network/file/process modules or the layers above them.
import tseslint from 'typescript-eslint';

const ioModules = [
  '@kubernetes/client-node',
  'pg',
  'node:fs',
  'node:fs/promises',
  'fs',
  'node:net',
  'net',
  'node:http',
  'http',
  'node:https',
  'https',
  'node:child_process',
  'child_process',
  'node:dgram',
  'node:dns',
  'node:os',
  'os',
  'node:process',
  'node:timers',
  'node:worker_threads',
];
const ioLayers = [
  '**/k8s/**',
  '**/k8s',
  '**/pg/**',
  '**/patroni/**',
  '**/teams/**',
  '**/sync/**',
  '**/runtime/**',
  '**/bridge/**',
  '**/functions/**',
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.testenv/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['lib/model/**/*.ts', 'lib/builders/**/*.ts', 'lib/plan/**/*.ts', 'lib/roles/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ioModules.map((name) => ({ name, message: 'pure layers take no I/O: pass data in instead' })),
          patterns: [{ group: ioLayers, message: 'pure layers may only import other pure layers' }],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'fetch', message: 'pure layers take no I/O' },
        { name: 'process', message: 'pure layers read no environment: pass it in' },
        { name: 'setTimeout', message: 'pure layers take no clock' },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'pure layers take no clock: pass time in' },
        { object: 'Math', property: 'random', message: 'pure layers take no randomness: pass it in' },
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector: "NewExpression[callee.name='Date'][arguments.length=0]",
          message: 'pure layers take no clock: pass time in',
        },
      ],
    },
  },
);
