import { canonicalJson } from '../envoy/version';
import { RenderedItemKind, ServiceSecretsItem, SnapshotItem } from './records';

/**
 * The change log: every write of a rendered item (a service's snapshot, its endpoint
 * assignment, its secrets) also appends a small record saying which item changed and to what
 * version, so a push-tier server learns of changes with one Query per interval, whatever the
 * number of services and streams (docs/table-layout.md, "The change log").
 *
 * Sequences are time-ordered (`<writer's epoch ms, 15 digits>#<random writer id>`), not a
 * counter: a counter is one more write per change on one hot item, and a writer that took a
 * number and then crashed leaves a gap every reader must wait out. Writers' clocks differ and
 * writes land late, so readers do not trust "after the last record seen": each Query reads
 * from (the start of the previous Query by the reader's clock) minus an overlap window and
 * drops the records it already saw (ChangeFeed). No record is skipped as long as
 * overlap >= the largest clock skew between a writer and a reader + the time a write takes to
 * land; writers enforce the second term (a record that took longer than `maxWriteLatencyMs`
 * to write is appended again with a fresh sequence), the first is NTP's business (Amazon Time
 * Sync keeps it far under the default allowance of a second).
 */

/** ChangedItemKind is the rendered item a record is about: each is one item of `SVC#<service>`. */
export type ChangedItemKind = RenderedItemKind;

/** ChangeRecord says a service's rendered item changed, to `version` ('' when it was deleted). */
export interface ChangeRecord {
  /** The sort key: time-ordered, unique. */
  readonly sequence: string;
  readonly service: string;
  readonly item: ChangedItemKind;
  readonly version: string;
  /** The writer's clock when it appended (ms): the time part of `sequence`. */
  readonly at: number;
}

/** ChangeLogWriter appends change records; the rendered repositories call it after each write. */
export interface ChangeLogWriter {
  /** append records a change; it throws (StoreUnavailableError) when it could not, so the caller's event is retried. */
  append(service: string, item: ChangedItemKind, version: string): Promise<void>;
}

/** ChangeLogReader reads the records at or after a time, oldest first, with one Query per shard. */
export interface ChangeLogReader {
  readSince(fromMs: number): Promise<ChangeRecord[]>;
}

export interface ChangeLogSettings {
  /** @default 1 — partitions the log is spread over (writers pick by service; readers Query each). */
  readonly shards: number;
  /** @default 3600 — how long a record is kept (TTL); readers need it only for `overlapMs`. */
  readonly ttlSeconds: number;
  /** @default 1000 — a record that took longer to write is appended again with a fresh sequence. */
  readonly maxWriteLatencyMs: number;
  /** @default 2000 — how far before its previous Query a reader reads again (skew + write latency). */
  readonly overlapMs: number;
}

export const changeLogDefaults: ChangeLogSettings = { shards: 1, ttlSeconds: 3600, maxWriteLatencyMs: 1000, overlapMs: 2000 };

const timeDigits = 15;

/** sequenceOf makes a record's sort key: the time first (zero-padded, so strings sort as numbers), then the writer's nonce. */
export function sequenceOf(atMs: number, nonce: string): string {
  return `${sequenceFloor(atMs)}#${nonce}`;
}

/** sequenceFloor is the smallest sequence at `atMs`: a Query from it reads every record of that millisecond on. */
export function sequenceFloor(atMs: number): string {
  return String(Math.max(0, Math.floor(atMs))).padStart(timeDigits, '0');
}

/** timeOfSequence reads the time back out of a sequence. */
export function timeOfSequence(sequence: string): number {
  return Number(sequence.slice(0, timeDigits));
}

/** shardOf picks a service's shard: all of one service's records in one partition, in order. */
export function shardOf(service: string, shards: number): number {
  if (shards <= 1) return 0;
  let hash = 0;
  for (let i = 0; i < service.length; i++) hash = (hash * 31 + service.charCodeAt(i)) >>> 0;
  return hash % shards;
}

/** snapshotChangeVersion is the version a snapshot change carries: its per-type versions, proxyless ones included. */
export function snapshotChangeVersion(snapshot: Pick<SnapshotItem, 'versions' | 'proxyless'> | undefined): string {
  return snapshot ? canonicalJson({ versions: snapshot.versions, proxyless: snapshot.proxyless?.versions ?? null }) : '';
}

/**
 * secretsChangeVersion is the version a secrets change carries: the certificate's serial and,
 * on a gateway, the versions of its listener certificates (a rotated one is a change too).
 */
export function secretsChangeVersion(secrets: Pick<ServiceSecretsItem, 'serial' | 'gatewayCertificates'> | undefined): string {
  const gateway = (secrets?.gatewayCertificates ?? []).map((c) => `${c.port}:${c.version}`);
  return [secrets?.serial ?? '', ...gateway].join('+');
}

/**
 * ChangeFeed is a reader's cursor over the log: `next()` returns the records not returned
 * before, reading from the start of the previous read minus `overlapMs` (both by the reader's
 * clock) and dropping those already seen. It remembers only the sequences inside the window.
 */
export class ChangeFeed {
  private from: number;
  private readonly seen = new Set<string>();

  constructor(
    private readonly log: ChangeLogReader,
    private readonly options: { readonly overlapMs: number; readonly now: () => number },
  ) {
    // A record may land up to maxWriteLatencyMs after its key's time (writers re-append later
    // ones): an overlap no longer than that would skip such records without a word.
    if (!(options.overlapMs > changeLogDefaults.maxWriteLatencyMs)) {
      throw new Error(`the change feed's overlap (${options.overlapMs} ms) must exceed the writers' latest landing (${changeLogDefaults.maxWriteLatencyMs} ms)`);
    }
    this.from = options.now() - options.overlapMs;
  }

  /** next reads the log once; on failure the cursor stays, so the next call reads the same span again. */
  async next(): Promise<ChangeRecord[]> {
    const startedAt = this.options.now();
    const records = await this.log.readSince(this.from);
    const fresh = records.filter((r) => !this.seen.has(r.sequence));
    for (const r of fresh) this.seen.add(r.sequence);
    // Never move back (a clock stepped back): the window only slides forward.
    this.from = Math.max(this.from, startedAt - this.options.overlapMs);
    for (const sequence of this.seen) if (timeOfSequence(sequence) < this.from) this.seen.delete(sequence);
    return fresh;
  }

  /** windowSize is how many sequences it remembers (for tests and metrics). */
  get windowSize(): number {
    return this.seen.size;
  }
}
