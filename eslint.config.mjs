// ESLint for the whole repository, run by `npm test` (`npm run lint`). The TypeScript rules are
// typescript-eslint's type-checked ones: they see the types tsc sees (projectService reads
// tsconfig.json), so they catch promises nobody awaits and `any` leaking out of JSON.parse, which a
// syntax-only linter cannot. Formatting is not this file's job: no layout rules here.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

// The pure core runs the same in a Lambda, the local demo and the soak only because it knows
// nothing of where it runs: AWS, Powertools, CDK and the adapters enter through the ports in
// lambdas/core/ports.ts, never by import. This rule keeps it that way (test/lint/core-imports.test.ts).
const CORE_FORBIDDEN_IMPORTS = {
  patterns: [
    {
      group: ['@aws-sdk/*', '@smithy/*', 'aws-cdk-lib', 'aws-cdk-lib/*', '@aws-lambda-powertools/*', 'aws-lambda', 'constructs'],
      message: 'lambdas/core is pure: AWS, Powertools and CDK code belongs in lambdas/adapters or the handlers, reached through a port.',
    },
    {
      // Relative paths out of lambdas/core into the adapters, the local stand-ins, the CDK app or the CLI.
      regex: '^(\\.\\./)+(adapters|lambdas/adapters|local|lib|bin)(/|$)',
      message: 'lambdas/core must not import adapters, local/, lib/ or bin/: depend on a port in lambdas/core/ports.ts instead.',
    },
  ],
};

export default defineConfig(
  {
    ignores: ['node_modules/**', 'cdk.out/**', 'coverage/**', '.demo/**', '.soak/**', 'tmp/**', 'schemas/generated/**/*.js'],
  },
  js.configs.recommended,
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // An `async` method that implements a Promise-returning port (fakes, in-memory stores, lazy
      // loaders) is right without an `await`: it turns a synchronous throw into a rejection.
      '@typescript-eslint/require-await': 'off',
      // The code marks an index access it knows is in range with `!` (or `as T`); with
      // noUncheckedIndexedAccess off this rule calls each of those unnecessary and would strip them.
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
      // Passing on a caught or abort reason (`reject(signal.reason)`) keeps what the caller threw;
      // rejecting with a literal non-Error stays an error. Same defaults as only-throw-error.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingAny: true, allowThrowingUnknown: true }],
      // A switch over a union names every member (or says what the rest do in a default), so that a
      // new member (a fault kind, an error kind, a log level) is handled where it is switched on.
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      // A deprecated API is on its way out of the library that offers it: move before it goes.
      '@typescript-eslint/no-deprecated': 'error',
    },
  },
  {
    // jest's asymmetric matchers (expect.any(), expect.stringContaining()...) are typed `any`.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-unsafe-assignment': 'off' },
  },
  {
    // aws-cdk-lib/assertions types a synthesized template's resources as `any`.
    files: ['test/infra/**/*.ts'],
    rules: { '@typescript-eslint/no-unsafe-member-access': 'off', '@typescript-eslint/no-unsafe-argument': 'off' },
  },
  {
    files: ['lambdas/core/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', CORE_FORBIDDEN_IMPORTS],
    },
  },
  {
    // The few plain CommonJS files (jest config and reporter, the package `bin` shim) and this file:
    // not in tsconfig.json, so no type information.
    files: ['**/*.js', '**/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { require: 'readonly', module: 'writable', process: 'readonly', console: 'readonly', __dirname: 'readonly' },
    },
  },
  {
    files: ['**/*.mjs'],
    languageOptions: { sourceType: 'module' },
  },
);
