import { canonicalJson } from '../shared/envoy/version';
import { XdsTypeName } from '../shared/envoy/resources';
import {
  ChangeFeed,
  ChangeLogReader,
  ChangeRecord,
  ChangedItemKind,
  changeLogDefaults,
  secretsChangeVersion,
  snapshotChangeVersion,
} from '../shared/store/change-log';
import { RenderedKey } from '../shared/store/records';
import { SnapshotCache } from '../shared/xds/snapshot-cache';
import { assignmentSource } from '../shared/render/names';

/** WatchedStream is what the watcher needs of a stream: whose it is, what it asks for, and a way to wake it. */
export interface WatchedStream {
  readonly service: string | undefined;
  subscribed(): ReadonlyMap<XdsTypeName, readonly string[]>;
  onChange(): Promise<void>;
}

export interface ChangeWatcherOptions {
  /** How often the change log is read. */
  readonly intervalMs: number;
  /** The change log the rendered writes append to (MeshStore.changes). */
  readonly log: ChangeLogReader;
  /**
   * @default 60000 — how often every service with streams is re-read whole, as the watcher
   * did before the log: a safety net for a change whose record was lost. 0: never.
   */
  readonly sweepIntervalMs?: number;
  /** @default 2000 — the log reader's overlap window (shared/store/change-log.ts). */
  readonly overlapMs?: number;
  /** @default 3 — ticks a changed item whose version is not read back yet is read again before the sweep is left to it. */
  readonly maxRefreshRetries?: number;
  readonly now?: () => number;
  readonly onError?: (message: string) => void;
}

/** A changed item still to be read back: its newest record and how often it was tried. */
interface Pending {
  readonly record: ChangeRecord;
  readonly tries: number;
}

const itemKey = (service: string, item: ChangedItemKind) => `${item}\u0000${service}`;

/**
 * ChangeWatcher tells streams that what they subscribe to changed. Once per interval it reads
 * the change log from where it left off — one consistent Query, whatever the number of
 * services or streams — and for each changed item wakes only the streams subscribed to it:
 * a snapshot change the streams of that service; an assignment change the streams that
 * subscribe to that service's EDS (its dependents' streams); a secrets change that service's
 * streams that subscribe to SDS. Before waking them it refreshes the changed items in the
 * server's SnapshotCache, all of a tick in one read of up to 100 items per request (so the
 * streams' own reads hit the cache), checking that it read the version
 * the record names: a lagging replica is re-read consistently, and an item still behind is
 * tried again next tick. Changed items no stream here subscribes to are dropped from the cache.
 *
 * A slow sweep (every `sweepIntervalMs`) re-reads every item the streams use, 100 per request
 * (the watcher read them every tick before the log), and wakes the streams of services whose
 * versions moved: nothing is missed forever.
 * `poke` runs a tick at once: the local runner calls it after each write.
 */
export class ChangeWatcher {
  private readonly feed: ChangeFeed;
  private readonly now: () => number;
  private readonly fingerprints = new Map<string, string>();
  private pending = new Map<string, Pending>();
  private lastSweep: number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  readonly stats = { checks: 0, records: 0, wakes: 0, refreshes: 0, consistentRereads: 0, sweeps: 0 };

  constructor(
    private readonly cache: SnapshotCache,
    private readonly streams: () => Iterable<WatchedStream>,
    private readonly options: ChangeWatcherOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.feed = new ChangeFeed(options.log, { overlapMs: options.overlapMs ?? changeLogDefaults.overlapMs, now: this.now });
    this.lastSweep = this.now();
  }

  start(): void {
    this.timer ??= setInterval(() => void this.poke(), this.options.intervalMs);
    this.timer.unref();
  }

  /**
   * stop ends the ticks and resolves once a check in flight has finished: after it, nothing
   * reads the table (the caller may close it) and pokes do nothing.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** poke checks for changes now; a poke during a check runs one more check after it. */
  poke(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await this.check().catch((err: unknown) => {
          // A check cut short by stop() (its table closing) is no failure to report.
          if (!this.stopped) this.options.onError?.(`change check failed: ${(err as Error).message}`);
        });
      } while (this.again && !this.stopped);
    })().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** sweep re-reads every item the streams use now (100 per request) and wakes the streams of services whose versions moved. */
  async sweep(): Promise<void> {
    this.stats.sweeps++;
    this.lastSweep = this.now();
    const byService = new Map<string, { streams: WatchedStream[]; endpoints: Set<string>; secrets: boolean }>();
    for (const stream of this.streams()) {
      const service = stream.service;
      if (!service) continue;
      const entry = byService.get(service) ?? { streams: [], endpoints: new Set<string>(), secrets: false };
      byService.set(service, entry);
      entry.streams.push(stream);
      const subscribed = stream.subscribed();
      // A proxyless client's subset cluster is drawn from its service's assignment.
      for (const name of subscribed.get('endpoints') ?? []) entry.endpoints.add(assignmentSource(name));
      entry.secrets ||= subscribed.has('secrets');
    }
    const keys = new Map<string, RenderedKey>();
    const add = (service: string, item: ChangedItemKind) => keys.set(itemKey(service, item), { service, item });
    for (const [service, entry] of byService) {
      add(service, 'snapshot');
      for (const name of entry.endpoints) add(name, 'eds');
      if (entry.secrets) add(service, 'secrets');
    }
    // 100 items per request, each request with its own read budget: a sweep of thousands of
    // items must not fail as a whole against one budget.
    const all = [...keys.values()];
    for (let i = 0; i < all.length; i += 100) await this.cache.refresh(all.slice(i, i + 100));
    const woken: WatchedStream[] = [];
    for (const [service, entry] of byService) {
      const endpoints = [...entry.endpoints].sort();
      const fingerprint = canonicalJson({
        snapshot: snapshotChangeVersion(this.cache.peek(service).snapshot),
        endpoints: endpoints.map((n) => this.cache.peek(n).assignment?.version ?? null),
        secrets: entry.secrets ? secretsChangeVersion(this.cache.peek(service).secrets) : null,
      });
      const before = this.fingerprints.get(service);
      this.fingerprints.set(service, fingerprint);
      if (before !== fingerprint) woken.push(...entry.streams);
    }
    for (const service of this.fingerprints.keys()) if (!byService.has(service)) this.fingerprints.delete(service);
    this.stats.wakes += woken.length;
    await Promise.all(woken.map((s) => s.onChange()));
  }

  private async check(): Promise<void> {
    this.stats.checks++;
    const records = await this.feed.next();
    this.stats.records += records.length;
    // Records come oldest first: the newest of each item wins, over a retry carried from before.
    const changed = new Map<string, Pending>(this.pending);
    for (const record of records) changed.set(itemKey(record.service, record.item), { record, tries: 0 });
    this.pending = new Map();
    if (changed.size > 0) await this.apply([...changed.values()]);
    const sweepEvery = this.options.sweepIntervalMs ?? 60_000;
    if (sweepEvery > 0 && this.now() - this.lastSweep >= sweepEvery) await this.sweep();
  }

  /**
   * apply refreshes, in one read, the changed items some stream here subscribes to, checks it
   * read the versions the records name (those behind are read again, consistently, and if
   * still behind tried on the next tick), then wakes those streams, each once.
   */
  private async apply(changed: readonly Pending[]): Promise<void> {
    const index = subscriptions(this.streams());
    const watched: Pending[] = [];
    for (const change of changed) {
      const { service, item } = change.record;
      if (index.streamsOf(service, item).length > 0) watched.push(change);
      // What no stream here subscribes to is not read now: dropped, so a later poll reads it.
      else this.cache.forget(service, item);
    }
    if (watched.length === 0) return;
    const behind = await this.refresh(watched);
    for (const change of behind) {
      if (change.tries + 1 < (this.options.maxRefreshRetries ?? 3)) {
        this.pending.set(itemKey(change.record.service, change.record.item), { record: change.record, tries: change.tries + 1 });
      }
    }
    const woken = new Set<WatchedStream>();
    for (const { record } of watched) for (const stream of index.streamsOf(record.service, record.item)) woken.add(stream);
    this.stats.wakes += woken.size;
    await Promise.all([...woken].map((s) => s.onChange()));
  }

  /** refresh reads the changes' items into the cache and returns those whose version it did not read back. */
  private async refresh(changes: readonly Pending[]): Promise<Pending[]> {
    const behind = (of: readonly Pending[]) => of.filter(({ record }) => versionOf(this.cache, record.service, record.item) !== record.version);
    const read = async (of: readonly Pending[], consistent: boolean) => {
      this.stats.refreshes++;
      try {
        await this.cache.refresh(of.map(({ record }) => ({ service: record.service, item: record.item })), { consistent });
      } catch (err) {
        this.options.onError?.(`refresh of changed items failed: ${(err as Error).message}`);
      }
    };
    await read(changes, false);
    const first = behind(changes);
    if (first.length === 0) return first;
    this.stats.consistentRereads++;
    await read(first, true);
    return behind(first);
  }
}

/** versionOf is the version of a changed item as the cache now holds it, in the change log's terms. */
function versionOf(cache: SnapshotCache, service: string, item: ChangedItemKind): string {
  const held = cache.peek(service);
  if (item === 'snapshot') return snapshotChangeVersion(held.snapshot);
  if (item === 'eds') return held.assignment?.version ?? '';
  return secretsChangeVersion(held.secrets);
}

/** SubscriptionIndex says which streams a changed item concerns. */
interface SubscriptionIndex {
  streamsOf(service: string, item: ChangedItemKind): readonly WatchedStream[];
}

/**
 * subscriptions indexes the streams by what a change wakes them for: their service (its
 * snapshot), each EDS name they subscribe to (a dependency's assignment), their service's
 * secrets when they subscribe to SDS.
 */
function subscriptions(streams: Iterable<WatchedStream>): SubscriptionIndex {
  const byKey = new Map<string, WatchedStream[]>();
  const add = (key: string, stream: WatchedStream) => {
    const list = byKey.get(key);
    if (list) list.push(stream);
    else byKey.set(key, [stream]);
  };
  for (const stream of streams) {
    const service = stream.service;
    if (!service) continue;
    add(itemKey(service, 'snapshot'), stream);
    const subscribed = stream.subscribed();
    // A proxyless client's subset cluster is drawn from its service's assignment (names.assignmentSource).
    for (const name of new Set((subscribed.get('endpoints') ?? []).map(assignmentSource))) add(itemKey(name, 'eds'), stream);
    if (subscribed.has('secrets')) add(itemKey(service, 'secrets'), stream);
  }
  return { streamsOf: (service, item) => byKey.get(itemKey(service, item)) ?? [] };
}
