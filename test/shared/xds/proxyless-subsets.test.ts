import { declareService } from '../../../shared/state/catalog';
import { applyEndpointChanges } from '../../../shared/state/endpoints';
import { defaultRenderSettings } from '../../../shared/render/settings';
import { SnapshotCache } from '../../../shared/xds/snapshot-cache';
import { XdsAnswer, discover } from '../../../shared/xds/discovery';
import { Endpoint } from '../../../shared/model/endpoint';
import { useDynalite } from '../../support/dynamo';
import { assertConformant } from '../../support/envoy-schema';
import { endpoint as fixtureEndpoint } from '../render/fixtures';

const dynalite = useDynalite();

const payments = { name: 'payments', inboundPort: 15000, appPort: 8080, protocol: 'grpc' };
const ledger = { name: 'ledger', inboundPort: 15000, appPort: 8080, protocol: 'grpc', dependencies: [{ service: 'payments', localPort: 9001 }] };
const orders = {
  name: 'orders',
  inboundPort: 15000,
  appPort: 8080,
  protocol: 'grpc',
  dependencies: [{ service: 'payments', localPort: 9001, split: { subsets: [{ labels: { revision: '1' }, weight: 80 }, { labels: { revision: '2' }, weight: 20 }] } }],
};

/** A `payments` endpoint of one revision (its subset label). */
const endpoint = (id: string, address: string, revision: string): Endpoint =>
  fixtureEndpoint('payments', id, { address, zone: 'us-east-1a', labels: { revision } });

const grpcNode = (id: string, cluster: string) => ({ id, cluster, locality: {}, user_agent_name: 'gRPC Node Pure JS' });
const addresses = (a: XdsAnswer) =>
  a.kind === 'response'
    ? a.resources.map((r) => [r.cluster_name, (r.endpoints as { lb_endpoints: { endpoint: { address: { socket_address: { address: string } } } }[] }[]).flatMap((l) => l.lb_endpoints.map((e) => e.endpoint.address.socket_address.address))])
    : a;

describe('proxyless subset clusters in the xDS core', () => {
  async function plane() {
    const store = await dynalite.newStore();
    for (const s of [payments, orders, ledger]) await declareService(store, s, defaultRenderSettings);
    await applyEndpointChanges(store, [{ kind: 'upsert', endpoint: endpoint('a', '10.0.0.1', '1') }, { kind: 'upsert', endpoint: endpoint('b', '10.0.0.2', '2') }]);
    const deps = { cache: new SnapshotCache(store, { ttlMs: 0 }) };
    const eds = (node: Record<string, unknown>, names: string[], versionInfo = '') => discover(deps, { type: 'endpoints', node, resourceNames: names, versionInfo });
    return { store, eds };
  }

  it("serves each subset cluster its subset's endpoints alone, from the service's stored assignment, in Envoy's protos", async () => {
    const { eds } = await plane();
    const answer = await eds(grpcNode('orders-1', 'orders'), ['payments|revision=1', 'payments|revision=2']);
    expect(addresses(answer)).toEqual([
      ['payments|revision=1', ['10.0.0.1']],
      ['payments|revision=2', ['10.0.0.2']],
    ]);
    if (answer.kind === 'response') assertConformant({ version_info: answer.versionInfo, type_url: answer.typeUrl, resources: answer.resources });
  });

  it('versions each subset by its own endpoints: a change in one subset is no change for the other', async () => {
    const { store, eds } = await plane();
    const one = await eds(grpcNode('orders-1', 'orders'), ['payments|revision=1']);
    const two = await eds(grpcNode('orders-1', 'orders'), ['payments|revision=2']);
    if (one.kind !== 'response' || two.kind !== 'response') throw new Error('expected responses');
    await applyEndpointChanges(store, [{ kind: 'upsert', endpoint: endpoint('c', '10.0.0.3', '2') }]);
    expect(await eds(grpcNode('orders-1', 'orders'), ['payments|revision=1'], one.versionInfo)).toMatchObject({ kind: 'not-modified', versionInfo: one.versionInfo });
    const twoAfter = await eds(grpcNode('orders-1', 'orders'), ['payments|revision=2'], two.versionInfo);
    expect(twoAfter.kind).toBe('response');
    expect(addresses(twoAfter)).toEqual([['payments|revision=2', ['10.0.0.2', '10.0.0.3']]]);
  });

  it("refuses a subset cluster the node's snapshot does not hold: another caller's, an undeclared subset, or to an Envoy", async () => {
    const { eds } = await plane();
    // ledger calls payments without a split: its gRPC clients have the whole cluster, no subset clusters.
    expect(await eds(grpcNode('ledger-1', 'ledger'), ['payments'])).toMatchObject({ kind: 'response' });
    expect(await eds(grpcNode('ledger-1', 'ledger'), ['payments|revision=1'])).toMatchObject({ kind: 'refusal', refusal: { kind: 'refused' } });
    expect(await eds(grpcNode('orders-1', 'orders'), ['payments|revision=3'])).toMatchObject({ kind: 'refusal', refusal: { kind: 'refused' } });
    expect(await eds({ id: 'orders-envoy', cluster: 'orders', user_agent_name: 'envoy' }, ['payments|revision=1'])).toMatchObject({ kind: 'refusal', refusal: { kind: 'refused' } });
  });
});
