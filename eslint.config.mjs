// ESLint: typescript-eslint's recommended rules on all TypeScript; formatting is Prettier's job, not ESLint's.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { files: ['**/*.mjs'], languageOptions: { globals: { process: 'readonly', console: 'readonly' } } },
  { ignores: ['dist/', 'node_modules/', 'test/rv64/isa/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      // a `let` assigned once later is fine when a closure defined before the assignment reads it
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
    },
  },
);
