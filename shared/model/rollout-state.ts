/**
 * The recorded state of a progressive rollout (spec-rollout.ts): what the controller
 * (shared/rollout) decided, step by step, as `GET /services/{name}` and `meshctl status` show it.
 */

/** DeclaredRollout is one rollout a spec declares: its id, whose spec, whose traffic, and its spec's hash. */
export interface DeclaredRollout {
  readonly id: string;
  readonly owner: string;
  readonly service: string;
  readonly specHash: string;
}

export type RolloutStatus = 'progressing' | 'completed' | 'rolled-back' | 'withdrawn';

/** SubsetStats is what the new subset's endpoints served in a window (metrics.ts). */
export interface SubsetStats {
  readonly requests: number;
  readonly errors: number;
  /** p99 latency in ms, when measured. */
  readonly p99Ms?: number;
}

/** A decision as recorded: the step it led to, why, and what was measured. */
export interface RolloutDecision {
  readonly at: string;
  readonly action: 'start' | 'advance' | 'hold' | 'complete' | 'roll-back' | 'withdraw';
  /** Percent of traffic to `to` after the decision. */
  readonly percent: number;
  readonly reason: string;
  readonly measured?: SubsetStats & { readonly errorRatePercent: number };
}

export interface RolloutState {
  /** `<caller>/<service>` for a rollout declared on a dependency, `<service>` for one declared on the service. */
  readonly id: string;
  /** The service whose spec declares it, and the service whose traffic moves. */
  readonly owner: string;
  readonly service: string;
  /** A hash of the rollout spec the state follows: a changed spec starts over. */
  readonly specHash: string;
  readonly status: RolloutStatus;
  /** Index of the current step in `steps`; -1 before the first. */
  readonly step: number;
  readonly percent: number;
  readonly stepStartedAt: string;
  /** The latest decisions, newest last (at most historyLimit). */
  readonly history: readonly RolloutDecision[];
}

