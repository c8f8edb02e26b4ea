import { declareService } from '../../../shared/state/catalog';
import { applyEndpointChanges } from '../../../shared/state/endpoints';
import { RenderSettings, defaultRenderSettings } from '../../../shared/render/settings';
import { checkSnapshotConsistency } from '../../../shared/render/snapshot';
import { handleDiscovery } from '../../../shared/api/discovery';
import { DiscoveryDeps, discover } from '../../../shared/xds/discovery';
import { SnapshotCache } from '../../../shared/xds/snapshot-cache';
import { NodeTracker } from '../../../shared/xds/node-tracker';
import { XdsTypeName } from '../../../shared/envoy/resources';
import { defaults } from '../../../shared/config';
import { MeshStore } from '../../../shared/store/mesh-store';
import { useDynalite } from '../../support/dynamo';
import { assertConformant } from '../../support/envoy-schema';
import { EnvoyPoller, Transport } from '../../support/envoy-poller';
import { endpoint as fixtureEndpoint } from '../render/fixtures';
import { ledger, orders } from '../../support/removal-specs';

const dynalite = useDynalite();

const payments = { name: 'payments', inboundPort: 15000, appPort: 8080, protocol: 'http' };
const audit = { name: 'audit', inboundPort: 15000, appPort: 8080, protocol: 'tcp' };

/** A container of the REST tier: its own cache and its own node tracker. */
function container(store: MeshStore, extra: Partial<DiscoveryDeps> = {}): { deps: DiscoveryDeps; transport: Transport } {
  const deps: DiscoveryDeps = { cache: new SnapshotCache(store, { ttlMs: 0 }), tracker: new NodeTracker(store, { minWriteGapMs: 0 }), ...extra };
  const transport: Transport = async (path, body) => {
    const answer = await handleDiscovery(deps, { method: 'POST', path, query: {}, headers: {}, body: JSON.stringify(body) });
    return { status: answer.status, body: answer.body };
  };
  return { deps, transport };
}

async function meshWith(...deps: string[]): Promise<MeshStore> {
  return meshRenderedWith(defaultRenderSettings, ...deps);
}

async function meshRenderedWith(settings: RenderSettings, ...deps: string[]): Promise<MeshStore> {
  const store = await dynalite.newStore();
  for (const spec of [payments, ledger, audit]) await declareService(store, spec, settings);
  await applyEndpointChanges(
    store,
    ['payments', 'ledger', 'audit'].map((s, i) => ({ kind: 'upsert' as const, endpoint: fixtureEndpoint(s, `${s}-1`, { address: `10.0.0.${i + 1}` }) })),
  );
  await declareService(store, orders(...deps), settings);
  return store;
}

/** The two ways routes reach Envoys (render/settings.ts): over RDS, or inline in their listeners. */
const routeDeliveries: [string, RenderSettings][] = [
  ['routes over RDS', defaultRenderSettings],
  ['routes inline in listeners', { ...defaultRenderSettings, routeDelivery: 'inline' }],
];

/** brokenReferences lists what a node's listeners and routes send to that its clusters lack: a 503 in Envoy. */
function brokenReferences(p: EnvoyPoller): string[] {
  const held = { listeners: p.held('listeners'), routes: p.held('routes'), clusters: p.held('clusters') };
  // Route names not polled yet only keep a listener warming; a missing cluster is the failure.
  return checkSnapshotConsistency(held).filter((problem) => problem.includes('not in CDS'));
}

const names = (resources: readonly Record<string, unknown>[]) => resources.map((r) => String(r.name)).sort();

function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]));
}
/** Every order of a round of REST polls; a third of them where a case is less tangled, to keep the suite fast. */
const allOrders = permutations<XdsTypeName>(['clusters', 'endpoints', 'listeners', 'routes']);
const someOrders = allOrders.filter((_, i) => i % 3 === 0);

describe.each(routeDeliveries)('make before break for removals (REST), %s', (_delivery, settings) => {
  it.each<[string, string[], string[], string, XdsTypeName[][]]>([
    ['a dependency removed', ['payments', 'ledger'], ['ledger'], 'payments', someOrders],
    ['one dependency added and another removed in one change', ['payments'], ['ledger'], 'payments', allOrders],
    ['a TCP dependency replaced by an HTTP one', ['audit'], ['payments'], 'audit', someOrders],
  ])('across %s, no poll order leaves a listener or route without its cluster, and the removed cluster goes', async (_what, before, after, removed, pollOrders) => {
    const store = await meshRenderedWith(settings, ...before);
    const { transport } = container(store);
    const violations: string[] = [];
    const nodes = pollOrders.map(
      (order, i) =>
        [
          order,
          new EnvoyPoller({
            nodeId: `orders-${i}`,
            service: 'orders',
            transport,
            afterPoll: (p, key) => violations.push(...brokenReferences(p).map((v) => `${p.nodeId} after ${key}: ${v}`)),
          }),
        ] as const,
    );
    for (const [, p] of nodes) for (let round = 0; round < 2; round++) await p.pollOnce();
    for (const [, p] of nodes) expect(names(p.held('clusters'))).toContain(removed);

    await declareService(store, orders(...after), settings);
    const current = (await store.getSnapshot('orders'))!;
    expect(names(current.retiringClusters!.map((r) => r.resource))).toEqual([removed]);
    expect(current.resources.routes!.length === 0).toBe(settings.routeDelivery === 'inline');
    const rounds = new Map<string, number>();
    for (const [order, p] of nodes) {
      for (let round = 1; round <= 8; round++) {
        for (const type of order) await p.pollType(type);
        if (p.version('clusters') === current.versions.clusters && p.version('listeners') === current.versions.listeners) {
          rounds.set(p.nodeId, round);
          break;
        }
      }
    }
    expect(violations).toEqual([]);
    for (const [, p] of nodes) {
      expect({ node: p.nodeId, converged: rounds.has(p.nodeId), clusters: names(p.held('clusters')) }).toEqual({
        node: p.nodeId,
        converged: true,
        clusters: names(current.resources.clusters!),
      });
      expect(p.resources('listeners')).toEqual(current.resources.listeners);
    }
    // Some orders had to go through the transitional set: the removal was held, not merely lucky.
    expect(Math.max(...rounds.values())).toBeGreaterThan(1);
  });
});

describe('make before break for removals (REST)', () => {

  it('serves the transitional set (current and retiring clusters, strictly valid) while listeners still route to the removed cluster', async () => {
    const store = await meshWith('payments');
    const { transport, deps } = container(store);
    const p = new EnvoyPoller({ nodeId: 'orders-1', service: 'orders', transport });
    for (let round = 0; round < 2; round++) await p.pollOnce();
    const before = p.version('clusters');
    await declareService(store, orders('ledger'), defaultRenderSettings);
    const current = (await store.getSnapshot('orders'))!;

    const answer = await transport('/v3/discovery:clusters', { node: { id: 'orders-1', cluster: 'orders' }, version_info: before });
    expect(answer.status).toBe(200);
    const body = answer.body as { version_info: string; resources: Record<string, unknown>[] };
    assertConformant(body);
    expect(names(body.resources)).toEqual([...names(current.resources.clusters!), 'payments'].sort());
    expect(body.version_info).not.toBe(current.versions.clusters);
    // EDS of the retiring cluster is still answered while CDS serves it.
    const eds = await discover(deps, { type: 'endpoints', node: { id: 'orders-1', cluster: 'orders' }, resourceNames: ['payments'], versionInfo: '' });
    expect(eds.kind).toBe('response');
  });

  it('serves an Envoy on ADS its retiring clusters in the ADS forms, under ADS versions', async () => {
    const store = await meshWith('payments');
    const { deps } = container(store);
    const node = { id: 'orders-ads', cluster: 'orders', metadata: { 'mesh.xds': 'ads' } };
    const first = await discover(deps, { type: 'clusters', node, resourceNames: [], versionInfo: '' });
    if (first.kind !== 'response') throw new Error(first.kind);
    await declareService(store, orders('ledger'), defaultRenderSettings);

    const answer = await discover(deps, { type: 'clusters', node, resourceNames: [], versionInfo: first.versionInfo });
    if (answer.kind !== 'response') throw new Error(answer.kind);
    expect(names(answer.resources)).toEqual(['ledger', 'local_app', 'payments']);
    const retiring = answer.resources.find((c) => c.name === 'payments')!;
    expect((retiring.eds_cluster_config as Record<string, unknown>).eds_config).toEqual({ ads: {}, resource_api_version: 'V3' });
    assertConformant({ version_info: answer.versionInfo, type_url: answer.typeUrl, resources: answer.resources });
    // The REST node's transitional set is another version: the forms differ.
    const rest = await discover(deps, { type: 'clusters', node: { id: 'orders-rest', cluster: 'orders' }, resourceNames: [], versionInfo: 'x' });
    if (rest.kind !== 'response') throw new Error(rest.kind);
    expect(names(rest.resources)).toEqual(['ledger', 'local_app', 'payments']);
    expect(rest.versionInfo).not.toBe(answer.versionInfo);
  });

  describe('a node this container does not know', () => {
    /** A node of orders (payments) that has its config from container a, then orders switched to ledger. */
    async function pollerThenSwitch() {
      const store = await meshWith('payments');
      const a = container(store);
      const p = new EnvoyPoller({ nodeId: 'orders-1', service: 'orders', transport: a.transport });
      for (let round = 0; round < 2; round++) await p.pollOnce();
      await declareService(store, orders('ledger'), defaultRenderSettings);
      const current = (await store.getSnapshot('orders'))!;
      return { store, a, p, current };
    }

    it('is served the retiring clusters (the safe side), and keeps the current set once it has it', async () => {
      const { store, p, current } = await pollerThenSwitch();
      const node = { id: 'orders-1', cluster: 'orders' };

      for (const other of [container(store), container(store, { tracker: undefined })]) {
        const fresh = await other.transport('/v3/discovery:clusters', { node: { id: 'orders-new', cluster: 'orders' } });
        expect(names((fresh.body as { resources: Record<string, unknown>[] }).resources)).toContain('payments');
      }
      for (let round = 0; round < 4; round++) await p.pollOnce();
      expect(p.version('clusters')).toBe(current.versions.clusters);
      // Another container, which never saw the node's listeners, does not hand it back what it dropped.
      for (const other of [container(store), container(store, { tracker: undefined })]) {
        expect((await other.transport('/v3/discovery:clusters', { node, version_info: current.versions.clusters })).status).toBe(304);
      }
    });

    it('waits in another container until that container has seen its listeners and routes applied', async () => {
      const { store, a, current } = await pollerThenSwitch();
      // CDS goes to container b, LDS/RDS/EDS to a: b never sees the node's listeners or routes.
      const b = container(store);
      let clustersOnlyToB = true;
      const viaB = new EnvoyPoller({
        nodeId: 'orders-1',
        service: 'orders',
        transport: (path, body) => (!clustersOnlyToB || path.endsWith(':clusters') ? b.transport(path, body) : a.transport(path, body)),
      });
      for (let round = 0; round < 5; round++) await viaB.pollOnce();
      expect(names(viaB.held('clusters'))).toContain('payments');
      expect(viaB.version('listeners')).toBe(current.versions.listeners);
      // Once its polls of listeners and routes reach b too, b lets the cluster go.
      clustersOnlyToB = false;
      for (let round = 0; round < 2; round++) await viaB.pollOnce();
      expect(names(viaB.held('clusters'))).toEqual(names(current.resources.clusters!));
    });
  });

  it('lets retiring clusters go when their time is up, by the injected clock', async () => {
    const store = await meshWith('payments');
    await declareService(store, orders('ledger'), defaultRenderSettings);
    const current = (await store.getSnapshot('orders'))!;
    const retiredAt = Date.parse(current.retiringClusters![0]!.retiredAt);
    const node = { id: 'orders-unknown', cluster: 'orders' };
    const ask = (now: number, type: XdsTypeName, resourceNames: string[] = []) =>
      discover({ cache: new SnapshotCache(store, { ttlMs: 0 }), now: () => now }, { type, node, resourceNames, versionInfo: '' });

    const before = await ask(retiredAt + defaults.retiringClusterTtlMs - 1, 'clusters');
    expect(before.kind === 'response' && names(before.resources)).toContain('payments');
    expect(before.kind === 'response' && before.poll.retiring).toEqual(['payments']);
    const after = await ask(retiredAt + defaults.retiringClusterTtlMs, 'clusters');
    expect(after.kind === 'response' && [after.versionInfo, names(after.resources)]).toEqual([current.versions.clusters, names(current.resources.clusters!)]);
    expect((await ask(retiredAt + defaults.retiringClusterTtlMs - 1, 'endpoints', ['payments'])).kind).toBe('response');
    const eds = await ask(retiredAt + defaults.retiringClusterTtlMs, 'endpoints', ['payments']);
    expect(eds.kind === 'refusal' && eds.refusal.kind).toBe('refused');
  });

  it('keeps the proxyless forms\' dropped clusters the same way', async () => {
    const store = await meshWith('payments');
    await declareService(store, orders('ledger'), defaultRenderSettings);
    const current = (await store.getSnapshot('orders'))!;
    const node = { id: 'orders-grpc', cluster: 'orders', user_agent_name: 'gRPC Node Pure JS' };
    const answer = await discover({ cache: new SnapshotCache(store, { ttlMs: 0 }) }, { type: 'clusters', node, resourceNames: [], versionInfo: '' });
    expect(answer.kind).toBe('response');
    if (answer.kind !== 'response') return;
    const expected = [...names(current.proxyless!.resources.clusters!), ...names(current.proxyless!.retiringClusters!.map((r) => r.resource))].sort();
    expect(names(answer.resources)).toEqual(expected);
    expect(answer.poll.retiring?.length).toBeGreaterThan(0);
    assertConformant({ version_info: answer.versionInfo, type_url: answer.typeUrl, resources: answer.resources });
  });
});
