import { StoreUnavailableError } from '../errors';
import { ByteBoundedLru } from './byte-bounded-lru';
import { RenderedRepository } from '../store/repositories';
import { EndpointAssignmentItem, RenderedKey, ServiceSecretsItem, SnapshotItem } from '../store/records';
import { assignmentSource } from '../render/names';

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
  /** @default 64 MiB — the memory the cached items may take, as their JSON measures (LRU past it). */
  readonly maxBytes?: number;
  readonly now?: () => number;
}

/** An absent item (a service not declared) is cached too, and costs this much of the budget. */
const absentItemBytes = 64;

const sizeOf = (entry: Entry<unknown>): number => (entry.value === undefined ? absentItemBytes : JSON.stringify(entry.value).length);

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
  private readonly snapshots: ByteBoundedLru<string, Entry<SnapshotItem>>;
  private readonly assignmentEntries: ByteBoundedLru<string, Entry<EndpointAssignmentItem>>;
  private readonly secretEntries: ByteBoundedLru<string, Entry<ServiceSecretsItem>>;
  private readonly now: () => number;
  /** Reads in flight, by what they read, so the same read is not made twice at once. */
  private readonly inFlight = new Map<string, Promise<void>>();
  /** Counts, for benchmarks and metrics. */
  readonly stats = { hits: 0, reads: 0, staleServed: 0 };

  constructor(
    private readonly store: Pick<RenderedRepository, 'getRendered' | 'getRenderedMany'>,
    private readonly options: SnapshotCacheOptions,
  ) {
    this.now = options.now ?? Date.now;
    // Snapshots and assignments share most of the budget; secrets are small and few.
    const budget = options.maxBytes ?? 64 * 1024 * 1024;
    this.snapshots = new ByteBoundedLru<string, Entry<SnapshotItem>>(budget * 0.45, sizeOf);
    this.assignmentEntries = new ByteBoundedLru<string, Entry<EndpointAssignmentItem>>(budget * 0.45, sizeOf);
    this.secretEntries = new ByteBoundedLru<string, Entry<ServiceSecretsItem>>(budget * 0.1, sizeOf);
  }

  /** cachedBytes is what the cache holds now, by its measure (for tests and metrics). */
  get cachedBytes(): number {
    return this.snapshots.bytes + this.assignmentEntries.bytes + this.secretEntries.bytes;
  }

  /**
   * rendered returns a service's snapshot, the named assignments and (when asked) the service's
   * secrets, reading whatever is not fresh in one request. `fresh: true` reads them all whatever
   * their age (the push tier's change watcher uses `refresh`, below). A subset
   * cluster's name (a proxyless gRPC client's) is read as its service's assignment
   * (names.assignmentSource) and returned under the name asked; the selection filters it.
   */
  async rendered(
    service: string,
    assignmentNames: readonly string[] = [],
    withSecrets = false,
    options: { readonly snapshotJustRead?: boolean; readonly fresh?: boolean } = {},
  ): Promise<Rendered> {
    const stale = (entry: Entry<unknown> | undefined) => options.fresh === true || !this.fresh(entry);
    // snapshotJustRead: the caller read the snapshot a moment ago (to authorize), don't read it twice.
    const readSnapshot = !options.snapshotJustRead && stale(this.snapshots.get(service));
    const sources = [...new Set(assignmentNames.map(assignmentSource))];
    const readAssignments = sources.filter((n) => stale(this.assignmentEntries.get(n)));
    const readSecrets = withSecrets && stale(this.secretEntries.get(service));
    if (readSnapshot || readAssignments.length > 0 || readSecrets) {
      try {
        // The same read already in flight is joined, not repeated: many streams (or polls)
        // that miss together read once. A fresh read must start after its caller asked.
        const key = `${readSnapshot ? service : ''}\u0000${readSecrets ? service : ''}\u0000${readAssignments.join('\u0000')}`;
        const inFlight = options.fresh === true ? undefined : this.inFlight.get(key);
        if (inFlight) await inFlight;
        else {
          const read = this.read(readSnapshot ? service : undefined, readAssignments, readSecrets ? service : undefined);
          this.inFlight.set(key, read);
          try {
            await read;
          } finally {
            if (this.inFlight.get(key) === read) this.inFlight.delete(key);
          }
        }
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
      const value = this.assignmentEntries.get(assignmentSource(name))?.value;
      if (value) assignments.set(name, value);
    }
    const secrets = withSecrets ? this.secretEntries.get(service)?.value : undefined;
    return { snapshot: this.snapshots.get(service)?.value, assignments, ...(secrets ? { secrets } : {}) };
  }

  /**
   * refresh reads the named items of any services now, 100 per request, whatever their age
   * (`consistent`: what the last write wrote). The push tier's change watcher keeps the cache
   * current with it: what a tick of the change log named, and every item its streams use at a
   * sweep. A failed read throws (StoreUnavailableError) and leaves the entries as they were.
   */
  async refresh(keys: readonly RenderedKey[], options: { readonly consistent?: boolean } = {}): Promise<void> {
    if (keys.length === 0) return;
    this.stats.reads++;
    const signal = this.options.readBudgetMs !== undefined ? AbortSignal.timeout(this.options.readBudgetMs) : undefined;
    const read = await this.store.getRenderedMany(keys, { ...(signal ? { signal } : {}), ...(options.consistent ? { consistent: true } : {}) });
    const fetchedAt = this.now();
    for (const { service, item } of keys) {
      if (item === 'snapshot') this.snapshots.set(service, { value: read.snapshots.get(service), fetchedAt });
      else if (item === 'eds') this.assignmentEntries.set(service, { value: read.assignments.get(service), fetchedAt });
      else this.secretEntries.set(service, { value: read.secrets.get(service), fetchedAt });
    }
  }

  /** peek is what the cache holds for a service's items, however old, without reading. */
  peek(service: string): { snapshot?: SnapshotItem; assignment?: EndpointAssignmentItem; secrets?: ServiceSecretsItem } {
    const snapshot = this.snapshots.get(service)?.value;
    const assignment = this.assignmentEntries.get(service)?.value;
    const secrets = this.secretEntries.get(service)?.value;
    return { ...(snapshot ? { snapshot } : {}), ...(assignment ? { assignment } : {}), ...(secrets ? { secrets } : {}) };
  }

  /**
   * forget drops a service's cached snapshot, assignment or secrets: the next poll reads it.
   * The change watcher calls it for changed items no stream of its server subscribes to.
   */
  forget(service: string, item: 'snapshot' | 'eds' | 'secrets'): void {
    if (item === 'snapshot') this.snapshots.delete(service);
    else if (item === 'eds') this.assignmentEntries.delete(service);
    else this.secretEntries.delete(service);
  }

  /** read reads items from the table and caches what it read. */
  private async read(snapshotOf: string | undefined, assignmentNames: readonly string[], secretsOf: string | undefined): Promise<void> {
    this.stats.reads++;
    const signal = this.options.readBudgetMs !== undefined ? AbortSignal.timeout(this.options.readBudgetMs) : undefined;
    const read = await this.store.getRendered(snapshotOf, assignmentNames, secretsOf, signal ? { signal } : {});
    const fetchedAt = this.now();
    if (snapshotOf !== undefined) this.snapshots.set(snapshotOf, { value: read.snapshot, fetchedAt });
    for (const name of assignmentNames) this.assignmentEntries.set(name, { value: read.assignments.get(name), fetchedAt });
    if (secretsOf !== undefined) this.secretEntries.set(secretsOf, { value: read.secrets, fetchedAt });
  }

  private fresh(entry: Entry<unknown> | undefined): boolean {
    return entry !== undefined && this.now() - entry.fetchedAt < this.options.ttlMs;
  }
}
