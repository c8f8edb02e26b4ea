import autocannon from 'autocannon';
import { BenchContext, BenchRow, BenchSuite, OperationCounter, percentile, round, timeSamples } from '../harness';
import { startLocalControlPlane } from '../../local/server';
import { declareService } from '../../shared/state/catalog';
import { applyEndpointChanges } from '../../shared/state/endpoints';
import { defaultRenderSettings } from '../../shared/render/settings';
import { handleDiscovery } from '../../shared/api/discovery';
import { SnapshotCache } from '../../shared/xds/snapshot-cache';
import { NodeTracker } from '../../shared/xds/node-tracker';
import { envoyRequestNode } from '../request-size';
import { MeshStore } from '../../shared/store/mesh-store';
import { createDocumentClient } from '../../shared/store/dynamodb';
import { XdsTypeName, typeUrls } from '../../shared/envoy/resources';
import { spawnLocalControlPlane } from '../local-process';
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { keys } from '../../shared/store/layout';
import { FunctionConfig, readConfig } from '../../functions/lib/config';

/**
 * The hot path: every Envoy polls each subscription every few seconds, forever. Measures the
 * in-process handler (p50/p99 for a 304 and for a 200 carrying 100 clusters), DynamoDB reads
 * per poll with a cold and a warm cache, response bytes, node-status writes per poll, and
 * polls per second through the local HTTP server. Also the stored sizes of the items a poll
 * reads (they set the read units a cache miss costs) and, on a simulated clock, how many
 * node-status writes one Envoy costs per hour with the deployed tracker settings.
 */
export const suite: BenchSuite = {
  name: 'xds',
  async run(ctx: BenchContext): Promise<BenchRow[]> {
    const smoke = ctx.scale === 'smoke';
    const dependencies = smoke ? 5 : 100;
    const samples = smoke ? 50 : 2000;
    const cp = await startLocalControlPlane({ port: 0, config: { snapshotCacheTtlMs: 2000 } });
    const rows: BenchRow[] = [];
    try {
      const store = cp.runtime.store;
      ctx.log(`declaring ${dependencies} dependencies and a caller`);
      await seed(store, dependencies);
      ctx.log('seeded');
      rows.push(...(await itemSizes(cp, dependencies)));
      const counter = new OperationCounter(cp.runtime.doc);

      const poller = (cacheTtlMs: number, tracker = true) => {
        const cache = new SnapshotCache(store, { ttlMs: cacheTtlMs });
        const nodeTracker = tracker ? new NodeTracker(store) : undefined;
        return (type: XdsTypeName, body: Record<string, unknown>) =>
          handleDiscovery({ cache, tracker: nodeTracker }, { method: 'POST', path: `/v3/discovery:${type}`, query: {}, headers: {}, body: JSON.stringify(body) });
      };
      const node = (i: number) => ({ id: `caller-${i}`, cluster: 'caller', locality: { zone: 'us-east-1a' } });

      // 200 with every cluster, and 304 for the same version, warm cache.
      const warm = poller(60_000);
      const first = await warm('clusters', { node: node(0) });
      const body = first.body as { version_info: string; resources: unknown[] };
      const bytes = Buffer.byteLength(JSON.stringify(first.body));
      const full = await timeSamples(samples, () => warm('clusters', { node: node(0) }));
      const notModified = await timeSamples(samples, () => warm('clusters', { node: node(0), version_info: body.version_info }));
      const eds = await warm('endpoints', { node: node(0), resource_names: ['dep-0'] });
      const edsVersion = (eds.body as { version_info: string }).version_info;
      const edsNotModified = await timeSamples(samples, () => warm('endpoints', { node: node(0), resource_names: ['dep-0'], version_info: edsVersion }));
      // The same 304, with the node Envoy 1.36 really sends (its whole extension list, ~56 KB: bench/request-size.ts):
      // what parsing and checking a real request adds to every poll's billed time. The body is built once, outside the timing.
      const realBody = JSON.stringify({
        version_info: edsVersion,
        node: { ...envoyRequestNode(), id: 'caller-0', cluster: 'caller' },
        resource_names: ['dep-0'],
        type_url: typeUrls.endpoints,
      });
      const realCache = new SnapshotCache(store, { ttlMs: 60_000 });
      const realTracker = new NodeTracker(store);
      const realPoll = () =>
        handleDiscovery({ cache: realCache, tracker: realTracker }, { method: 'POST', path: '/v3/discovery:endpoints', query: {}, headers: {}, body: realBody });
      await realPoll();
      const realNotModified = await timeSamples(samples, realPoll);
      rows.push(
        latencyRow('poll 304 endpoints with Envoy 1.36\u2019s node (in-process, warm cache)', { endpoints: 50 }, realNotModified, {
          request_bytes: Buffer.byteLength(realBody),
        }),
      );
      rows.push(
        latencyRow('poll 200 clusters (in-process, warm cache)', { clusters: body.resources.length }, full, { response_bytes: bytes }),
        latencyRow('poll 304 clusters (in-process, warm cache)', { clusters: body.resources.length }, notModified),
        latencyRow('poll 304 endpoints (in-process, warm cache)', { endpoints: 50 }, edsNotModified, {
          response_bytes_200: Buffer.byteLength(JSON.stringify(eds.body)),
        }),
      );

      // DynamoDB reads per poll: a fleet of nodes polling CDS, EDS and LDS, cold (TTL 0) and warm (TTL 2 s).
      for (const [label, ttl] of [
        ['cold cache (TTL 0)', 0],
        ['warm cache (TTL 2 s)', 2000],
      ] as const) {
        // Cold, every poll reads (TTL 0) at any size: 1,000 nodes show it; warm is measured at 10,000 too.
        for (const nodes of smoke ? [10] : ttl === 0 ? [1_000] : [1_000, 10_000]) {
          const poll = poller(ttl);
          // Every node has polled once before: the steady state is what costs money.
          for (let i = 0; i < nodes; i++) await poll('clusters', { node: node(i) });
          counter.reset();
          const start = process.hrtime.bigint();
          for (let i = 0; i < nodes; i++) {
            await poll('clusters', { node: node(i), version_info: body.version_info });
            await poll('endpoints', { node: node(i), resource_names: [`dep-${i % dependencies}`] });
          }
          const seconds = Number(process.hrtime.bigint() - start) / 1e9;
          const { reads, writes } = counter.totals();
          ctx.log(`${label}, ${nodes} nodes: ${(nodes * 2) / seconds} polls/s`);
          rows.push({
            name: `DynamoDB operations per poll, ${label}`,
            params: { nodes, polls: nodes * 2 },
            metrics: {
              reads_per_poll: round(reads / (nodes * 2), 4),
              node_status_writes_per_poll: round(writes / (nodes * 2), 4),
              polls_per_second_in_process: Math.round((nodes * 2) / seconds),
            },
          });
        }
      }

      ctx.log('reads per poll measured');
      rows.push(await nodeStatusWrites(cp, smoke));

      // Tracker memory for a large fleet held by one container.
      // A full collection before and after, so the figure is what the tracker holds, not garbage.
      setFlagsFromString('--expose-gc');
      const gc = runInNewContext('gc') as () => void;
      gc();
      const before = process.memoryUsage().heapUsed;
      const tracked = poller(60_000);
      const fleet = smoke ? 100 : 10_000;
      for (let i = 0; i < fleet; i++) await tracked('endpoints', { node: node(i), resource_names: ['dep-0'] });
      gc();
      const held = process.memoryUsage().heapUsed - before;
      // One more poll keeps the tracker alive through the measurement (else it is garbage too).
      await tracked('endpoints', { node: node(0), resource_names: ['dep-0'] });
      rows.push({
        name: 'node tracker memory in one container',
        params: { nodes: fleet },
        metrics: { heap_mb: round(held / 2 ** 20, 1) },
      });

      // Polls per second through the local HTTP server, in its own process, 304s and 200s.
      const server = await spawnLocalControlPlane();
      try {
        await seedOverHttp(server.url, dependencies);
        const httpNode = { id: 'caller-http', cluster: 'caller' };
        const first200 = (await (
          await fetch(`${server.url}/v3/discovery:clusters`, { method: 'POST', body: JSON.stringify({ node: httpNode }) })
        ).json()) as { version_info: string; resources: unknown[] };
        for (const [label, request] of [
          ['304 clusters', { node: httpNode, version_info: first200.version_info }],
          ['200 clusters', { node: httpNode }],
        ] as const) {
          const result = await autocannon({
            url: `${server.url}/v3/discovery:clusters`,
            method: 'POST',
            body: JSON.stringify(request),
            headers: { 'content-type': 'application/json' },
            connections: 10,
            duration: smoke ? 2 : 10,
          });
          const expectedStatus = label.startsWith('304') ? result.non2xx : result['2xx'];
          rows.push({
            name: `local server polls/s, ${label} (autocannon, 10 connections, separate process)`,
            params: { clusters: first200.resources.length },
            metrics: {
              requests_per_second: Math.round(result.requests.average),
              latency_p50_ms: result.latency.p50,
              latency_p99_ms: result.latency.p99,
              unexpected_status: result.requests.total - expectedStatus,
            },
          });
        }
      } finally {
        await server.stop();
      }
    } finally {
      await cp.close();
    }
    return rows;
  },
};

function latencyRow(name: string, params: BenchRow['params'], sorted: number[], extra: Record<string, number> = {}): BenchRow {
  return {
    name,
    params,
    metrics: { p50_ms: round(percentile(sorted, 50)), p99_ms: round(percentile(sorted, 99)), ...extra },
  };
}

/** seedOverHttp declares `count` dependencies and their caller through the management API. */
async function seedOverHttp(url: string, count: number): Promise<void> {
  const put = async (spec: Record<string, unknown>) => {
    const res = await fetch(`${url}/services/${String(spec.name)}`, { method: 'PUT', body: JSON.stringify(spec) });
    if (res.status >= 300) throw new Error(`seeding ${String(spec.name)}: ${res.status} ${await res.text()}`);
  };
  for (let d = 0; d < count; d++) await put({ name: `dep-${d}`, inboundPort: 15000, appPort: 8080, protocol: 'http' });
  await put({
    name: 'caller',
    inboundPort: 15000,
    appPort: 8080,
    protocol: 'http',
    dependencies: Array.from({ length: count }, (_, d) => ({ service: `dep-${d}`, localPort: 20000 + d })),
  });
}

/** seed declares `count` dependencies with 50 endpoints each, and one caller of all of them. */
async function seed(store: MeshStore, count: number): Promise<void> {
  for (let d = 0; d < count; d++) {
    const name = `dep-${d}`;
    await declareService(store, { name, inboundPort: 15000, appPort: 8080, protocol: d % 3 === 0 ? 'grpc' : 'http' }, defaultRenderSettings);
    await applyEndpointChanges(store, endpointsOf(name, d, 50));
  }
  await declareService(
    store,
    {
      name: 'caller',
      inboundPort: 15000,
      appPort: 8080,
      protocol: 'http',
      dependencies: Array.from({ length: count }, (_, d) => ({ service: `dep-${d}`, localPort: 20000 + d })),
    },
    defaultRenderSettings,
  );
}

/** endpointsOf builds `count` healthy ECS endpoints of a service, in three zones and two revisions. */
function endpointsOf(name: string, d: number, count: number) {
  return Array.from({ length: count }, (_, e) => ({
    kind: 'upsert' as const,
    endpoint: {
      service: name,
      id: `arn:aws:ecs:us-east-1:111122223333:task/prod/${name}-${e}`,
      address: `10.${d % 250}.${Math.floor(e / 250)}.${(e % 250) + 1}`,
      port: 15000,
      zone: `us-east-1${'abc'[e % 3]}`,
      health: 'healthy' as const,
      labels: { revision: String(12 + (e % 2)) },
      source: { kind: 'ecs-task' as const, eventId: `seed-${d}-${e}`, eventTime: '2026-11-25T10:00:00Z', orderingKey: 1 },
    },
  }));
}

/** itemBytes is an item's size as DynamoDB bills it: attribute names plus values (numbers approximated). */
function itemBytes(item: Record<string, unknown>): number {
  const valueBytes = (v: unknown): number => {
    if (typeof v === 'string') return Buffer.byteLength(v);
    if (typeof v === 'number') return Math.ceil(String(v).length / 2) + 1;
    if (typeof v === 'boolean' || v === null || v === undefined) return 1;
    if (v instanceof Uint8Array) return v.byteLength;
    if (Array.isArray(v)) return 3 + v.reduce((n: number, x) => n + 1 + valueBytes(x), 0);
    if (v instanceof Set) return [...v].reduce((n: number, x) => n + valueBytes(x), 0);
    return 3 + Object.entries(v as Record<string, unknown>).reduce((n, [k, x]) => n + 1 + Buffer.byteLength(k) + valueBytes(x), 0);
  };
  return Object.entries(item).reduce((n, [k, v]) => n + Buffer.byteLength(k) + valueBytes(v), 0);
}

/**
 * itemSizes declares callers of 10 and of every dependency and services of 10 and 100
 * endpoints, and reads back the stored (gzipped) SNAPSHOT and EDS items a poll reads (an
 * assignment's head and shards together).
 */
async function itemSizes(cp: Awaited<ReturnType<typeof startLocalControlPlane>>, dependencies: number): Promise<BenchRow[]> {
  const store = cp.runtime.store;
  const read = async (key: { pk: string; sk: string }) => {
    const out = await cp.runtime.doc.send(new GetCommand({ TableName: cp.runtime.config.tableName, Key: key }));
    if (!out.Item) throw new Error(`no item ${key.pk} ${key.sk}`);
    return itemBytes(out.Item);
  };
  const callerOf = async (name: string, count: number) =>
    declareService(
      store,
      {
        name,
        inboundPort: 15000,
        appPort: 8080,
        protocol: 'http',
        dependencies: Array.from({ length: count }, (_, d) => ({ service: `dep-${d}`, localPort: 20000 + d })),
      },
      defaultRenderSettings,
    );
  await callerOf('caller-10', Math.min(10, dependencies));
  const rows: BenchRow[] = [];
  for (const [service, deps] of [
    ['caller-10', Math.min(10, dependencies)],
    ['caller', dependencies],
  ] as const) {
    rows.push({ name: 'stored SNAPSHOT item (gzipped LDS/RDS/CDS)', params: { dependencies: deps }, metrics: { item_bytes: await read(keys.snapshot(service)) } });
  }
  for (const endpoints of [10, 100]) {
    const name = `eds-${endpoints}`;
    await declareService(store, { name, inboundPort: 15000, appPort: 8080, protocol: 'http' }, defaultRenderSettings);
    await applyEndpointChanges(store, endpointsOf(name, 0, endpoints));
    // An assignment is a head and its shards (docs/table-layout.md), read by a poll with one Query:
    // its read units follow their bytes together.
    const items = await cp.runtime.doc.send(
      new QueryCommand({
        TableName: cp.runtime.config.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :eds)',
        ExpressionAttributeValues: { ':pk': keys.endpointAssignment(name).pk, ':eds': keys.endpointAssignment(name).sk },
      }),
    );
    rows.push({
      name: 'stored EDS item (gzipped ClusterLoadAssignment)',
      params: { endpoints },
      metrics: { item_bytes: (items.Items ?? []).reduce((sum, item) => sum + itemBytes(item), 0), items: items.Count ?? 0 },
    });
  }
  return rows;
}

/**
 * nodeStatusWrites polls as one Envoy of a 10-dependency service does (CDS every 10-20 s, LDS
 * every 30-60 s, each EDS cluster every 5-10 s: the generated bootstrap's and render settings'
 * defaults) for a simulated hour, with nothing changing, through a tracker with the deployed
 * settings: the steady-state node-status writes and reads of one Envoy.
 */
async function nodeStatusWrites(cp: Awaited<ReturnType<typeof startLocalControlPlane>>, smoke: boolean): Promise<BenchRow> {
  // A client of its own, counted alone: the local control plane's timers (its change watcher's
  // log reads, status flushes) run in real time beside this simulated hour and must not count.
  const endpoint = await cp.runtime.doc.config.endpoint!();
  const doc = createDocumentClient({
    endpoint: `${endpoint.protocol}//${endpoint.hostname}:${endpoint.port}${endpoint.path}`,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const counter = new OperationCounter(doc);
  const store = new MeshStore(doc, cp.runtime.store.tableName);
  const deployed: FunctionConfig = readConfig({ TABLE_NAME: 'bench', AWS_REGION: 'us-east-1' });
  let clock = Date.parse('2026-11-25T10:00:00Z');
  const now = () => clock;
  const cache = new SnapshotCache(store, { ttlMs: deployed.snapshotCacheTtlMs, now });
  const tracker = new NodeTracker(store, { minWriteGapMs: deployed.nodeStatusMinWriteGapMs, livenessIntervalMs: deployed.nodeStatusLivenessMs, now });
  const poll = (type: XdsTypeName, body: Record<string, unknown>) =>
    handleDiscovery({ cache, tracker }, { method: 'POST', path: `/v3/discovery:${type}`, query: {}, headers: {}, body: JSON.stringify(body) });
  const node = { id: 'caller-10-0', cluster: 'caller-10' };
  const subs: { type: XdsTypeName; names: string[]; delayS: number; version: string; next: number }[] = [
    { type: 'clusters', names: [], delayS: 10, version: '', next: clock },
    { type: 'listeners', names: [], delayS: 30, version: '', next: clock },
    ...Array.from({ length: 10 }, (_, d) => ({ type: 'endpoints' as const, names: [`dep-${d}`], delayS: 5, version: '', next: clock })),
  ];
  const hours = smoke ? 0.1 : 1;
  const end = clock + hours * 3600_000;
  // The first answers (200s) are not the steady state: accept them before counting.
  for (const sub of subs) {
    const answer = await poll(sub.type, { node, ...(sub.names.length ? { resource_names: sub.names } : {}) });
    sub.version = (answer.body as { version_info: string }).version_info;
  }
  counter.reset();
  let polls = 0;
  for (;;) {
    const sub = subs.reduce((a, b) => (b.next < a.next ? b : a));
    if (sub.next > end) break;
    clock = sub.next;
    await poll(sub.type, { node, version_info: sub.version, ...(sub.names.length ? { resource_names: sub.names } : {}) });
    polls++;
    sub.next = clock + sub.delayS * 1000 * (1 + Math.random()) + 5;
  }
  const { reads, writes } = counter.totals();
  const status = await cp.runtime.doc.send(new GetCommand({ TableName: store.tableName, Key: keys.nodeStatus('caller-10', node.id) }));
  return {
    name: 'node status per Envoy, steady state (simulated hour, deployed tracker and cache settings)',
    params: { subscriptions: subs.length, liveness_s: deployed.nodeStatusLivenessMs / 1000, cache_ttl_ms: deployed.snapshotCacheTtlMs },
    metrics: {
      polls_per_hour: round(polls / hours, 0),
      node_status_writes_per_hour: round(writes / hours, 1),
      reads_per_poll_one_envoy: round(reads / polls, 4),
      node_status_item_bytes: status.Item ? itemBytes(status.Item) : NaN,
    },
  };
}
