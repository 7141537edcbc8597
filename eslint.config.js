import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import layers from './scripts/lint/layers.js';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'data/', '.tmp/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', setImmediate: 'readonly', queueMicrotask: 'readonly' },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
    },
  },
  {
    // onnxruntime-node only through models/onnxruntime.ts, which turns its telemetry off before it loads.
    ignores: ['models/onnxruntime.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [{ name: 'onnxruntime-node', allowTypeImports: true, message: 'import models/onnxruntime.ts instead: it turns onnxruntime telemetry off before the library loads' }] },
      ],
    },
  },
  {
    files: ['agent/**/*.ts', 'drivers/**/*.ts', 'models/**/*.ts'],
    plugins: { edge: layers },
    rules: { 'edge/layers': 'error' },
  },
);
