import { status } from '@grpc/grpc-js';
import { declareService } from '../../shared/state/catalog';
import { applyEndpointChanges } from '../../shared/state/endpoints';
import { defaultRenderSettings } from '../../shared/render/settings';
import { SnapshotCache } from '../../shared/xds/snapshot-cache';
import { NodeTracker } from '../../shared/xds/node-tracker';
import { discover } from '../../shared/xds/discovery';
import { typeUrls } from '../../shared/envoy/resources';
import { adsPlane, endpoint, orders, payments } from './fixtures';
import { MeshStore } from '../../shared/store/mesh-store';
import { AdsServer, startAdsServer } from '../../server/ads-server';
import { ChangeWatcher } from '../../server/change-watcher';
import { envoyCodec } from '../../server/envoy-codec';
import { useDynalite } from '../support/dynamo';
import { AdsTestClient } from '../support/ads-client';
import { assertConformant } from '../support/envoy-schema';

const dynalite = useDynalite();

const envoyNode = (id: string, cluster: string) => ({ id, cluster, user_agent_name: 'envoy' });

describe('the ADS server (state of the world)', () => {
  let store: MeshStore;
  let cache: SnapshotCache;
  let tracker: NodeTracker;
  let server: AdsServer;
  let watcher: ChangeWatcher;
  const clients: AdsTestClient[] = [];
  const connect = () => {
    const c = new AdsTestClient(server.port);
    clients.push(c);
    return c;
  };

  beforeEach(async () => {
    ({ store, cache, tracker, server, watcher } = await adsPlane(await dynalite.newStore()));
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await watcher.stop();
    await server.close();
  });

  it('answers a wildcard CDS subscription with what the REST core answers, as real protobuf, and stays quiet after the ACK', async () => {
    const client = connect();
    client.send({ node: envoyNode('orders-1', 'orders'), type_url: typeUrls.clusters });
    const first = await client.next();
    const rest = await discover({ cache: new SnapshotCache(store, { ttlMs: 0 }) }, { type: 'clusters', node: envoyNode('orders-2', 'orders'), resourceNames: [], versionInfo: '' });
    expect(rest.kind).toBe('response');
    if (rest.kind !== 'response') return;
    expect(first.version_info).toBe(rest.versionInfo);
    // The same resources once through the wire codec: proto3 drops defaults, so compare as decoded.
    const codec = envoyCodec();
    const restOnTheWire = codec.decodeResponse(codec.encodeResponse({ version_info: rest.versionInfo, resources: [...rest.resources], type_url: rest.typeUrl, nonce: first.nonce }));
    expect(first).toEqual(restOnTheWire);
    expect(first.type_url).toBe(typeUrls.clusters);
    assertConformant(first);
    // The ACK carries no node: Envoy sets it on the first message only.
    client.send({ version_info: first.version_info, type_url: typeUrls.clusters, response_nonce: first.nonce });
    await watcher.poke();
    const answered = server.stats.responses;
    await watcher.poke();
    expect(server.stats.responses).toBe(answered);
    expect(tracker.status('orders-1')?.subscriptions.clusters?.appliedVersion).toBe(first.version_info);
  });

  it('serves named EDS and pushes an endpoint change to the streams that subscribe it, and to no other', async () => {
    const caller = connect();
    caller.send({ node: envoyNode('orders-1', 'orders'), type_url: typeUrls.endpoints, resource_names: ['payments'] });
    const first = await caller.next();
    expect(first.resources?.map((r) => r.cluster_name)).toEqual(['payments']);
    caller.send({ version_info: first.version_info, type_url: typeUrls.endpoints, resource_names: ['payments'], response_nonce: first.nonce });
    const bystander = connect();
    bystander.send({ node: envoyNode('payments-1', 'payments'), type_url: typeUrls.clusters });
    const own = await bystander.next();
    bystander.send({ version_info: own.version_info, type_url: typeUrls.clusters, response_nonce: own.nonce });
    await watcher.poke();

    await applyEndpointChanges(store, [{ kind: 'upsert', endpoint: endpoint('t2', '10.0.0.2') }]);
    const before = server.stats.responses;
    await watcher.poke();
    const pushed = await caller.next();
    expect(pushed.version_info).not.toBe(first.version_info);
    expect(JSON.stringify(pushed.resources)).toContain('10.0.0.2');
    expect(server.stats.responses).toBe(before + 1); // the bystander's CDS did not change: nothing sent to it
  });

  it('sends nothing newer of a type while its last response is un-ACKed, and sends it after the ACK', async () => {
    const client = connect();
    client.send({ node: envoyNode('orders-1', 'orders'), type_url: typeUrls.endpoints, resource_names: ['payments'] });
    const first = await client.next();
    await watcher.poke();
    await applyEndpointChanges(store, [{ kind: 'upsert', endpoint: endpoint('t2', '10.0.0.2') }]);
    const before = server.stats.responses;
    await watcher.poke();
    expect(server.stats.responses).toBe(before);
    client.send({ version_info: first.version_info, type_url: typeUrls.endpoints, resource_names: ['payments'], response_nonce: first.nonce });
    const pushed = await client.next();
    expect(JSON.stringify(pushed.resources)).toContain('10.0.0.2');
  });

  it('records a NACK by error_detail in node status and does not send the rejected version again', async () => {
    const client = connect();
    client.send({ node: envoyNode('orders-1', 'orders'), type_url: typeUrls.clusters });
    const first = await client.next();
    client.send({ version_info: '', type_url: typeUrls.clusters, response_nonce: first.nonce, error_detail: { code: 3, message: 'cluster payments: bad config' } });
    await watcher.poke();
    const nack = tracker.status('orders-1')?.lastNack;
    expect(nack).toMatchObject({ type: 'clusters', rejectedVersion: first.version_info, message: 'cluster payments: bad config' });
    expect((await store.getNodeStatus('orders', 'orders-1'))?.lastNack?.message).toBe('cluster payments: bad config');
    expect(client.pending).toBe(0);
  });

  it('ignores a stale request (an older nonce) and ends a stream whose first message has no node', async () => {
    const client = connect();
    client.send({ node: envoyNode('orders-1', 'orders'), type_url: typeUrls.endpoints, resource_names: ['payments'] });
    const first = await client.next();
    await applyEndpointChanges(store, [{ kind: 'upsert', endpoint: endpoint('t2', '10.0.0.2') }]);
    await watcher.poke();
    client.send({ version_info: '', type_url: typeUrls.endpoints, resource_names: ['payments'], response_nonce: 'not-the-last-one' });
    await watcher.poke();
    expect(client.pending).toBe(0);
    client.send({ version_info: first.version_info, type_url: typeUrls.endpoints, resource_names: ['payments'], response_nonce: first.nonce });
    expect(JSON.stringify((await client.next()).resources)).toContain('10.0.0.2');

    const anonymous = connect();
    anonymous.send({ type_url: typeUrls.clusters });
    expect((await anonymous.ended()).code).toBe(status.INVALID_ARGUMENT);
  });

  it('serves a gRPC client the proxyless forms (API listener, ADS cluster, weighted EDS) and an Envoy its own', async () => {
    const grpc = connect();
    const node = { id: 'orders-grpc-1', cluster: 'orders', user_agent_name: 'gRPC Node Pure JS', client_features: ['envoy.lb.does_not_support_overprovisioning'] };
    grpc.send({ node, type_url: typeUrls.listeners, resource_names: ['payments'] });
    const lds = await grpc.next();
    expect(lds.resources?.map((l) => [l.name, Object.keys(l).sort()])).toEqual([['payments', ['@type', 'api_listener', 'name']]]);
    grpc.send({ type_url: typeUrls.clusters, resource_names: ['payments'] });
    const cds = await grpc.next();
    expect(cds.resources).toMatchObject([{ name: 'payments', eds_cluster_config: { eds_config: { ads: {} } } }]);
    grpc.send({ type_url: typeUrls.endpoints, resource_names: ['payments'] });
    const eds = await grpc.next();
    expect(eds.resources).toMatchObject([{ cluster_name: 'payments', endpoints: [{ locality: { zone: 'us-east-1a' }, load_balancing_weight: 1 }] }]);
    for (const r of [lds, cds, eds]) assertConformant(r);

    const envoy = connect();
    envoy.send({ node: envoyNode('orders-1', 'orders'), type_url: typeUrls.listeners });
    expect((await envoy.next()).resources?.map((l) => l.name)).toEqual(['inbound', 'outbound_payments']);
  });

  it('pushes a new dependency make-before-break: its cluster first, the listener that uses it after the cluster is ACKed', async () => {
    const client = connect();
    client.send({ node: envoyNode('orders-1', 'orders'), type_url: typeUrls.listeners });
    client.send({ type_url: typeUrls.clusters });
    const ack = async () => {
      const r = await client.next();
      client.send({ version_info: r.version_info, type_url: r.type_url, response_nonce: r.nonce });
      return r;
    };
    await ack();
    await ack();
    await watcher.poke();
    await declareService(store, { ...payments, name: 'ledger' }, defaultRenderSettings);
    await declareService(store, { ...orders, dependencies: [...orders.dependencies, { service: 'ledger', localPort: 9002 }] }, defaultRenderSettings);
    await watcher.poke();
    const first = await ack();
    expect(first.type_url).toBe(typeUrls.clusters);
    expect(first.resources?.map((c) => c.name)).toContain('ledger');
    const second = await client.next();
    expect(second.type_url).toBe(typeUrls.listeners);
    expect(second.resources?.map((l) => l.name)).toContain('outbound_ledger');
  });

  it('resyncs a client that reconnects to another server over the same table without resending what it has', async () => {
    const client = connect();
    client.send({ node: envoyNode('orders-1', 'orders'), type_url: typeUrls.clusters });
    const had = await client.next();
    client.close();
    const other = await startAdsServer({ cache: new SnapshotCache(store, { ttlMs: 60_000 }), tracker: new NodeTracker(store) }, '127.0.0.1', 0);
    const again = new AdsTestClient(other.port);
    try {
      // On a new stream the client says what it has; the same state has the same version in any process.
      again.send({ node: envoyNode('orders-1', 'orders'), type_url: typeUrls.clusters, version_info: had.version_info });
      again.send({ type_url: typeUrls.endpoints, resource_names: ['payments'] });
      const first = await again.next(); // the stream answers in order: CDS was handled before this
      expect(first.type_url).toBe(typeUrls.endpoints);
      expect(again.pending).toBe(0);
    } finally {
      again.close();
      await other.close();
    }
  });

  it('refuses streams beyond its limit with RESOURCE_EXHAUSTED', async () => {
    await server.close();
    server = await startAdsServer({ cache, tracker }, '127.0.0.1', 0, { maxStreams: 1 });
    const first = connect();
    first.send({ node: envoyNode('orders-1', 'orders'), type_url: typeUrls.clusters });
    await first.next();
    const second = connect();
    second.send({ node: envoyNode('orders-2', 'orders'), type_url: typeUrls.clusters });
    expect((await second.ended()).code).toBe(status.RESOURCE_EXHAUSTED);
  });
});
