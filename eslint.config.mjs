import tseslint from 'typescript-eslint';
import osprofiler from './tools/eslint/osprofiler-rules.mjs';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/test/fixtures/**', '**/*.mjs', '**/*.cjs', '**/*.js'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Module boundaries: core imports no other package of ours.
    files: ['packages/core/src/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: ['@osprofiler/*'] }] },
  },
  {
    // Adapters and drivers build on core only (shared pieces belong in core).
    files: ['packages/{express,fastify,node,knex,typeorm,pg,nestjs,drivers,logs}/src/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['@osprofiler/*', '!@osprofiler/core', '!@osprofiler/core/instrument'], message: 'adapters import only @osprofiler/core' }] }],
    },
  },
  {
    // Profiler failures are contained and counted: every catch counts or rethrows.
    files: ['packages/{express,fastify,node,knex,typeorm,pg,nestjs,drivers}/src/**/*.ts', 'packages/agent/src/client/**/*.ts'],
    plugins: { osprofiler },
    rules: { 'osprofiler/catch-contained': 'error' },
  },
);
