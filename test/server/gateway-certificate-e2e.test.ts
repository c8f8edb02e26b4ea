import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { X509Certificate } from 'node:crypto';
import * as tls from 'node:tls';
import { typeUrls } from '../../shared/envoy/resources';
import { createLocalCaSigner } from '../../shared/pki/signer';
import { rotationPolicy } from '../../shared/pki/rotation';
import { names } from '../../shared/render/names';
import { defaultRenderSettings } from '../../shared/render/settings';
import { OperatorCertificateSource } from '../../shared/secrets/operator-source';
import { AesGcmSealer } from '../../shared/secrets/sealer';
import { declareService } from '../../shared/state/catalog';
import { CertificateIssuer, loadCertificateAuthority, rotateCertificates } from '../../shared/state/certificates';
import { useDynalite } from '../support/dynamo';
import { AdsResponse, AdsTestClient } from '../support/ads-client';
import { assertConformant } from '../support/envoy-schema';
import { OperatorChain, operatorChain, secretJson } from '../support/operator-certificates';
import { AdsPlane, adsPlane } from './fixtures';

/**
 * A gateway's TLS listener certificate from the operator's secret to a TLS handshake: the
 * gateway's Envoy subscribes to `gateway_certificate_edge_443` on its ADS stream, gets a Secret
 * that strict-decodes against Envoy's protos, and a TLS server made of exactly what was served
 * (as Envoy's listener would be) completes a handshake with a real node:tls client that trusts
 * only the operator's root and asks for the certificate's host name. A rotated secret is pushed
 * on the open stream, and the next handshake presents the new certificate. No Envoy binary
 * here: the handshake stands for the listener. OpenSSL checks validity against the real clock,
 * so these certificates are issued at the real now.
 */
const dynalite = useDynalite();
const arn = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:edge-tls-AbCdEf';
const secretName = names.gatewayCertificateSecret('edge', 443);
const edgeNode = { id: 'edge-a', cluster: 'edge', metadata: { 'mesh.service': 'edge', 'mesh.xds': 'ads' } };
const ordersNode = { id: 'orders-a', cluster: 'orders', metadata: { 'mesh.service': 'orders', 'mesh.xds': 'ads' } };

interface Secret {
  name: string;
  tls_certificate: { certificate_chain: { inline_string: string }; private_key: { inline_string: string } };
}

/** handshake serves TLS with a served Secret, as the listener would, and returns what a client trusting `root` was shown. */
async function handshake(secret: Secret, root: string): Promise<{ fingerprint: string; authorized: boolean; chainLength: number }> {
  const server = tls.createServer({ cert: secret.tls_certificate.certificate_chain.inline_string, key: secret.tls_certificate.private_key.inline_string }, (socket) => socket.end());
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const socket = tls.connect({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, servername: 'shop.example.com', ca: [root] });
    await once(socket, 'secureConnect');
    const peer = socket.getPeerCertificate(true);
    let chainLength = 1;
    for (let c = peer; c.issuerCertificate && c.issuerCertificate !== c; c = c.issuerCertificate) chainLength++;
    const shown = { fingerprint: peer.fingerprint256, authorized: socket.authorized, chainLength };
    socket.destroy();
    return shown;
  } finally {
    server.close();
  }
}

const fingerprintOf = (chain: OperatorChain) => new X509Certificate(chain.leaf.certificatePem).fingerprint256;
const secretOf = (r: AdsResponse) => (r.resources as unknown as Secret[])[0]!;

describe('a gateway listener certificate over the push tier, into a TLS handshake', () => {
  let plane: AdsPlane;
  let issuer: CertificateIssuer;
  const values = new Map<string, { versionId: string; text: string }>();
  const clients: AdsTestClient[] = [];
  const source: OperatorCertificateSource = {
    read: async (secretArn) => {
      const value = values.get(secretArn);
      if (!value) throw new Error(`no secret ${secretArn}`);
      return value;
    },
  };
  /** declareEdge declares the gateway `edge` with a TLS listener on 443 whose certificate is the secret `arn`. */
  const declareEdge = () =>
    declareService(
      plane.store,
      { name: 'edge', kind: 'gateway', listeners: [{ port: 443, protocol: 'http', tls: { certificateSecretArn: arn } }], routes: [{ pathPrefix: '/', service: 'payments' }] },
      defaultRenderSettings,
      { certificates: { issuer, store: plane.store } },
    );
  const open = () => {
    const client = new AdsTestClient(plane.server.port);
    clients.push(client);
    return client;
  };

  beforeEach(async () => {
    const sealer = AesGcmSealer.generate();
    plane = await adsPlane(await dynalite.newStore(), { sealer });
    const ca = await loadCertificateAuthority(plane.store, createLocalCaSigner(), { mesh: 'mesh.local', now: new Date(), replaceForeign: false });
    issuer = { ca, sealer, policy: rotationPolicy(), now: () => new Date(), operatorCertificates: source };
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await plane.server.close();
  });

  it('serves the operator’s chain and key, strict-valid, and pushes a rotated one; a client completes TLS with each', async () => {
    const first = operatorChain(new Date());
    values.set(arn, { versionId: 'v1', text: secretJson(first) });
    await declareEdge();

    const client = open();
    client.send({ node: edgeNode, type_url: typeUrls.secrets, resource_names: [secretName] });
    const served = await client.next();
    expect(() => assertConformant(served)).not.toThrow();
    expect(secretOf(served).name).toBe(secretName);
    expect(await handshake(secretOf(served), first.root.certificatePem)).toEqual({ fingerprint: fingerprintOf(first), authorized: true, chainLength: 3 });

    client.send({ type_url: typeUrls.secrets, resource_names: [secretName], version_info: served.version_info, response_nonce: served.nonce });
    const second = operatorChain(new Date());
    values.set(arn, { versionId: 'v2', text: secretJson(second) });
    expect((await rotateCertificates(plane.store, issuer)).gatewayCertificates.copied).toEqual(['edge:443']);
    await plane.watcher.poke();
    const pushed = await client.next();
    expect(() => assertConformant(pushed)).not.toThrow();
    expect(pushed.version_info).not.toBe(served.version_info);
    expect(await handshake(secretOf(pushed), second.root.certificatePem)).toEqual({ fingerprint: fingerprintOf(second), authorized: true, chainLength: 3 });
  });

  it('sends the certificate to no node of another service: the request is refused and the stream goes on', async () => {
    values.set(arn, { versionId: 'v1', text: secretJson(operatorChain(new Date())) });
    await declareEdge();
    const client = open();
    client.send({ node: ordersNode, type_url: typeUrls.secrets, resource_names: [secretName] });
    client.send({ type_url: typeUrls.clusters });
    const next = await client.next();
    expect(next.type_url).toBe(typeUrls.clusters);
    expect(JSON.stringify(next)).not.toContain('PRIVATE KEY');
    expect(client.pending).toBe(0);
  });
});
