import { handleDiscovery } from '../../shared/api/discovery';
import { SnapshotCache } from '../../shared/xds/snapshot-cache';
import { typeUrls, XdsTypeName } from '../../shared/envoy/resources';
import { CertificateIssuer, ensureServiceCertificate, loadCertificateAuthority } from '../../shared/state/certificates';
import { createLocalCaSigner } from '../../shared/pki/signer';
import { rotationPolicy } from '../../shared/pki/rotation';
import { AesGcmSealer } from '../../shared/secrets/sealer';
import { envoyCodec } from '../../server/envoy-codec';
import { useDynalite } from '../support/dynamo';
import { AdsTestClient } from '../support/ads-client';
import { AdsPlane, adsPlane } from './fixtures';

const dynalite = useDynalite();
const codec = envoyCodec();

const rest = { id: 'orders-1', cluster: 'orders' };
const ads = { id: 'orders-a', cluster: 'orders', metadata: { 'mesh.xds': 'ads' } };
const grpc = { id: 'orders-g', cluster: 'orders', user_agent_name: 'gRPC Node Pure JS' };

/**
 * For the same node and state, the push tier and the REST tier serve the same resources with
 * the same versions: both ask one core, and which forms a node gets (REST config sources, ADS
 * ones, proxyless) is the node's to say, never the transport's. Compared as protobuf bytes.
 */
describe('the push tier and the REST tier', () => {
  let plane: AdsPlane;
  let sealer: AesGcmSealer;
  let client: AdsTestClient | undefined;
  beforeEach(async () => {
    sealer = AesGcmSealer.generate();
    plane = await adsPlane(await dynalite.newStore(), { sealer });
    const ca = await loadCertificateAuthority(plane.store, createLocalCaSigner(), { mesh: 'mesh.local', now: new Date(), replaceForeign: false });
    const issuer: CertificateIssuer = { ca, sealer, policy: rotationPolicy(), now: () => new Date() };
    await ensureServiceCertificate(plane.store, issuer, 'orders');
  });
  afterEach(async () => {
    client?.close();
    client = undefined;
    await plane.server.close();
  });

  async function restAnswer(type: XdsTypeName, node: Record<string, unknown>, names: string[]): Promise<Record<string, unknown>> {
    const answer = await handleDiscovery(
      { cache: new SnapshotCache(plane.store, { ttlMs: 0 }), sealer },
      { method: 'POST', path: `/v3/discovery:${type}`, query: {}, headers: {}, body: JSON.stringify({ node, resource_names: names }) },
    );
    expect(answer.status).toBe(200);
    return (typeof answer.body === 'string' ? JSON.parse(answer.body) : answer.body) as Record<string, unknown>;
  }
  const bytes = (r: Record<string, unknown>) => Buffer.from(codec.encodeResponse({ ...r, nonce: '' })).toString('base64');
  const secretNames = ['mesh_trust_bundle', 'service_certificate_orders'];

  const cases: { type: XdsTypeName; names: string[]; node: Record<string, unknown> }[] = [
    ...[rest, ads].flatMap((node) => [
      { type: 'listeners' as const, names: [], node },
      { type: 'routes' as const, names: ['outbound_payments'], node },
      { type: 'clusters' as const, names: [], node },
      { type: 'endpoints' as const, names: ['payments'], node },
      { type: 'secrets' as const, names: secretNames, node },
    ]),
    { type: 'listeners', names: ['payments'], node: grpc },
    { type: 'clusters', names: ['payments'], node: grpc },
    { type: 'endpoints', names: ['payments'], node: grpc },
  ];

  it.each(cases)('serve byte-identical $type to the same node ($node.id)', async ({ type, names, node }) => {
    const restBody = await restAnswer(type, node, names);
    client = new AdsTestClient(plane.server.port);
    client.send({ node, type_url: typeUrls[type], resource_names: names });
    const pushed = await client.next();
    expect(pushed.version_info).toBe(restBody.version_info);
    expect(bytes(pushed as unknown as Record<string, unknown>)).toBe(bytes(restBody));
  });

  it('serve an Envoy on ADS other listeners and clusters than one on REST, under other versions; the same routes, endpoints and secrets', async () => {
    const differs: Record<string, boolean> = {};
    for (const [type, names] of [['listeners', []], ['clusters', []], ['routes', ['outbound_payments']], ['endpoints', ['payments']], ['secrets', secretNames]] as const) {
      const [r, a] = [await restAnswer(type, rest, [...names]), await restAnswer(type, ads, [...names])];
      differs[type] = r.version_info !== a.version_info && bytes(r) !== bytes(a);
      if (type === 'clusters') expect(JSON.stringify(a)).toContain('"eds_config":{"ads":{},"resource_api_version":"V3"}');
    }
    expect(differs).toEqual({ listeners: true, clusters: true, routes: false, endpoints: false, secrets: false });
  });
});
