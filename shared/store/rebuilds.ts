/**
 * RebuildRun is one fleet rebuild (shared/reconcile/rebuild-driver.ts): every service's
 * snapshot and assignment rendered again, towards one render digest, a slice per invocation.
 */
export interface RebuildRun {
  /** Names the run (its digest and start), so a driver that lost it notices. */
  readonly id: string;
  /** The render digest (render-digest.ts) the run renders with. */
  readonly digest: string;
  /** Why it started: the render digest changed (a deploy), an operator asked, or no rebuild was ever recorded. */
  readonly reason: 'render-changed' | 'requested' | 'first';
  readonly startedAt: string;
  readonly updatedAt: string;
  readonly finishedAt?: string;
  /** Every service up to and including this name (in name order) has had its turn; absent before the first. */
  readonly cursor?: string;
  /** Whether every service has had its first turn (only retries may be left). */
  readonly passed: boolean;
  /** Invocations that advanced it. */
  readonly slices: number;
  readonly services: number;
  readonly snapshots: number;
  readonly assignments: number;
  readonly overLimit: number;
  /** Services whose page failed, rendered again in the next retry round. */
  readonly failed: readonly string[];
  /** The services the current retry round has still to render. */
  readonly retrying: readonly string[];
  /** Retry rounds begun: services left in `failed` after the last one are reported, not retried. */
  readonly retryRounds: number;
  readonly errorCount: number;
  /** The latest errors (at most 20), each naming its page. */
  readonly errors: readonly string[];
  readonly status: 'running' | 'done' | 'done-with-errors';
}

/** RebuildState is the one `CATALOG / REBUILD` item: where the fleet's rendering stands. */
export interface RebuildState {
  /** The digest of the last finished rebuild: what the stored snapshots were rendered with. */
  readonly renderedDigest?: string;
  /** The rebuild under way, if any. */
  readonly current?: RebuildRun;
  /** The last finished rebuild. */
  readonly last?: RebuildRun;
  /** An operator's request (`POST /rebuild`, `meshctl rebuild`) not yet taken up by a run. */
  readonly requestedAt?: string;
  /** The invocation advancing `current`, and until when it may: nobody else advances it before then. */
  readonly lease?: { readonly owner: string; readonly until: string };
}

/** StoredRebuild is the state with the revision a conditional write compares. */
export interface StoredRebuild {
  readonly state: RebuildState;
  readonly revision: number;
}

/** RebuildRepository keeps the rebuild state: every change is a read, then a write under the revision read. */
export interface RebuildRepository {
  /** getRebuild reads the state consistently (undefined: no rebuild was ever recorded). */
  getRebuild(): Promise<StoredRebuild | undefined>;
  /** putRebuild writes a state if the stored one is still at `revision` (0: none stored); false: someone else moved it first. */
  putRebuild(state: RebuildState, revision: number): Promise<boolean>;
}
