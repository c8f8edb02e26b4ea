import { StoreUnavailableError } from '../errors';
import { RenderedRepository } from '../store/repositories';
import { EndpointAssignmentItem, ServiceSecretsItem, SnapshotItem } from '../store/records';

interface Entry<T> {
  value: T | undefined;
  fetchedAt: number;
}

export interface SnapshotCacheOptions {
  /** How long a read item is trusted before it is read again. */
  readonly ttlMs: number;
  /**
   * How long one read may take, the SDK's retries of a throttled table included, before it
   * counts as failed and the last values are served: the poll must answer inside its deadline.
   * Unset: the SDK's own retry limits.
   */
  readonly readBudgetMs?: number;
  readonly now?: () => number;
}

/** Rendered is what one poll needs: the node's snapshot and, for EDS, the named assignments; for SDS, its secrets. */
export interface Rendered {
  readonly snapshot: SnapshotItem | undefined;
  readonly assignments: ReadonlyMap<string, EndpointAssignmentItem>;
  readonly secrets?: ServiceSecretsItem;
}

/**
 * SnapshotCache keeps, per container, the rendered items polls read, for a short TTL: most
 * polls of a fleet ask for what has not changed, and this lets them answer with no read. What
 * is stale is read in one BatchGetItem. When a read fails it falls back to the last value it
 * had, however old: serving a slightly stale config beats answering with less, and without
 * any value the poll fails (5xx), so Envoy keeps its own config.
 */
export class SnapshotCache {
  private readonly snapshots = new Map<string, Entry<SnapshotItem>>();
  private readonly assignmentEntries = new Map<string, Entry<EndpointAssignmentItem>>();
  private readonly secretEntries = new Map<string, Entry<ServiceSecretsItem>>();
  private readonly now: () => number;
  /** Counts, for benchmarks and metrics. */
  readonly stats = { hits: 0, reads: 0, staleServed: 0 };

  constructor(
    private readonly store: Pick<RenderedRepository, 'getRendered'>,
    private readonly options: SnapshotCacheOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  /**
   * rendered returns a service's snapshot, the named assignments and (when asked) the service's
   * secrets, reading whatever is not fresh in one request. `fresh: true` reads them all whatever
   * their age: the push tier's change watcher keeps the cache current that way.
   */
  async rendered(service: string, assignmentNames: readonly string[] = [], withSecrets = false, options: { readonly fresh?: boolean } = {}): Promise<Rendered> {
    const stale = (entry: Entry<unknown> | undefined) => options.fresh === true || !this.fresh(entry);
    const readSnapshot = stale(this.snapshots.get(service));
    const readAssignments = assignmentNames.filter((n) => stale(this.assignmentEntries.get(n)));
    const readSecrets = withSecrets && stale(this.secretEntries.get(service));
    if (readSnapshot || readAssignments.length > 0 || readSecrets) {
      try {
        this.stats.reads++;
        const signal = this.options.readBudgetMs !== undefined ? AbortSignal.timeout(this.options.readBudgetMs) : undefined;
        const read = await this.store.getRendered(
          readSnapshot ? service : undefined,
          readAssignments,
          readSecrets ? service : undefined,
          signal ? { signal } : {},
        );
        const fetchedAt = this.now();
        if (readSnapshot) this.snapshots.set(service, { value: read.snapshot, fetchedAt });
        for (const name of readAssignments) this.assignmentEntries.set(name, { value: read.assignments.get(name), fetchedAt });
        if (readSecrets) this.secretEntries.set(service, { value: read.secrets, fetchedAt });
      } catch (err) {
        if (!(err instanceof StoreUnavailableError)) throw err;
        // Fall back to the last values, but only if every one of them is there.
        const missing =
          (readSnapshot && !this.snapshots.get(service)?.value) ||
          readAssignments.some((n) => !this.assignmentEntries.get(n)?.value) ||
          (readSecrets && !this.secretEntries.get(service)?.value);
        if (missing) throw err;
        this.stats.staleServed++;
      }
    } else {
      this.stats.hits++;
    }
    const assignments = new Map<string, EndpointAssignmentItem>();
    for (const name of assignmentNames) {
      const value = this.assignmentEntries.get(name)?.value;
      if (value) assignments.set(name, value);
    }
    const secrets = withSecrets ? this.secretEntries.get(service)?.value : undefined;
    return { snapshot: this.snapshots.get(service)?.value, assignments, ...(secrets ? { secrets } : {}) };
  }

  private fresh(entry: Entry<unknown> | undefined): boolean {
    return entry !== undefined && this.now() - entry.fetchedAt < this.options.ttlMs;
  }
}
