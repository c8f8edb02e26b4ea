import { StoreUnavailableError } from '../errors';
import { MeshStore } from '../store/mesh-store';
import { EndpointAssignmentItem, SnapshotItem } from '../store/records';

interface Entry<T> {
  value: T | undefined;
  fetchedAt: number;
}

export interface SnapshotCacheOptions {
  /** How long a read snapshot is trusted before it is read again. */
  readonly ttlMs: number;
  readonly now?: () => number;
}

/**
 * SnapshotCache keeps, per container, the rendered items polls read, for a short TTL: most
 * polls of a fleet ask for what has not changed, and this lets them answer with no read.
 * When a read fails it falls back to the last value it had, however old: serving a slightly
 * stale config beats answering with less, and Envoy keeps its own on a 5xx anyway.
 */
export class SnapshotCache {
  private readonly snapshots = new Map<string, Entry<SnapshotItem>>();
  private readonly assignmentEntries = new Map<string, Entry<EndpointAssignmentItem>>();
  private readonly now: () => number;
  /** Counts, for benchmarks and metrics. */
  readonly stats = { hits: 0, reads: 0, staleServed: 0 };

  constructor(
    private readonly store: MeshStore,
    private readonly options: SnapshotCacheOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  async snapshot(service: string): Promise<SnapshotItem | undefined> {
    const entry = this.snapshots.get(service);
    if (entry && this.fresh(entry)) {
      this.stats.hits++;
      return entry.value;
    }
    try {
      this.stats.reads++;
      const value = await this.store.getSnapshot(service);
      this.snapshots.set(service, { value, fetchedAt: this.now() });
      return value;
    } catch (err) {
      if (entry?.value && err instanceof StoreUnavailableError) {
        this.stats.staleServed++;
        return entry.value;
      }
      throw err;
    }
  }

  /** assignments returns the rendered EDS items of the named services, reading only what is not fresh. */
  async assignments(services: readonly string[]): Promise<Map<string, EndpointAssignmentItem>> {
    const out = new Map<string, EndpointAssignmentItem>();
    const missing: string[] = [];
    for (const name of services) {
      const entry = this.assignmentEntries.get(name);
      if (entry && this.fresh(entry)) {
        if (entry.value) out.set(name, entry.value);
      } else missing.push(name);
    }
    if (missing.length === 0) {
      this.stats.hits++;
      return out;
    }
    try {
      this.stats.reads++;
      const read = await this.store.getEndpointAssignments(missing);
      const fetchedAt = this.now();
      for (const name of missing) {
        const value = read.get(name);
        this.assignmentEntries.set(name, { value, fetchedAt });
        if (value) out.set(name, value);
      }
      return out;
    } catch (err) {
      if (!(err instanceof StoreUnavailableError)) throw err;
      for (const name of missing) {
        const last = this.assignmentEntries.get(name)?.value;
        if (!last) throw err;
        out.set(name, last);
      }
      this.stats.staleServed++;
      return out;
    }
  }

  private fresh(entry: Entry<unknown>): boolean {
    return this.now() - entry.fetchedAt < this.options.ttlMs;
  }
}
