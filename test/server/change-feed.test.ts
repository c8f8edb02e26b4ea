import { declareService } from '../../shared/state/catalog';
import { applyEndpointChanges } from '../../shared/state/endpoints';
import { defaultRenderSettings } from '../../shared/render/settings';
import { SnapshotCache } from '../../shared/xds/snapshot-cache';
import { NodeTracker } from '../../shared/xds/node-tracker';
import { typeUrls } from '../../shared/envoy/resources';
import { MeshStore } from '../../shared/store/mesh-store';
import { AdsServer, startAdsServer } from '../../server/ads-server';
import { ChangeWatcher } from '../../server/change-watcher';
import { useDynalite } from '../support/dynamo';
import { AdsResponse, AdsTestClient } from '../support/ads-client';
import { FaultyDynamoDb, faultyDynamoDb } from '../support/dynamo-faults';
import { endpoint, orders, payments } from './fixtures';

const dynalite = useDynalite();

const envoyNode = (id: string, cluster: string) => ({ id, cluster, user_agent_name: 'envoy' });
const billing = { name: 'billing', inboundPort: 15000, appPort: 8080, protocol: 'http' };

/**
 * A push-tier server whose cache and change-log reads go through a fault-injecting client
 * (so its DynamoDB requests are counted and a replica can lag), over a table that the test
 * writes through an ordinary store, as the lifecycle and catalog functions would.
 */
interface Plane {
  readonly store: MeshStore;
  readonly faults: FaultyDynamoDb;
  readonly server: AdsServer;
  readonly watcher: ChangeWatcher;
  readonly clients: AdsTestClient[];
}

async function plane(services: readonly object[], options: { now?: () => number } = {}): Promise<Plane> {
  const store = await dynalite.newStore();
  for (const spec of services) await declareService(store, spec, defaultRenderSettings);
  const faults = faultyDynamoDb(dynalite.db().endpoint, store.tableName);
  const serverStore = new MeshStore(faults.doc, store.tableName);
  const cache = new SnapshotCache(serverStore, { ttlMs: 60_000 });
  const server = await startAdsServer({ cache, tracker: new NodeTracker(store, { minWriteGapMs: 0 }) }, '127.0.0.1', 0);
  // Never started, no sweep: a tick happens exactly when the test pokes.
  const watcher = new ChangeWatcher(cache, () => server.streams, {
    intervalMs: 60_000,
    log: serverStore.changes,
    sweepIntervalMs: 0,
    ...options,
  });
  return { store, faults, server, watcher, clients: [] };
}

/** subscribe opens a stream for a node, asks for one type, takes the answer and ACKs it. */
async function subscribe(p: Plane, node: string, service: string, type: keyof typeof typeUrls, names: string[] = []): Promise<{ client: AdsTestClient; first: AdsResponse }> {
  const client = new AdsTestClient(p.server.port);
  p.clients.push(client);
  client.send({ node: envoyNode(node, service), type_url: typeUrls[type], resource_names: names });
  const first = await client.next();
  client.send({ version_info: first.version_info, type_url: typeUrls[type], resource_names: names, response_nonce: first.nonce });
  return { client, first };
}

async function close(p: Plane): Promise<void> {
  for (const c of p.clients) c.close();
  await p.watcher.stop();
  await p.server.close();
}

/** readsOfOneTick counts the DynamoDB requests one tick of the watcher makes. */
async function readsOfOneTick(p: Plane): Promise<Record<string, number>> {
  const from = p.faults.calls.length;
  await p.watcher.poke();
  const counts: Record<string, number> = {};
  for (const call of p.faults.calls.slice(from)) {
    const key = `${call.operation}${call.consistent ? ' (consistent)' : ''}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

describe('the change watcher following the change log', () => {
  it('wakes only the streams subscribed to what changed: an assignment its callers’ EDS streams, a snapshot its own service’s streams', async () => {
    const p = await plane([payments, orders, billing]);
    try {
      await applyEndpointChanges(p.store, [{ kind: 'upsert', endpoint: endpoint('t1', '10.0.0.1') }]);
      const caller = await subscribe(p, 'orders-1', 'orders', 'endpoints', ['payments']);
      await subscribe(p, 'orders-2', 'orders', 'clusters');
      await subscribe(p, 'payments-1', 'payments', 'clusters');
      await subscribe(p, 'billing-1', 'billing', 'clusters');
      await p.watcher.poke(); // the records of the set-up, whatever the overlap window still holds

      const woken = p.watcher.stats.wakes;
      await applyEndpointChanges(p.store, [{ kind: 'upsert', endpoint: endpoint('t2', '10.0.0.2') }]);
      await p.watcher.poke();
      expect(p.watcher.stats.wakes - woken).toBe(1); // orders-1's stream, subscribed to payments' EDS
      const pushed = await caller.client.next();
      expect(JSON.stringify(pushed.resources)).toContain('10.0.0.2');

      // Changes of several items in one tick are read back together: the snapshots in one batch,
      // each assignment (its head and shards) in one Query.
      await applyEndpointChanges(p.store, [{ kind: 'upsert', endpoint: endpoint('t3', '10.0.0.3') }]);
      await declareService(p.store, { ...orders, appPort: 8082 }, defaultRenderSettings);
      expect(await readsOfOneTick(p)).toEqual({ 'Query (consistent)': 1, BatchGetItem: 1, Query: 1 });

      const beforeSnapshot = p.watcher.stats.wakes;
      await declareService(p.store, { ...billing, appPort: 8081 }, defaultRenderSettings);
      await p.watcher.poke();
      expect(p.watcher.stats.wakes - beforeSnapshot).toBe(1); // billing-1 only
    } finally {
      await close(p);
    }
  });

  it('wakes a proxyless client subscribed to a subset cluster when its service’s assignment changes', async () => {
    const split = { subsets: [{ labels: { revision: '1' }, weight: 80 }, { labels: { revision: '2' }, weight: 20 }] };
    const p = await plane([payments, { ...orders, dependencies: [{ service: 'payments', localPort: 9001, split }] }]);
    try {
      const labelled = (id: string, address: string, revision: string) => ({ ...endpoint(id, address), labels: { revision } });
      await applyEndpointChanges(p.store, [{ kind: 'upsert', endpoint: labelled('t1', '10.0.0.1', '1') }, { kind: 'upsert', endpoint: labelled('t2', '10.0.0.2', '2') }]);
      const client = new AdsTestClient(p.server.port);
      p.clients.push(client);
      const names = ['payments|revision=2'];
      client.send({ node: { id: 'orders-grpc', cluster: 'orders', user_agent_name: 'gRPC Node Pure JS' }, type_url: typeUrls.endpoints, resource_names: names });
      const first = await client.next();
      expect(JSON.stringify(first.resources)).toContain('10.0.0.2');
      client.send({ version_info: first.version_info, type_url: typeUrls.endpoints, resource_names: names, response_nonce: first.nonce });
      await p.watcher.poke();

      const woken = p.watcher.stats.wakes;
      await applyEndpointChanges(p.store, [{ kind: 'upsert', endpoint: labelled('t3', '10.0.0.3', '2') }]);
      await p.watcher.poke();
      expect(p.watcher.stats.wakes - woken).toBe(1);
      const pushed = await client.next();
      expect(JSON.stringify(pushed.resources)).toContain('10.0.0.3');
    } finally {
      await close(p);
    }
  });

  it('makes the same DynamoDB requests per idle tick for 1 and for 50 services with streams: one consistent Query', async () => {
    const idleTick = async (count: number) => {
      const specs = Array.from({ length: count }, (_, i) => ({ name: `svc-${i}`, inboundPort: 15000, appPort: 8080, protocol: 'http' }));
      const p = await plane(specs);
      try {
        for (const spec of specs) await subscribe(p, `${spec.name}-1`, spec.name, 'clusters');
        await p.watcher.poke(); // the declares' records still in the window
        const tick = await readsOfOneTick(p);
        expect(p.server.streams.size).toBe(count);
        // The sweep reads every service's snapshot, 100 items per request.
        const from = p.faults.calls.length;
        await p.watcher.sweep();
        expect(p.faults.calls.slice(from).map((c) => c.operation)).toEqual(['BatchGetItem']);
        return tick;
      } finally {
        await close(p);
      }
    };
    const one = await idleTick(1);
    const fifty = await idleTick(50);
    expect(one).toEqual({ 'Query (consistent)': 1 });
    expect(fifty).toEqual(one);
  });

  it('reads a changed item consistently when a lagging replica answers with the version before the record’s, and pushes the new one', async () => {
    const p = await plane([payments, orders]);
    try {
      await applyEndpointChanges(p.store, [{ kind: 'upsert', endpoint: endpoint('t1', '10.0.0.1') }]);
      const caller = await subscribe(p, 'orders-1', 'orders', 'endpoints', ['payments']);
      await p.watcher.poke();
      await p.faults.lag(); // eventually consistent reads answer from the table as it is now
      await applyEndpointChanges(p.store, [{ kind: 'upsert', endpoint: endpoint('t2', '10.0.0.2') }]);
      const tick = await readsOfOneTick(p);
      // The log, the replica's (old) assignment, then the table's (the log's Query and the
      // assignment's consistent one alike).
      expect(tick).toEqual({ 'Query (consistent)': 2, Query: 1 });
      expect(p.watcher.stats.consistentRereads).toBe(1);
      const pushed = await caller.client.next();
      expect(pushed.version_info).not.toBe(caller.first.version_info);
      expect(JSON.stringify(pushed.resources)).toContain('10.0.0.2');
    } finally {
      p.faults.catchUp();
      await close(p);
    }
  });

  it('drops from the cache a changed item no stream of this server subscribes to, so a later stream reads it anew', async () => {
    const p = await plane([payments, orders]);
    try {
      await applyEndpointChanges(p.store, [{ kind: 'upsert', endpoint: endpoint('t1', '10.0.0.1') }]);
      const first = await subscribe(p, 'orders-1', 'orders', 'endpoints', ['payments']);
      first.client.close();
      // Bounded wait for the server to see the stream gone (event-driven close; the bound only ends a failing test).
      for (let i = 0; i < 200 && p.server.streams.size > 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(p.server.streams.size).toBe(0);
      await p.watcher.poke();
      await applyEndpointChanges(p.store, [{ kind: 'upsert', endpoint: endpoint('t2', '10.0.0.2') }]);
      const tick = await readsOfOneTick(p);
      expect(tick).toEqual({ 'Query (consistent)': 1 }); // nobody here to refresh it for
      const later = await subscribe(p, 'orders-2', 'orders', 'endpoints', ['payments']);
      expect(JSON.stringify(later.first.resources)).toContain('10.0.0.2');
    } finally {
      await close(p);
    }
  });

  it('wakes, at the sweep, the streams of a service whose change record it missed (a writer’s clock further behind than the overlap)', async () => {
    // The server's clock is an hour ahead of the writers': every record falls behind its window.
    const p = await plane([payments, orders], { now: () => Date.now() + 3_600_000 });
    try {
      await applyEndpointChanges(p.store, [{ kind: 'upsert', endpoint: endpoint('t1', '10.0.0.1') }]);
      const caller = await subscribe(p, 'orders-1', 'orders', 'endpoints', ['payments']);
      await p.watcher.sweep(); // the first sweep learns the versions (and wakes everyone once)
      await applyEndpointChanges(p.store, [{ kind: 'upsert', endpoint: endpoint('t2', '10.0.0.2') }]);
      const woken = p.watcher.stats.wakes;
      await p.watcher.poke();
      expect(p.watcher.stats.records).toBe(0);
      expect(p.watcher.stats.wakes).toBe(woken);
      await p.watcher.sweep();
      expect(p.watcher.stats.wakes).toBe(woken + 1);
      let pushed = await caller.client.next();
      // The first sweep's wake may have answered (the same version) before: take the newest.
      while (!JSON.stringify(pushed.resources).includes('10.0.0.2')) pushed = await caller.client.next();
      expect(pushed.version_info).not.toBe(caller.first.version_info);
    } finally {
      await close(p);
    }
  });
});
