import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const zodImportRules = [
  {
    selector: "ImportDeclaration[source.value='zod']",
    message: "Use `import * as z from '<path>/shared/model/zod'` (zod/mini): classic zod bundles about 95 KB into every Lambda that validates (bench: cold-start).",
  },
  {
    selector: "ImportDeclaration[source.value=/^zod\\u002F/]",
    message: "Use `import * as z from '<path>/shared/model/zod'`: it sets zod/mini's English messages, which the spec's problems are written in.",
  },
  {
    selector: "ImportDeclaration[source.value=/zod$/] > ImportSpecifier[imported.name='z']",
    message: 'Use `import * as z from ...`: the named `z` bundles all of zod with its locales (about 440 KB; bench: cold-start).',
  },
];

export default tseslint.config(
  { ignores: ['node_modules/**', 'cdk.out/**', '.envoy-schema/**', 'coverage/**', '**/*.js', '**/*.mjs', '**/*.cjs', '!shared/api/mesh-page/assets/page.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
      // Schemas are zod/mini's, through shared/model/zod.ts (which sets zod's English messages):
      // classic zod's schemas carry methods no bundler can drop (about 95 KB per Lambda bundle,
      // against 24 KB), and a named `z` would bundle all of zod with its locales (440 KB).
      'no-restricted-syntax': ['error', ...zodImportRules],
    },
  },
  {
    // The one module that imports zod/mini itself.
    files: ['shared/model/zod.ts'],
    rules: { 'no-restricted-syntax': ['error', zodImportRules[0], zodImportRules[2]] },
  },
  {
    // The mesh page's script: plain browser JavaScript, served as written (shared/api/mesh-page.ts).
    files: ['shared/api/mesh-page/assets/page.js'],
    languageOptions: {
      sourceType: 'script',
      globals: { document: 'readonly', window: 'readonly', location: 'readonly', fetch: 'readonly', setTimeout: 'readonly', URLSearchParams: 'readonly' },
    },
  },
);
