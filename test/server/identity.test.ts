import { X509Certificate } from 'node:crypto';
import type { PeerCertificate } from 'node:tls';
import { credentials, status } from '@grpc/grpc-js';
import { startAdsServer, AdsServer } from '../../server/ads-server';
import { principalOfPeer, RenewingTls, serverIdentityName, TlsMaterial } from '../../server/identity';
import { AesGcmSealer } from '../../shared/secrets/sealer';
import { CaSigner, createLocalCaSigner } from '../../shared/pki/signer';
import { issueCaCertificate, issueServiceCertificate } from '../../shared/pki/certificate';
import { spiffeId } from '../../shared/pki/identity';
import { rotationPolicy } from '../../shared/pki/rotation';
import { ensureServiceCertificate, loadCertificateAuthority, MeshCertificateAuthority } from '../../shared/state/certificates';
import { declareService } from '../../shared/state/catalog';
import { defaultRenderSettings } from '../../shared/render/settings';
import { names } from '../../shared/render/names';
import { typeUrls, XdsTypeName, xdsTypeNames } from '../../shared/envoy/resources';
import { SnapshotCache } from '../../shared/xds/snapshot-cache';
import { useDynalite } from '../support/dynamo';
import { AdsTestClient } from '../support/ads-client';
import { assertConformant } from '../support/envoy-schema';
import { threeServices } from '../support/three-services';

/**
 * The push tier binds a stream to its service by the mesh certificate the node presents
 * (mutual TLS, server/identity.ts), as the REST tier binds a poll by IAM. The REST tier's
 * authorization matrix (test/local/authorization.test.ts) runs here over gRPC: each service ×
 * each type × each service's resources, plus no certificate, another CA, and the server's own.
 */
const mesh = defaultRenderSettings.meshName;
const services = ['ledger', 'orders', 'payments'] as const;
const dynalite = useDynalite();

/** What a node of `service` legitimately asks for, per type (as the REST matrix asks). */
function request(service: string, type: XdsTypeName): Record<string, unknown> {
  const named: Partial<Record<XdsTypeName, string[]>> = {
    routes: ['inbound'],
    endpoints: [service],
    secrets: [names.serviceCertificateSecret(service)],
  };
  return { node: { id: `${service}-1`, cluster: service }, type_url: typeUrls[type], ...(named[type] ? { resource_names: named[type] } : {}) };
}

const peer = (subjectaltname: string | undefined) => ({ sslPeerCertificate: { subjectaltname } as PeerCertificate });

describe('principalOfPeer', () => {
  it.each([
    ['the service of a mesh SPIFFE ID', `URI:${spiffeId(mesh, 'orders')}`, { kind: 'certificate', service: 'orders' }],
    ['nobody without a certificate', undefined, undefined],
    ['nobody for another trust domain', `URI:${spiffeId('other.mesh', 'orders')}`, undefined],
    ['nobody for two URI SANs', `URI:${spiffeId(mesh, 'orders')}, URI:${spiffeId(mesh, 'payments')}`, undefined],
    ["nobody for the server's own identity", `URI:${spiffeId(mesh, serverIdentityName)}`, undefined],
    ['nobody for a path below a service', `URI:${spiffeId(mesh, 'orders')}/extra`, undefined],
    ['the service when DNS names come with it', `DNS:orders.internal, URI:${spiffeId(mesh, 'orders')}`, { kind: 'certificate', service: 'orders' }],
  ])('reads %s', (_name, san, expected) => {
    expect(principalOfPeer(peer(san), mesh)).toEqual(expected);
  });
});

describe('RenewingTls', () => {
  it('renews at half the lifetime, by the injected clock, and hands listeners the new certificate', async () => {
    const signer = createLocalCaSigner();
    const ca = await issueCaCertificate(signer, { mesh, now: new Date() });
    const issuedAt = new Date(Math.floor(Date.now() / 1000) * 1000); // certificates count whole seconds
    let clock = issuedAt.getTime();
    const issue = async (): Promise<TlsMaterial> => {
      const cert = await issueServiceCertificate(signer, ca.certificatePem, serverIdentityName, { mesh, now: issuedAt, lifetimeSeconds: 3600, backdateSeconds: 0 });
      return { certificatePem: cert.certificatePem, privateKeyPem: cert.privateKeyPem, trustBundlePem: ca.certificatePem };
    };
    const tls = new RenewingTls({ issue, now: () => clock });
    const seen: string[] = [];
    tls.addIdentityCertificateListener((u) => seen.push(new X509Certificate(u!.certificate).serialNumber));
    await tls.start();
    try {
      expect(tls.renewInMs()).toBe(1800_000);
      clock += 1800_000 + 1;
      expect(tls.renewInMs()).toBe(0);
      await tls.renew();
      expect(seen).toHaveLength(2);
      expect(seen[0]).not.toBe(seen[1]);
    } finally {
      tls.stop();
    }
  });
});

describe('the push tier over mutual TLS', () => {
  let server: AdsServer;
  let tls: RenewingTls;
  let ca: MeshCertificateAuthority;
  const material: Record<string, { cert: string; key: string }> = {};
  const open: AdsTestClient[] = [];

  /** channel connects as a node holding `cert`, verifying that the server is the mesh's push tier. */
  const channel = (client: { cert: string; key: string } | undefined, trust = ca.trustBundlePem) =>
    credentials.createSsl(Buffer.from(trust), client ? Buffer.from(client.key) : null, client ? Buffer.from(client.cert) : null, {
      checkServerIdentity: (_host, cert) =>
        cert.subjectaltname === `URI:${spiffeId(mesh, serverIdentityName)}` ? undefined : new Error(`not the push tier: ${cert.subjectaltname}`),
    });
  const connect = (client: { cert: string; key: string } | undefined, trust?: string) => {
    const c = new AdsTestClient(server.port, undefined, 'StreamAggregatedResources', channel(client, trust));
    open.push(c);
    return c;
  };
  const issueFor = async (signer: CaSigner, caPem: string, service: string) => {
    const issued = await issueServiceCertificate(signer, caPem, service, { mesh, now: new Date() });
    return { cert: issued.certificatePem, key: issued.privateKeyPem };
  };

  beforeAll(async () => {
    const store = await dynalite.newStore();
    for (const name of ['payments', 'ledger', 'orders'] as const) await declareService(store, threeServices[name], defaultRenderSettings);
    const signer = createLocalCaSigner();
    ca = await loadCertificateAuthority(store, signer, { mesh, now: new Date(), replaceForeign: true });
    const sealer = AesGcmSealer.generate();
    const issuer = { ca, sealer, policy: rotationPolicy(), now: () => new Date() };
    for (const name of services) {
      await ensureServiceCertificate(store, issuer, name);
      material[name] = await issueFor(signer, ca.certificatePem, name);
    }
    tls = new RenewingTls({
      issue: async () => {
        const own = await issueFor(signer, ca.certificatePem, serverIdentityName);
        return { certificatePem: own.cert, privateKeyPem: own.key, trustBundlePem: ca.trustBundlePem };
      },
    });
    await tls.start();
    const cache = new SnapshotCache(store, { ttlMs: 60_000 });
    server = await startAdsServer({ cache, authMode: 'mtls', sealer }, '127.0.0.1', 0, {
      credentials: tls.credentials(),
      principalOf: (_metadata, auth) => principalOfPeer(auth, mesh),
    });
  });
  afterAll(async () => {
    for (const c of open) c.close();
    tls.stop();
    await server.close();
  });

  const matrix = services.flatMap((caller) => services.flatMap((target) => xdsTypeNames.map((type) => [caller, target, type] as const)));

  it.each(matrix)('a node holding the certificate of %s asking for the %s of %s', async (caller, target, type) => {
    const client = connect(material[caller]);
    client.send(request(target, type));
    if (caller === target) {
      const response = await client.next();
      expect(response.type_url).toBe(typeUrls[type]);
      assertConformant(response);
    } else {
      const ended = await client.ended();
      expect({ type, code: ended.code }).toEqual({ type, code: status.PERMISSION_DENIED });
      expect(client.pending).toBe(0);
    }
    client.close();
  });

  it('refuses a node without a certificate in the handshake: it never reaches the xDS core', async () => {
    const client = connect(undefined);
    client.send(request('orders', 'clusters'));
    expect((await client.ended()).code).toBe(status.UNAVAILABLE);
    expect(client.pending).toBe(0);
  });

  it('refuses a certificate for the right service from another CA', async () => {
    const otherSigner = createLocalCaSigner();
    const otherCa = await issueCaCertificate(otherSigner, { mesh, now: new Date() });
    const impostor = await issueFor(otherSigner, otherCa.certificatePem, 'orders');
    const client = connect(impostor);
    client.send(request('orders', 'clusters'));
    expect((await client.ended()).code).toBe(status.UNAVAILABLE);
    expect(client.pending).toBe(0);
  });

  it("sends a node no other service's certificate on its own stream: the next answer is for its next request", async () => {
    const client = connect(material.orders);
    client.send({ ...request('orders', 'secrets'), resource_names: [names.serviceCertificateSecret('payments')] });
    client.send(request('orders', 'clusters'));
    const first = await client.next();
    expect(first.type_url).toBe(typeUrls.clusters);
    expect(JSON.stringify(first)).not.toContain('BEGIN');
  });

  it("ends a stream whose node switches to another service's name after its first answer", async () => {
    const client = connect(material.orders);
    client.send(request('orders', 'clusters'));
    expect((await client.next()).type_url).toBe(typeUrls.clusters);
    client.send(request('payments', 'listeners'));
    expect((await client.ended()).code).toBe(status.PERMISSION_DENIED);
  });
});
