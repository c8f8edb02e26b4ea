import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { BenchContext, BenchRow, BenchSuite, percentile, round } from '../harness';
import { startEmbeddedDynamoDb } from '../../local/embedded-dynamodb';
import { createDocumentClient } from '../../shared/store/dynamodb';
import { MeshStore } from '../../shared/store/mesh-store';
import { SnapshotItem } from '../../shared/store/records';
import { changeLogDefaults } from '../../shared/store/change-log';
import { declareService } from '../../shared/state/catalog';
import { defaultRenderSettings } from '../../shared/render/settings';
import { SnapshotCache } from '../../shared/xds/snapshot-cache';
import { XdsTypeName } from '../../shared/envoy/resources';
import { ChangeWatcher, WatchedStream } from '../../server/change-watcher';

/**
 * The push tier's change feed (server/change-watcher.ts following the change log of
 * shared/store/change-log.ts), on one server over dynalite with real SDK clients:
 *
 * - idle: DynamoDB read requests and read units per second per server with 10, 1,000 and
 *   10,000 services that have streams (one stream each), at the default 500 ms interval: the
 *   log's one Query per tick, the safety sweep (every item the streams use re-read once a
 *   minute, 100 per request) amortised, and, for comparison, the polling the log replaced
 *   (the sweep's read units every tick, in one request per service: computed from the sweep).
 * - churn: 10 and 100 snapshot changes per second over 1,000 services with streams: reads per
 *   second (log Queries, refresh reads), and the delay from a write's return (item and record
 *   written) to the wake of the stream of that service, p50/p99.
 *
 * Read units are those dynalite reports with ReturnConsumedCapacity (item sizes rounded up to
 * 4 KB, halved for eventually consistent reads), raised to DynamoDB's minimum per request
 * (1 consistent, 0.5 eventually consistent) where dynalite reports 0 for an empty answer.
 * The streams are in-process stand-ins for what the watcher needs of one (its service, its
 * subscriptions, a wake); bench/suites/push.ts measures real gRPC streams.
 */
export const suite: BenchSuite = {
  name: 'change-feed',
  async run(ctx: BenchContext): Promise<BenchRow[]> {
    const smoke = ctx.scale === 'smoke';
    const rows: BenchRow[] = [];
    for (const services of smoke ? [10, 100] : [10, 1000, 10_000]) rows.push(await idle(ctx, services));
    for (const rate of [10, 100]) rows.push(await churn(ctx, smoke ? 100 : 1000, rate, smoke ? 2000 : 6000));
    return rows;
  },
};

const intervalMs = 500;
const sweepIntervalMs = 60_000;

/** ReadMeter asks DynamoDB for the capacity of each read a client makes, and adds it up by operation. */
class ReadMeter {
  totals = new Map<string, { requests: number; units: number }>();

  constructor(doc: DynamoDBDocumentClient) {
    doc.middlewareStack.add(
      (next, context) => async (args) => {
        // The document client's commands run as the low-level ones: BatchGetItem, GetItem, Query.
        const operation = String(context.commandName ?? '').replace(/Command$/, '').replace(/Item$/, '');
        if (!['Query', 'BatchGet', 'Get'].includes(operation)) return next(args);
        const input = args.input as Record<string, unknown>;
        input.ReturnConsumedCapacity = 'TOTAL';
        const batch = Object.values((input.RequestItems ?? {}) as Record<string, { ConsistentRead?: boolean }>);
        const consistent = operation === 'BatchGet' ? batch.every((r) => r.ConsistentRead === true) : input.ConsistentRead === true;
        const result = await next(args);
        const consumed = (result.output as { ConsumedCapacity?: { CapacityUnits?: number } | { CapacityUnits?: number }[] }).ConsumedCapacity;
        const reported = (Array.isArray(consumed) ? consumed : consumed ? [consumed] : []).reduce((s, c) => s + (c.CapacityUnits ?? 0), 0);
        const units = Math.max(reported, consistent ? 1 : 0.5);
        const entry = this.totals.get(operation) ?? { requests: 0, units: 0 };
        entry.requests++;
        entry.units += units;
        this.totals.set(operation, entry);
        return result;
      },
      { step: 'initialize', name: 'benchReadMeter' },
    );
  }

  reset(): void {
    this.totals = new Map();
  }

  of(operation?: string): { requests: number; units: number } {
    const entries = operation ? [this.totals.get(operation)] : [...this.totals.values()];
    return entries.reduce<{ requests: number; units: number }>(
      (s, e) => ({ requests: s.requests + (e?.requests ?? 0), units: s.units + (e?.units ?? 0) }),
      { requests: 0, units: 0 },
    );
  }
}

/** BenchStream is one service's stream as the watcher sees it, noting when it is woken. */
class BenchStream implements WatchedStream {
  private readonly subscriptions = new Map<XdsTypeName, readonly string[]>([['clusters', []]]);
  wakes = 0;
  onWake: (() => void) | undefined;

  constructor(readonly service: string) {}

  subscribed(): ReadonlyMap<XdsTypeName, readonly string[]> {
    return this.subscriptions;
  }

  async onChange(): Promise<void> {
    this.wakes++;
    this.onWake?.();
  }
}

interface World {
  readonly writer: MeshStore;
  readonly meter: ReadMeter;
  readonly watcher: ChangeWatcher;
  readonly streams: BenchStream[];
  readonly template: SnapshotItem;
  close(): Promise<void>;
}

/** world starts dynalite with `services` rendered snapshots and a push-tier server watching one stream of each. */
async function world(ctx: BenchContext, services: number): Promise<World> {
  const tableName = 'change-feed';
  const db = await startEmbeddedDynamoDb({ tableName });
  const writer = new MeshStore(db.doc, tableName);
  await declareService(writer, { name: 'template', inboundPort: 15000, appPort: 8080, protocol: 'http' }, defaultRenderSettings);
  const template = (await writer.getSnapshot('template'))!;
  const names = Array.from({ length: services }, (_, i) => `svc-${i}`);
  for (let i = 0; i < names.length; i += 50) await Promise.all(names.slice(i, i + 50).map((n) => writer.putSnapshot(n, template)));
  ctx.log(`${services} services stored`);
  const readerDoc = createDocumentClient({ endpoint: db.endpoint, region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 3 });
  const meter = new ReadMeter(readerDoc);
  const reader = new MeshStore(readerDoc, tableName);
  const cache = new SnapshotCache(reader, { ttlMs: 60_000 });
  const streams = names.map((n) => new BenchStream(n));
  const watcher = new ChangeWatcher(cache, () => streams, { intervalMs, log: reader.changes, sweepIntervalMs });
  return {
    writer,
    meter,
    watcher,
    streams,
    template,
    close: async () => {
      await watcher.stop();
      readerDoc.destroy();
      await db.close();
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function idle(ctx: BenchContext, services: number): Promise<BenchRow> {
  const w = await world(ctx, services);
  try {
    // The sweep is the full read the polling watcher made every tick: measure it once.
    w.meter.reset();
    await w.watcher.sweep();
    const sweep = w.meter.of();
    // Let the set-up's records leave the overlap window, then tick as the timer would.
    await sleep(changeLogDefaults.overlapMs + 200);
    await w.watcher.poke();
    w.meter.reset();
    const ticks = 20;
    for (let i = 0; i < ticks; i++) await w.watcher.poke();
    const log = w.meter.of();
    const perSecond = 1000 / intervalMs;
    return {
      name: 'DynamoDB reads per second per server, idle (log Query per 500 ms tick; sweep once a minute; the polling it replaced)',
      params: { services, streams: services },
      metrics: {
        log_requests_per_s: round((log.requests / ticks) * perSecond),
        log_read_units_per_s: round((log.units / ticks) * perSecond),
        sweep_requests_per_s: round(sweep.requests / (sweepIntervalMs / 1000)),
        sweep_read_units_per_s: round(sweep.units / (sweepIntervalMs / 1000)),
        // The watcher before the log read what a sweep reads every tick, one request per service.
        polling_requests_per_s: round(services * perSecond),
        polling_read_units_per_s: round(sweep.units * perSecond),
      },
    };
  } finally {
    await w.close();
  }
}

async function churn(ctx: BenchContext, services: number, rate: number, durationMs: number): Promise<BenchRow> {
  const w = await world(ctx, services);
  try {
    await w.watcher.sweep(); // the cache warm, as on a server that has been up
    await sleep(changeLogDefaults.overlapMs + 200);
    await w.watcher.poke();
    const delays: number[] = [];
    const pendingSince = new Map<string, number>();
    for (const stream of w.streams) {
      stream.onWake = () => {
        const since = pendingSince.get(stream.service);
        if (since === undefined) return;
        delays.push(performance.now() - since);
        pendingSince.delete(stream.service);
      };
    }
    w.meter.reset();
    w.watcher.start();
    const started = performance.now();
    const writes: Promise<void>[] = [];
    let failed = 0;
    let revision = 1;
    for (let i = 0; performance.now() - started < durationMs; i++) {
      // One write every 1/rate s, on schedule whatever the last one took.
      const due = started + (i * 1000) / rate;
      if (due > performance.now()) await sleep(due - performance.now());
      const service = `svc-${(i * 7919) % services}`;
      const r = ++revision;
      const snapshot: SnapshotItem = { ...w.template, specRevision: r, versions: { ...w.template.versions, clusters: `churn-${r}` } };
      writes.push(
        w.writer.putSnapshot(service, snapshot).then(
          () => {
            if (!pendingSince.has(service)) pendingSince.set(service, performance.now());
          },
          // A write whose record kept landing late fails, as a lifecycle event's would, to be retried.
          () => void failed++,
        ),
      );
    }
    await Promise.all(writes);
    // Let the last writes be seen (bounded: a few ticks).
    for (let i = 0; i < 20 && pendingSince.size > 0; i++) await sleep(intervalMs / 2);
    const elapsed = (performance.now() - started) / 1000;
    await w.watcher.stop();
    const log = w.meter.of('Query');
    const refresh = w.meter.of('BatchGet');
    delays.sort((a, b) => a - b);
    ctx.log(`${rate}/s over ${services} services: ${delays.length} wakes, ${pendingSince.size} unseen, ${failed} writes failed`);
    return {
      name: 'change feed under churn: reads per second per server, and delay from a write to its stream’s wake',
      params: { services, changes_per_s: rate, seconds: round(durationMs / 1000, 1) },
      metrics: {
        log_requests_per_s: round(log.requests / elapsed),
        log_read_units_per_s: round(log.units / elapsed),
        refresh_requests_per_s: round(refresh.requests / elapsed),
        refresh_read_units_per_s: round(refresh.units / elapsed),
        wake_p50_ms: round(percentile(delays, 50)),
        wake_p99_ms: round(percentile(delays, 99)),
        unseen: pendingSince.size,
        failed_writes: failed,
      },
    };
  } finally {
    await w.close();
  }
}
