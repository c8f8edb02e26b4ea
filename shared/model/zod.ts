import { config } from 'zod/mini';
import { en } from 'zod/locales';

/**
 * The one door to zod: every schema of the repo is built from `zod/mini`'s functional API
 * (`z.optional(s)`, `s.check(z.minLength(1))`), which bundles at about a quarter of the
 * classic API (whose schemas carry methods that cannot be tree-shaken: docs/deploy.md,
 * "Bundles and cold starts"). zod/mini loads no locale, so its issues would read "Invalid
 * input"; the English one is set here, once, so messages read as classic zod's do
 * (test/support/spec-problems.ts pins them). Import as `import * as z from './zod'`, never
 * as a named `z`: a namespace object passed around bundles all of zod.
 */
config(en());

export * from 'zod/mini';
