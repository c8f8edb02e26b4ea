import { handleDiscovery } from '../../shared/api/discovery';
import { SnapshotCache } from '../../shared/xds/snapshot-cache';
import { typeUrls, XdsTypeName } from '../../shared/envoy/resources';
import { envoyCodec } from '../../server/envoy-codec';
import { useDynalite } from '../support/dynamo';
import { AdsTestClient } from '../support/ads-client';
import { AdsPlane, adsPlane } from './fixtures';

const dynalite = useDynalite();
const codec = envoyCodec();

/**
 * For the same node and state, the push tier and the REST tier serve the same resources with
 * the same versions: both ask one core. Compared as protobuf bytes of the same response.
 */
describe('the push tier and the REST tier', () => {
  let plane: AdsPlane;
  let client: AdsTestClient | undefined;
  beforeEach(async () => {
    plane = await adsPlane(await dynalite.newStore());
  });
  afterEach(async () => {
    client?.close();
    await plane.server.close();
  });

  const cases: { type: XdsTypeName; names: string[]; node: Record<string, unknown> }[] = [
    { type: 'listeners', names: [], node: { id: 'orders-1', cluster: 'orders' } },
    { type: 'routes', names: ['outbound_payments'], node: { id: 'orders-1', cluster: 'orders' } },
    { type: 'clusters', names: [], node: { id: 'orders-1', cluster: 'orders' } },
    { type: 'endpoints', names: ['payments'], node: { id: 'orders-1', cluster: 'orders' } },
    { type: 'listeners', names: ['payments'], node: { id: 'orders-g', cluster: 'orders', user_agent_name: 'gRPC Node Pure JS' } },
    { type: 'clusters', names: ['payments'], node: { id: 'orders-g', cluster: 'orders', user_agent_name: 'gRPC Node Pure JS' } },
    { type: 'endpoints', names: ['payments'], node: { id: 'orders-g', cluster: 'orders', user_agent_name: 'gRPC Node Pure JS' } },
  ];

  it.each(cases)('serve byte-identical $type to the same node ($node.id)', async ({ type, names, node }) => {
    const rest = await handleDiscovery(
      { cache: new SnapshotCache(plane.store, { ttlMs: 0 }) },
      { method: 'POST', path: `/v3/discovery:${type}`, query: {}, headers: {}, body: JSON.stringify({ node, resource_names: names }) },
    );
    expect(rest.status).toBe(200);
    const restBody = (typeof rest.body === 'string' ? JSON.parse(rest.body) : rest.body) as Record<string, unknown>;
    client = new AdsTestClient(plane.server.port);
    client.send({ node, type_url: typeUrls[type], resource_names: names });
    const pushed = await client.next();
    expect(pushed.version_info).toBe(restBody.version_info);
    const bytes = (r: Record<string, unknown>) => Buffer.from(codec.encodeResponse({ ...r, nonce: '' })).toString('base64');
    expect(bytes(pushed as unknown as Record<string, unknown>)).toBe(bytes(restBody));
  });
});
