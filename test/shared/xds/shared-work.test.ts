import { declareService } from '../../../shared/state/catalog';
import { applyEndpointChanges } from '../../../shared/state/endpoints';
import { defaultRenderSettings } from '../../../shared/render/settings';
import { SnapshotCache } from '../../../shared/xds/snapshot-cache';
import { NodeTracker } from '../../../shared/xds/node-tracker';
import { SelectionMemo } from '../../../shared/xds/selection-memo';
import { discover } from '../../../shared/xds/discovery';
import { XdsTypeName } from '../../../shared/envoy/resources';
import { MeshStore } from '../../../shared/store/mesh-store';
import { NodeStatus } from '../../../shared/model/node-status';
import { useDynalite } from '../../support/dynamo';
import { endpoint, orders, payments } from '../../server/fixtures';

const dynalite = useDynalite();

const envoy = (id: string) => ({ id, cluster: 'orders', user_agent_name: 'envoy' });
const grpcClient = (id: string) => ({ id, cluster: 'orders', user_agent_name: 'gRPC Node Pure JS' });

describe('work shared among the requests of a change', () => {
  let store: MeshStore;
  beforeEach(async () => {
    store = await dynalite.newStore();
    await declareService(store, payments, defaultRenderSettings);
    await declareService(store, orders, defaultRenderSettings);
    await applyEndpointChanges(store, [{ kind: 'upsert', endpoint: endpoint('t1', '10.0.0.1') }]);
  });

  const questions: [string, XdsTypeName, readonly string[], typeof envoy][] = [
    ['clusters of an Envoy', 'clusters', [], envoy],
    ['listeners of a gRPC client', 'listeners', [], grpcClient],
    ['named routes of an Envoy', 'routes', ['payments'], envoy],
    ['endpoints of an Envoy', 'endpoints', ['payments'], envoy],
    ['endpoints of a gRPC client', 'endpoints', ['payments'], grpcClient],
  ];

  it.each(questions)('answers the %s with a memo exactly as without one, and shares the selection among nodes', async (_, type, names, node) => {
    const cache = new SnapshotCache(store, { ttlMs: 60_000 });
    const selections = new SelectionMemo();
    const plain = await discover({ cache }, { type, node: node('orders-0'), resourceNames: names, versionInfo: '' });
    const first = await discover({ cache, selections }, { type, node: node('orders-1'), resourceNames: names, versionInfo: '' });
    const second = await discover({ cache, selections }, { type, node: node('orders-2'), resourceNames: names, versionInfo: '' });
    if (plain.kind !== 'response' || first.kind !== 'response' || second.kind !== 'response') throw new Error(`not answered: ${plain.kind} ${first.kind} ${second.kind}`);
    expect({ ...first, nonce: '', poll: undefined }).toEqual({ ...plain, nonce: '', poll: undefined });
    expect(second.resources).toBe(first.resources);
    expect(selections.stats).toEqual({ hits: 1, misses: 1 });
  });

  it('makes a new selection once the cache has read the items again, and the new state is what it answers', async () => {
    const cache = new SnapshotCache(store, { ttlMs: 60_000 });
    const selections = new SelectionMemo();
    const ask = () => discover({ cache, selections }, { type: 'endpoints', node: envoy('orders-1'), resourceNames: ['payments'], versionInfo: '' });
    const before = await ask();
    await applyEndpointChanges(store, [{ kind: 'upsert', endpoint: endpoint('t2', '10.0.0.2') }]);
    expect(await ask()).toMatchObject({ versionInfo: (before as { versionInfo: string }).versionInfo });
    await cache.rendered('orders', ['payments'], false, { fresh: true });
    const after = await ask();
    expect(after.kind === 'response' && after.versionInfo).not.toBe((before as { versionInfo: string }).versionInfo);
    expect(selections.stats.misses).toBe(2);
  });

  it('forgets the oldest questions beyond its bound', () => {
    const selections = new SelectionMemo(2);
    const made = (v: string) => () => ({ version: v, resources: [] });
    selections.select('a', [1], made('a'));
    selections.select('b', [1], made('b'));
    selections.select('c', [1], made('c'));
    expect(selections.size).toBe(2);
    expect(selections.select('a', [1], made('a2')).version).toBe('a2');
    expect(selections.select('c', [1], made('c2')).version).toBe('c');
  });

  it('reads the table once for misses that come together, and a fresh read does not join an older one', async () => {
    const cache = new SnapshotCache(store, { ttlMs: 60_000 });
    const read = await Promise.all(Array.from({ length: 20 }, () => cache.rendered('orders', ['payments'])));
    expect(cache.stats.reads).toBe(1);
    expect(new Set(read.map((r) => r.snapshot)).size).toBe(1);
    expect(read[0]!.assignments.get('payments')).toBeDefined();
    await Promise.all([cache.rendered('payments', [], false, { fresh: true }), cache.rendered('payments', [], false, { fresh: true })]);
    expect(cache.stats.reads).toBe(3);
  });
});

describe('node status written behind the poll', () => {
  /** A table whose status writes wait until released: the real table behind a gate. */
  const gatedStore = (store: MeshStore) => {
    let release: () => void = () => undefined;
    let gate = new Promise<void>((resolve) => (release = resolve));
    const puts: NodeStatus[] = [];
    return {
      puts,
      open: () => release(),
      close: () => (gate = new Promise<void>((resolve) => (release = resolve))),
      getNodeStatus: (service: string, nodeId: string) => store.getNodeStatus(service, nodeId),
      putNodeStatus: async (status: NodeStatus) => {
        puts.push(status);
        await gate;
        await store.putNodeStatus(status);
      },
    };
  };
  const poll = (reportedVersion: string, currentVersion: string) => ({
    nodeId: 'orders-1',
    service: 'orders',
    type: 'clusters' as const,
    resourceNames: [],
    reportedVersion,
    currentVersion,
  });

  it('answers before its write is done, keeps one write per node in flight, and writes later what changed meanwhile', async () => {
    const store = await dynalite.newStore();
    const table = gatedStore(store);
    const tracker = new NodeTracker(table, { minWriteGapMs: 0, writeBehind: true });
    await tracker.observe(poll('', 'v1'));
    await tracker.observe(poll('v1', 'v1'));
    expect(table.puts).toHaveLength(1);
    expect(tracker.status('orders-1')?.subscriptions.clusters?.appliedVersion).toBe('v1');

    table.open();
    for (let i = 0; i < 1000 && (await store.getNodeStatus('orders', 'orders-1')) === undefined; i++) await new Promise((r) => setTimeout(r, 5));
    expect((await store.getNodeStatus('orders', 'orders-1'))?.subscriptions.clusters?.appliedVersion).toBe('');
    await tracker.observe(poll('v1', 'v1'));
    expect(table.puts).toHaveLength(2);
    for (let i = 0; i < 1000 && (await store.getNodeStatus('orders', 'orders-1'))?.subscriptions.clusters?.appliedVersion !== 'v1'; i++) await new Promise((r) => setTimeout(r, 5));
    expect((await store.getNodeStatus('orders', 'orders-1'))?.subscriptions.clusters?.appliedVersion).toBe('v1');
    // The waits above are bounded by their loops, not by Jest's 5 s default, on a busy machine.
  }, 30_000);
});
