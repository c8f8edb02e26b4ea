import { typeUrls } from '../../shared/envoy/resources';
import { names } from '../../shared/render/names';
import { CertificateIssuer, ensureServiceCertificate, loadCertificateAuthority } from '../../shared/state/certificates';
import { createLocalCaSigner } from '../../shared/pki/signer';
import { rotationPolicy } from '../../shared/pki/rotation';
import { AesGcmSealer } from '../../shared/secrets/sealer';
import { useDynalite } from '../support/dynamo';
import { AdsResponse, AdsTestClient } from '../support/ads-client';
import { assertConformant } from '../support/envoy-schema';
import { AdsPlane, adsPlane } from './fixtures';

const dynalite = useDynalite();

const envoy = { id: 'orders-a', cluster: 'orders', metadata: { 'mesh.service': 'orders', 'mesh.xds': 'ads' } };
const proxyless = { id: 'orders-g', cluster: 'orders', user_agent_name: 'gRPC Node Pure JS' };
const own = [names.trustBundleSecret, names.serviceCertificateSecret('orders')];

interface Secret {
  name: string;
  tls_certificate?: { private_key?: { inline_string?: string } };
}
const secretsOf = (r: AdsResponse) => (r.resources ?? []) as unknown as Secret[];

/**
 * SDS on the push tier: an Envoy on ADS asks for its secrets on its stream and is answered by
 * the same core as REST SDS, with the same authorization: its own service's certificate and
 * key and the trust bundle, never another service's, and nothing to a proxyless gRPC client.
 */
describe('secrets over the ADS stream', () => {
  let plane: AdsPlane;
  let issuer: CertificateIssuer;
  const clients: AdsTestClient[] = [];
  const open = (method?: 'DeltaAggregatedResources') => {
    const client = new AdsTestClient(plane.server.port, undefined, method);
    clients.push(client);
    return client;
  };
  beforeEach(async () => {
    const sealer = AesGcmSealer.generate();
    plane = await adsPlane(await dynalite.newStore(), { sealer });
    const ca = await loadCertificateAuthority(plane.store, createLocalCaSigner(), { mesh: 'mesh.local', now: new Date(), replaceForeign: false });
    issuer = { ca, sealer, policy: rotationPolicy(), now: () => new Date() };
    await ensureServiceCertificate(plane.store, issuer, 'orders');
    await ensureServiceCertificate(plane.store, issuer, 'payments');
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await plane.server.close();
  });

  it("serves an Envoy its service's certificate with its key and the trust bundle, and pushes a renewed key", async () => {
    const client = open();
    client.send({ node: envoy, type_url: typeUrls.secrets, resource_names: own });
    const first = await client.next();
    expect(() => assertConformant(first)).not.toThrow();
    expect(secretsOf(first).map((s) => s.name)).toEqual(own);
    const key = secretsOf(first).find((s) => s.tls_certificate)?.tls_certificate?.private_key?.inline_string;
    expect(key).toContain('-----BEGIN PRIVATE KEY-----');

    client.send({ type_url: typeUrls.secrets, resource_names: own, version_info: first.version_info, response_nonce: first.nonce });
    await ensureServiceCertificate(plane.store, issuer, 'orders', { force: true });
    await plane.watcher.poke();
    const renewed = await client.next();
    expect(renewed.version_info).not.toBe(first.version_info);
    const newKey = secretsOf(renewed).find((s) => s.tls_certificate)?.tls_certificate?.private_key?.inline_string;
    expect(newKey).toContain('-----BEGIN PRIVATE KEY-----');
    expect(newKey).not.toBe(key);
  });

  it.each([
    ['another service’s certificate', [names.serviceCertificateSecret('payments')]],
    ['its own and another service’s certificate', [...own, names.serviceCertificateSecret('payments')]],
  ])('refuses %s: nothing is sent, and the stream goes on', async (_case, asked) => {
    const client = open();
    client.send({ node: envoy, type_url: typeUrls.secrets, resource_names: asked });
    // A stream answers its requests in order: the next response answers the clusters request.
    client.send({ type_url: typeUrls.clusters });
    const next = await client.next();
    expect(next.type_url).toBe(typeUrls.clusters);
    expect(client.pending).toBe(0);
  });

  it('sends no secret to a proxyless gRPC client, on either kind of stream', async () => {
    const sotw = open();
    sotw.send({ node: proxyless, type_url: typeUrls.secrets, resource_names: own });
    sotw.send({ type_url: typeUrls.clusters, resource_names: ['payments'] });
    const answered = await sotw.next();
    expect(answered.type_url).toBe(typeUrls.clusters);
    expect(JSON.stringify(answered)).not.toContain('PRIVATE KEY');
    expect(sotw.pending).toBe(0);

    const delta = open('DeltaAggregatedResources');
    delta.send({ node: proxyless, type_url: typeUrls.secrets, resource_names_subscribe: own });
    delta.send({ type_url: typeUrls.clusters, resource_names_subscribe: ['payments'] });
    const deltaAnswer = (await delta.next()) as unknown as { type_url: string };
    expect(deltaAnswer.type_url).toBe(typeUrls.clusters);
    expect(JSON.stringify(deltaAnswer)).not.toContain('PRIVATE KEY');
    expect(delta.pending).toBe(0);
  });

  it('serves the same secrets on a delta stream, each under its own version', async () => {
    const delta = open('DeltaAggregatedResources');
    delta.send({ node: envoy, type_url: typeUrls.secrets, resource_names_subscribe: own });
    const answer = (await delta.next()) as unknown as { resources: { name: string; version: string; resource: Secret }[] };
    expect(answer.resources.map((r) => r.name)).toEqual(own);
    expect(new Set(answer.resources.map((r) => r.version)).size).toBe(2);
    expect(answer.resources.find((r) => r.resource.tls_certificate)?.resource.tls_certificate?.private_key?.inline_string).toContain('PRIVATE KEY');
  });
});
