import { fork } from 'node:child_process';
import { join } from 'node:path';
import { BenchContext, BenchRow, BenchSuite, OperationCounter, percentile, round } from '../harness';
import { declareService } from '../../shared/state/catalog';
import { applyEndpointChanges } from '../../shared/state/endpoints';
import { defaultRenderSettings } from '../../shared/render/settings';
import { createDocumentClient } from '../../shared/store/dynamodb';
import { MeshStore } from '../../shared/store/mesh-store';
import { SnapshotCache } from '../../shared/xds/snapshot-cache';
import { NodeTracker } from '../../shared/xds/node-tracker';
import { SelectionMemo } from '../../shared/xds/selection-memo';
import { defaults } from '../../shared/config';
import { PollSummary } from '../../shared/xds/discovery';
import { startAdsServer } from '../../server/ads-server';
import { ChangeWatcher } from '../../server/change-watcher';

/**
 * The push tier: N state-of-the-world streams (Envoy nodes of `orders` subscribed to the EDS of
 * `payments`) on one server, configured as server/main.ts configures it. The clients and the
 * table (dynalite) run in a child process (bench/push-clients.ts), several streams to a channel
 * (one HTTP/2 connection per `perChannel` streams), so the server's CPU and heap are its own.
 *
 * Measures push latency from an endpoint change (written to the table, then the change watcher
 * poked, as the local runner does after a write) to each stream's receipt, p50/p99 over rounds;
 * the server's heap per stream; the server's CPU per push (process.cpuUsage from the poke until
 * every stream has received the push and its ACK has been processed, over the pushes); how
 * many selections the core made per round (shared: one per change, not one per stream);
 * DynamoDB reads per change check, idle.
 */
export const suite: BenchSuite = {
  name: 'push',
  async run(ctx: BenchContext): Promise<BenchRow[]> {
    const sizes = ctx.scale === 'smoke' ? [20] : (process.env.PUSH_BENCH_SIZES ?? '100,1000,5000').split(',').map(Number);
    const rows: BenchRow[] = [];
    for (const streams of sizes) rows.push(...(await measure(ctx, streams, ctx.scale === 'smoke' ? 3 : streams >= 5000 ? 5 : 10)));
    return rows;
  },
};

/** Streams per channel: an HTTP/2 connection carries this many streams, as Envoys behind one proxy would. */
const perChannel = 50;

type FromClients =
  | { op: 'table'; endpoint: string }
  | { op: 'opened' }
  | { op: 'armed' }
  | { op: 'received'; times: number[]; version: string };

const now = () => performance.timeOrigin + performance.now();

async function measure(ctx: BenchContext, count: number, rounds: number): Promise<BenchRow[]> {
  const root = join(__dirname, '..', '..');
  const tableName = 'push-bench';
  const child = fork(join(root, 'bench', 'push-clients.ts'), [tableName], { cwd: root, execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const inbox: FromClients[] = [];
  let waiter: (() => void) | undefined;
  child.on('message', (m: FromClients) => {
    inbox.push(m);
    waiter?.();
  });
  let exited = false;
  child.once('exit', () => {
    exited = true;
    waiter?.();
  });
  /** next waits for the child's next message of an op (bounded: a stuck run fails, it does not hang). */
  const next = async <Op extends FromClients['op']>(op: Op, boundMs = 300_000): Promise<Extract<FromClients, { op: Op }>> => {
    const deadline = Date.now() + boundMs;
    for (;;) {
      const i = inbox.findIndex((m) => m.op === op);
      if (i >= 0) return inbox.splice(i, 1)[0] as Extract<FromClients, { op: Op }>;
      if (exited) throw new Error(`the push clients exited while waiting for ${op}`);
      if (Date.now() > deadline) throw new Error(`no ${op} from the push clients within ${boundMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 1000);
        waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  };
  const { endpoint: tableEndpoint } = await next('table', 60_000);
  const doc = createDocumentClient({ endpoint: tableEndpoint, region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 3 });
  const store = new MeshStore(doc, tableName);
  // As server/main.ts: a cache the watcher keeps current, the production write gaps, writes behind the poll.
  const cache = new SnapshotCache(store, { ttlMs: 60_000, readBudgetMs: defaults.xdsReadBudgetMs });
  const tracker = new NodeTracker(store, { minWriteGapMs: defaults.nodeStatusMinWriteGapMs, livenessIntervalMs: defaults.nodeStatusLivenessMs, writeBehind: true });
  const selections = new SelectionMemo();
  // ACKs processed, by the version they report: a round ends when every stream's was.
  const acks = new Map<string, number>();
  const onPoll = (poll: PollSummary) => {
    if (poll.reportedVersion !== '' && poll.reportedVersion === poll.answeredVersion) acks.set(poll.reportedVersion, (acks.get(poll.reportedVersion) ?? 0) + 1);
  };
  const ads = await startAdsServer({ cache, tracker, authMode: 'none', selections }, '127.0.0.1', 0, { onPoll });
  const watcher = new ChangeWatcher(cache, () => ads.streams, { intervalMs: 3_600_000, log: store.changes, sweepIntervalMs: 0 });
  try {
    await declareService(store, { name: 'payments', inboundPort: 15000, appPort: 8080, protocol: 'http' }, defaultRenderSettings);
    await declareService(store, { name: 'orders', inboundPort: 15000, appPort: 8080, protocol: 'http', dependencies: [{ service: 'payments', localPort: 9001 }] }, defaultRenderSettings);
    const endpoint = (i: number) => ({
      service: 'payments',
      id: `t${i}`,
      address: `10.0.${Math.floor(i / 250)}.${i % 250}`,
      port: 15000,
      zone: 'us-east-1a',
      health: 'healthy' as const,
      labels: {},
      source: { kind: 'ecs-task' as const, eventId: `e${i}`, eventTime: '2026-01-01T00:00:00Z', orderingKey: 1 },
    });
    await applyEndpointChanges(store, [{ kind: 'upsert', endpoint: endpoint(0) }]);
    global.gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    child.send({ op: 'open', port: ads.port, count, perChannel });
    await next('opened');
    await watcher.poke();
    global.gc?.();
    const heapPerStream = (process.memoryUsage().heapUsed - heapBefore) / count;
    ctx.log(`${count} streams open on ${Math.ceil(count / perChannel)} channels`);

    const latencies: number[] = [];
    let cpuMicros = 0;
    let pushes = 0;
    const selectionsBefore = selections.stats.misses;
    for (let r = 1; r <= rounds; r++) {
      await applyEndpointChanges(store, [{ kind: 'upsert', endpoint: endpoint(r) }]);
      child.send({ op: 'arm' });
      await next('armed');
      const cpu = process.cpuUsage();
      const start = now();
      await watcher.poke();
      const { times, version } = await next('received');
      for (const t of times) latencies.push(t - start);
      // The round's work ends when every ACK has been processed (bounded: it fails, not hangs).
      for (let waited = 0; (acks.get(version) ?? 0) < count; waited++) {
        if (waited > 60_000) throw new Error(`the ACKs of round ${r} were not all processed`);
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      const used = process.cpuUsage(cpu);
      cpuMicros += used.user + used.system;
      pushes += times.length;
    }
    latencies.sort((a, b) => a - b);
    const selectionsPerRound = (selections.stats.misses - selectionsBefore) / rounds;

    const counter = new OperationCounter(doc);
    const idleChecks = 20;
    for (let i = 0; i < idleChecks; i++) await watcher.poke();
    const idleReads = counter.totals().reads / idleChecks;
    const where = 'clients and table in a child process';
    return [
      {
        name: `push latency, endpoint change to every subscribed stream (${where})`,
        params: { streams: count, streams_per_channel: perChannel, rounds },
        metrics: { p50_ms: round(percentile(latencies, 50)), p99_ms: round(percentile(latencies, 99)), max_ms: round(latencies[latencies.length - 1]!) },
      },
      {
        name: 'server CPU per push (from the change to its ACK processed; the selection made once per round)',
        params: { streams: count },
        metrics: { cpu_us_per_push: round(cpuMicros / pushes, 1), selections_per_round: round(selectionsPerRound, 2) },
      },
      // Only with --expose-gc (`node --expose-gc --import tsx bench/run.ts`): without it the heap figure is noise.
      ...(global.gc ? [{ name: 'server heap per stream', params: { streams: count }, metrics: { kib: round(heapPerStream / 1024, 1) } }] : []),
      { name: 'DynamoDB reads per change check, idle (one service with streams)', params: { streams: count }, metrics: { reads_per_check: round(idleReads) } },
    ];
  } finally {
    await watcher.stop();
    await ads.close();
    child.send({ op: 'close' });
    await new Promise<void>((resolve) => (exited ? resolve() : child.once('exit', () => resolve())));
    doc.destroy();
  }
}
