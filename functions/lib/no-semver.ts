/**
 * What the bundles have in place of `semver` (infra/mesh-function.ts aliases it here). Its one
 * user is the X-Ray SDK's patcher for the AWS SDK v2 (`captureAWS`, which checks the v2 SDK's
 * version with `semver.gte`); the functions use the v3 SDK, traced through Powertools'
 * `captureAWSv3Client`, and never call it. It is 28 KB of every traced bundle otherwise. A call
 * would fail here with this message, never silently.
 */
export function gte(): never {
  throw new Error('semver is not bundled in the control-plane functions: only the X-Ray SDK v2 patcher used it (infra/mesh-function.ts, lambdaAliases)');
}
