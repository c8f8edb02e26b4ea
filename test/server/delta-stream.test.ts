import { Metadata } from '@grpc/grpc-js';
import { declareService } from '../../shared/state/catalog';
import { applyEndpointChanges } from '../../shared/state/endpoints';
import { defaultRenderSettings } from '../../shared/render/settings';
import { typeUrls } from '../../shared/envoy/resources';
import { MeshStore } from '../../shared/store/mesh-store';
import { AdsServer } from '../../server/ads-server';
import { ChangeWatcher } from '../../server/change-watcher';
import { DeltaResponse } from '../../server/delta-stream';
import { adsPlane, endpoint, orders } from './fixtures';
import { useDynalite } from '../support/dynamo';
import { AdsTestClient } from '../support/ads-client';
import { assertConformant } from '../support/envoy-schema';

const dynalite = useDynalite();
const node = { id: 'orders-1', cluster: 'orders', user_agent_name: 'envoy' };

describe('the ADS server (incremental, DeltaAggregatedResources)', () => {
  let store: MeshStore;
  let server: AdsServer;
  let watcher: ChangeWatcher;
  const clients: AdsTestClient<DeltaResponse>[] = [];
  const connect = () => {
    const c = new AdsTestClient<DeltaResponse>(server.port, new Metadata(), 'DeltaAggregatedResources');
    clients.push(c);
    return c;
  };

  beforeEach(async () => {
    ({ store, server, watcher } = await adsPlane(await dynalite.newStore()));
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await server.close();
  });

  it('sends each resource with its own version, then only what changed, and names what was removed', async () => {
    const client = connect();
    client.send({ node, type_url: typeUrls.clusters });
    const first = await client.next();
    expect(first.resources.map((r) => r.name)).toEqual(['local_app', 'payments']);
    expect(first.removed_resources ?? []).toEqual([]); // proto3 JSON leaves an empty list out
    const decoded = assertConformant({ version_info: first.system_version_info, type_url: first.type_url, resources: first.resources.map((r) => r.resource) });
    expect(decoded).toBeDefined();
    client.send({ type_url: typeUrls.clusters, response_nonce: first.nonce });
    client.send({ type_url: typeUrls.endpoints, resource_names_subscribe: ['payments'] });
    const eds = await client.next();
    expect(eds.resources.map((r) => r.name)).toEqual(['payments']);
    client.send({ type_url: typeUrls.endpoints, response_nonce: eds.nonce });
    await watcher.poke();

    await applyEndpointChanges(store, [{ kind: 'upsert', endpoint: endpoint('t2', '10.0.0.2') }]);
    const before = server.stats.responses;
    await watcher.poke();
    const pushed = await client.next();
    expect(pushed.type_url).toBe(typeUrls.endpoints);
    expect(JSON.stringify(pushed.resources)).toContain('10.0.0.2');
    expect(server.stats.responses).toBe(before + 1); // the clusters did not change: nothing sent for them
    client.send({ type_url: typeUrls.endpoints, response_nonce: pushed.nonce });

    await declareService(store, { ...orders, dependencies: [] }, defaultRenderSettings);
    await watcher.poke();
    const removal = await client.next();
    expect(removal).toMatchObject({ type_url: typeUrls.clusters, removed_resources: ['payments'] });
    expect(removal.resources ?? []).toEqual([]);
  });

  it('resends nothing to a reconnecting client that already has every resource (initial_resource_versions)', async () => {
    const first = connect();
    first.send({ node, type_url: typeUrls.clusters });
    const had = await first.next();
    first.close();
    const again = connect();
    again.send({ node, type_url: typeUrls.clusters, initial_resource_versions: Object.fromEntries(had.resources.map((r) => [r.name, r.version])) });
    // A stream answers in order: once the later EDS subscription is answered, the CDS one was handled.
    again.send({ type_url: typeUrls.endpoints, resource_names_subscribe: ['payments'] });
    const next = await again.next();
    expect(next.type_url).toBe(typeUrls.endpoints);
    expect(again.pending).toBe(0);
  });
});
