import { declareService } from '../../../shared/state/catalog';
import { applyEndpointChanges } from '../../../shared/state/endpoints';
import { defaultRenderSettings } from '../../../shared/render/settings';
import { handleDiscovery, DiscoveryAnswer } from '../../../shared/api/discovery';
import { SnapshotCache } from '../../../shared/xds/snapshot-cache';
import { NodeTracker } from '../../../shared/xds/node-tracker';
import { discover } from '../../../shared/xds/discovery';
import { typeUrls, XdsTypeName } from '../../../shared/envoy/resources';
import { MeshStore } from '../../../shared/store/mesh-store';
import { Endpoint } from '../../../shared/model/endpoint';
import { useDynalite } from '../../support/dynamo';
import { assertConformant } from '../../support/envoy-schema';
import { EnvoyPoller } from '../../support/envoy-poller';

const dynalite = useDynalite();

/** faults makes every DynamoDB call of the shared client fail while `on` is set: an outage of the table. */
const faults = { on: false };
beforeAll(() => {
  dynalite.db().doc.middlewareStack.add(
    (next) => async (args) => {
      if (faults.on) throw Object.assign(new Error('connect ECONNREFUSED (injected)'), { name: 'NetworkingError', $retryable: undefined });
      return next(args);
    },
    { step: 'initialize', name: 'injectedFaults' },
  );
});
afterEach(() => {
  faults.on = false;
});

const payments = { name: 'payments', inboundPort: 15000, appPort: 8080, protocol: 'http' };
const ledger = { name: 'ledger', inboundPort: 15000, appPort: 8080, protocol: 'grpc' };
const orders = { name: 'orders', inboundPort: 15000, appPort: 8080, protocol: 'http', dependencies: [{ service: 'payments', localPort: 9001 }] };

function endpoint(id: string, address: string, orderingKey: number, health: Endpoint['health'] = 'healthy'): Endpoint {
  return {
    service: 'payments',
    id,
    address,
    port: 15000,
    zone: 'us-east-1a',
    health,
    labels: {},
    source: { kind: 'ecs-task', eventId: `e-${id}-${orderingKey}`, eventTime: '2026-11-25T10:00:00Z', orderingKey },
  };
}

interface Plane {
  store: MeshStore;
  cache: SnapshotCache;
  tracker: NodeTracker;
  poll(type: XdsTypeName, body: Record<string, unknown>): Promise<DiscoveryAnswer>;
}

async function plane(cacheTtlMs = 0): Promise<Plane> {
  const store = await dynalite.newStore();
  await declareService(store, payments, defaultRenderSettings);
  await declareService(store, ledger, defaultRenderSettings);
  await declareService(store, orders, defaultRenderSettings);
  await applyEndpointChanges(store, [{ kind: 'upsert', endpoint: endpoint('t1', '10.0.0.1', 1) }]);
  const cache = new SnapshotCache(store, { ttlMs: cacheTtlMs });
  const tracker = new NodeTracker(store, { minWriteGapMs: 0 });
  const poll = (type: XdsTypeName, body: Record<string, unknown>) =>
    handleDiscovery({ cache, tracker }, { method: 'POST', path: `/v3/discovery:${type}`, query: {}, headers: {}, body: JSON.stringify(body) });
  return { store, cache, tracker, poll };
}

const node = { id: 'orders-1', cluster: 'orders', locality: { zone: 'us-east-1a' } };
const bodyOf = (a: DiscoveryAnswer) => a.body as { version_info: string; resources: Record<string, unknown>[]; type_url: string; nonce: string };

describe('REST xDS discovery', () => {
  it('answers a first poll with every resource of the type, typed, and a version', async () => {
    const p = await plane();
    const answer = await p.poll('clusters', { node, type_url: typeUrls.clusters });
    expect(answer.status).toBe(200);
    const body = bodyOf(answer);
    expect(body).toEqual({ version_info: expect.any(String), resources: expect.any(Array), type_url: typeUrls.clusters, nonce: expect.any(String) });
    expect(body.resources.map((r) => r.name)).toEqual(['local_app', 'payments']);
    expect(body.resources.every((r) => r['@type'] === typeUrls.clusters)).toBe(true);
    assertConformant(body);
  });

  it('answers 304 without a body when the node already has the current version', async () => {
    const p = await plane();
    const first = bodyOf(await p.poll('listeners', { node }));
    const again = await p.poll('listeners', { node, version_info: first.version_info });
    expect(again).toMatchObject({ status: 304 });
    expect(again.body).toBeUndefined();
  });

  it('never answers 304 to a poll without a version, even when nothing changed', async () => {
    const p = await plane();
    await p.poll('clusters', { node });
    expect((await p.poll('clusters', { node, version_info: '' })).status).toBe(200);
  });

  it('serves a new endpoints version after a lifecycle change, and the same version for the same state', async () => {
    const p = await plane();
    const before = bodyOf(await p.poll('endpoints', { node, resource_names: ['payments'] }));
    await applyEndpointChanges(p.store, [{ kind: 'upsert', endpoint: endpoint('t1', '10.0.0.1', 2, 'draining') }]);
    const after = await p.poll('endpoints', { node, resource_names: ['payments'], version_info: before.version_info });
    expect(after.status).toBe(200);
    expect(bodyOf(after).version_info).not.toBe(before.version_info);
    expect(bodyOf(after).resources).toEqual([
      expect.objectContaining({
        cluster_name: 'payments',
        endpoints: [expect.objectContaining({ lb_endpoints: [expect.objectContaining({ health_status: 'DRAINING' })] })],
      }),
    ]);
    assertConformant(after.body);
    // Rendering the same state again gives the same version: no churn.
    await applyEndpointChanges(p.store, [{ kind: 'upsert', endpoint: endpoint('t1', '10.0.0.1', 3, 'draining') }]);
    expect((await p.poll('endpoints', { node, resource_names: ['payments'], version_info: bodyOf(after).version_info })).status).toBe(304);
  });

  it('honours resource_names for routes, with a version per selection', async () => {
    const p = await plane();
    const outbound = bodyOf(await p.poll('routes', { node, resource_names: ['outbound_payments'] }));
    const inbound = bodyOf(await p.poll('routes', { node, resource_names: ['inbound'] }));
    expect(outbound.resources.map((r) => r.name)).toEqual(['outbound_payments']);
    expect(inbound.resources.map((r) => r.name)).toEqual(['inbound']);
    expect(outbound.version_info).not.toBe(inbound.version_info);
  });

  it('refuses endpoints of a service the node does not depend on', async () => {
    const p = await plane();
    const answer = await p.poll('endpoints', { node, resource_names: ['ledger'] });
    expect(answer.status).toBe(403);
    expect(answer.body).toEqual({ error: expect.stringContaining('"ledger"') });
  });

  it.each([
    ['a type_url that does not match the path', 'clusters', { node, type_url: typeUrls.listeners }, 400, 'does not match'],
    ['a request without a node', 'clusters', { type_url: typeUrls.clusters }, 400, 'no node'],
    ['a node without a service', 'clusters', { node: { id: 'x' } }, 400, 'node.cluster'],
    ['a node without an id', 'clusters', { node: { cluster: 'orders' } }, 400, 'node.id'],
    ['a node of an undeclared service', 'listeners', { node: { id: 'x', cluster: 'nobody' } }, 404, 'not declared'],
    ['an endpoints poll that names nothing', 'endpoints', { node }, 400, 'resource_names'],
  ] as const)('answers %s with %#', async (_what, type, body, status, message) => {
    const p = await plane();
    const answer = await p.poll(type, body);
    expect(answer.status).toBe(status);
    expect(answer.body).toEqual({ error: expect.stringContaining(message) });
  });

  it('records a NACK when a node keeps its version after an update, and keeps serving that update', async () => {
    const p = await plane();
    const poller = new EnvoyPoller({
      nodeId: 'orders-1',
      service: 'orders',
      transport: async (path, body) => p.poll(path.split(':')[1] as XdsTypeName, body as Record<string, unknown>),
      reject: (type, resources) => (type === 'clusters' && resources.some((r) => r.name === 'ledger') ? 'bad cluster ledger' : undefined),
    });
    await poller.pollOnce();
    const accepted = poller.version('clusters');
    expect(accepted).not.toBe('');

    await declareService(p.store, { ...orders, dependencies: [...orders.dependencies, { service: 'ledger', localPort: 9002 }] }, defaultRenderSettings);
    await poller.pollOnce(); // served the update; the poller rejects it
    await poller.pollOnce(); // the next poll still carries the old version: a NACK
    expect(poller.version('clusters')).toBe(accepted);

    const status = p.tracker.status('orders-1');
    expect(status?.lastNack).toEqual({
      subscription: 'clusters',
      type: 'clusters',
      rejectedVersion: expect.any(String),
      keptVersion: accepted,
      message: expect.stringContaining(accepted),
      at: expect.any(String),
    });
    const current = bodyOf(await p.poll('clusters', { node, version_info: accepted }));
    expect(status?.lastNack?.rejectedVersion).toBe(current.version_info);
    expect((await p.store.getNodeStatus('orders', 'orders-1'))?.lastNack?.rejectedVersion).toBe(current.version_info);
  });

  it('keeps one subscription per type for a node on a stream, and one per set of names for REST polls', async () => {
    const p = await plane();
    const deps = { cache: p.cache, tracker: p.tracker };
    const ask = (nodeId: string, resourceNames: string[], streamed: boolean) =>
      discover(deps, {
        type: 'endpoints',
        node: { id: nodeId, cluster: 'orders' },
        resourceNames,
        versionInfo: '',
        ...(streamed ? { streamTypes: new Set<XdsTypeName>(['endpoints']) } : {}),
      });
    // A gRPC client asks for one cluster's endpoints, then for two on the same stream.
    await ask('orders-grpc', ['payments'], true);
    await ask('orders-grpc', ['orders', 'payments'], true);
    expect(Object.values(p.tracker.status('orders-grpc')!.subscriptions).map((s) => s.resourceNames)).toEqual([['orders', 'payments']]);
    // Envoy's REST client polls each cluster's EDS on its own: both stay.
    await ask('orders-rest', ['payments'], false);
    await ask('orders-rest', ['orders'], false);
    expect(Object.values(p.tracker.status('orders-rest')!.subscriptions).map((s) => s.resourceNames).sort()).toEqual([['orders'], ['payments']]);
  });

  it('records the reason when a client sends error_detail', async () => {
    const p = await plane();
    const first = bodyOf(await p.poll('clusters', { node }));
    const answer = await p.poll('clusters', { node, error_detail: { code: 3, message: 'Proto constraint validation failed' } });
    expect(answer.poll?.nack).toMatchObject({ rejectedVersion: first.version_info, message: 'Proto constraint validation failed' });
  });

  it('holds listeners back until the node has applied the clusters they reference', async () => {
    const p = await plane();
    const cds = bodyOf(await p.poll('clusters', { node }));
    await p.poll('clusters', { node, version_info: cds.version_info });
    const lds = bodyOf(await p.poll('listeners', { node }));
    await declareService(p.store, { ...orders, dependencies: [...orders.dependencies, { service: 'ledger', localPort: 9002 }] }, defaultRenderSettings);

    const held = await p.poll('listeners', { node, version_info: lds.version_info });
    expect(held).toMatchObject({ status: 304, poll: { held: true } });
    const newCds = bodyOf(await p.poll('clusters', { node, version_info: cds.version_info }));
    expect(newCds.resources.map((r) => r.name)).toContain('ledger');
    await p.poll('clusters', { node, version_info: newCds.version_info }); // the node reports it applied them
    const released = await p.poll('listeners', { node, version_info: lds.version_info });
    expect(released.status).toBe(200);
    expect(bodyOf(released).resources.map((r) => r.name)).toContain('outbound_ledger');
  });

  describe('when the table fails', () => {
    it('answers 503, never a smaller config, when it has nothing cached', async () => {
      const p = await plane();
      faults.on = true;
      for (const [type, body] of [
        ['clusters', { node }],
        ['listeners', { node }],
        ['endpoints', { node, resource_names: ['payments'] }],
      ] as const) {
        const answer = await p.poll(type, body);
        expect({ type, status: answer.status }).toEqual({ type, status: 503 });
      }
    });

    it('serves the last snapshot it read, whole', async () => {
      const p = await plane(0);
      const clusters = bodyOf(await p.poll('clusters', { node }));
      const endpoints = bodyOf(await p.poll('endpoints', { node, resource_names: ['payments'] }));
      faults.on = true;
      const during = await p.poll('clusters', { node });
      expect(during.status).toBe(200);
      expect(bodyOf(during).resources).toEqual(clusters.resources);
      expect((await p.poll('clusters', { node, version_info: clusters.version_info })).status).toBe(304);
      const eds = await p.poll('endpoints', { node, resource_names: ['payments'] });
      expect(bodyOf(eds).resources).toEqual(endpoints.resources);
      expect(p.cache.stats.staleServed).toBeGreaterThan(0);
    });
  });
});
