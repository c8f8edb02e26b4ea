import * as z from 'zod';
import { subsetLabels } from './labels';

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
  steps: z.array(z.int().min(1, 'must be a percent from 1 to 100').max(100, 'must be a percent from 1 to 100')).min(1).max(20),
  /** How long each step runs before it is judged. The controller runs once a minute in AWS. */
  intervalSeconds: z.int().min(60, 'must be at least 60 s (the controller runs once a minute)').max(86_400, 'must be at most 86400 s (a day)'),
  /** Roll back when more than this percent of the new subset's requests fail (5xx, or a gRPC error). */
  maxErrorRatePercent: z.number().min(0).max(100),
  /** Roll back when the new subset's p99 latency exceeds this. */
  maxP99LatencyMs: z.int().min(1).max(600_000).optional(),
  /** A step is judged only on at least this many requests to the new subset; fewer, and it holds (default 100). */
  minRequests: z.int().min(1).max(1_000_000_000).optional(),
});

export type RolloutSpec = z.output<typeof rolloutSchema>;

/** rolloutDefaults: what a rollout spec leaves out. */
export const rolloutDefaults = { minRequests: 100 } as const;
