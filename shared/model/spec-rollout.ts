import * as z from './zod';
import { subsetLabels } from './labels';
import { intBetween } from './spec-primitives';

/**
 * A progressive rollout: traffic moves from the endpoints labelled `from` to those labelled `to`
 * in `steps` (percent to `to`), one step per `intervalSeconds`, while the new subset's error
 * rate (and p99 latency, when bounded) stay within bounds; a step outside them sends 0 % to `to`
 * at once. Declared on a dependency (that caller's traffic) or on a service (every caller's).
 * The rollout controller (shared/rollout) carries it out; each step is an ordinary spec change.
 */
export const rolloutSchema = z.strictObject({
  from: subsetLabels,
  to: subsetLabels,
  /** Percent of traffic to `to` at each step, rising, ending at 100. */
  steps: z
    .array(z.int().check(z.minimum(1, 'must be a percent from 1 to 100'), z.maximum(100, 'must be a percent from 1 to 100')))
    .check(z.minLength(1), z.maxLength(20)),
  /** How long each step runs before it is judged. The controller runs once a minute in AWS. */
  intervalSeconds: z.int().check(z.minimum(60, 'must be at least 60 s (the controller runs once a minute)'), z.maximum(86_400, 'must be at most 86400 s (a day)')),
  /** Roll back when more than this percent of the new subset's requests fail (5xx, or a gRPC error). */
  maxErrorRatePercent: z.number().check(z.minimum(0), z.maximum(100)),
  /** Roll back when the new subset's p99 latency exceeds this. */
  maxP99LatencyMs: z.optional(intBetween(1, 600_000)),
  /** A step is judged only on at least this many requests to the new subset; fewer, and it holds (default 100). */
  minRequests: z.optional(intBetween(1, 1_000_000_000)),
});

export type RolloutSpec = z.output<typeof rolloutSchema>;

/** rolloutDefaults: what a rollout spec leaves out. */
export const rolloutDefaults = { minRequests: 100 } as const;
