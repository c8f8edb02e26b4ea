import { fromEnv } from '@aws-sdk/credential-provider-env';

/**
 * The credential provider of every bundled function, in place of the SDK's default chain
 * (`@aws-sdk/credential-provider-node`, which infra/mesh-function.ts aliases to this module).
 *
 * Lambda hands a function its role's credentials in the environment (AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), and the default chain takes them from there too:
 * its first provider is `fromEnv`. The rest of the chain (SSO, INI files, login, process,
 * web identity, the container and instance metadata endpoints, and the nested STS and SSO
 * clients they need) cannot answer inside Lambda, yet each client's runtime config imports it:
 * about 130 KB of every bundle and of every cold start's module loading (docs/benchmarks.md,
 * cold-start). Outside Lambda (tests, the local runner, the push tier's container) nothing is
 * aliased and the default chain is used.
 */
export const defaultProvider: typeof fromEnv = (init) => fromEnv(init);
