import { createPrivateKey, X509Certificate } from 'node:crypto';
import type { PeerCertificate } from 'node:tls';
import { credentials, status } from '@grpc/grpc-js';
import { startAdsServer, AdsServer } from '../../server/ads-server';
import { generateKeyPairSync } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { createPushCertificateHandler } from '../../functions/push-certificate/handler';
import { meshTls, principalOfPeer, PushCertificateSource, pushCertificateFunction, RenewingTls, serverIdentityName, TlsMaterial } from '../../server/identity';
import { MeshStore } from '../../shared/store/mesh-store';
import { AesGcmSealer } from '../../shared/secrets/sealer';
import { CaSigner, createLocalCaSigner } from '../../shared/pki/signer';
import { issueCaCertificate, issueServiceCertificate } from '../../shared/pki/certificate';
import { spiffeId } from '../../shared/pki/identity';
import { rotationPolicy } from '../../shared/pki/rotation';
import { currentTrustBundle, ensureServiceCertificate, loadCertificateAuthority, MeshCertificateAuthority } from '../../shared/state/certificates';
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

/** inProcess is the push-certificate port over the real handler, in this process instead of Lambda. */
const inProcess = (store: MeshStore, signer: CaSigner): PushCertificateSource => {
  const handler = createPushCertificateHandler(store, async () => signer, { mesh });
  return (request) => handler(request, { functionName: 'push-certificate', awsRequestId: 'req-1' } as Context);
};

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

describe('meshTls', () => {
  /** identities collects what the server would present: each certificate with the key beside it. */
  const identities = (tls: RenewingTls) => {
    const seen: { cert: X509Certificate; key: string }[] = [];
    tls.addIdentityCertificateListener((u) => seen.push({ cert: new X509Certificate(u!.certificate), key: u!.privateKey.toString() }));
    return seen;
  };
  const keyMatches = ({ cert, key }: { cert: X509Certificate; key: string }) => cert.checkPrivateKey(createPrivateKey(key));

  it('waits for the mesh CA, then presents an _xds certificate for a key of its own, and a new key at each renewal', async () => {
    const store = await dynalite.newStore();
    const signer = createLocalCaSigner();
    const errors: string[] = [];
    let clock = Date.now();
    const tls = await meshTls(
      inProcess(store, signer),
      (m) => {
        // The first service is declared while the server waits: the CA exists from then on.
        if (errors.push(m) === 1) void loadCertificateAuthority(store, signer, { mesh, now: new Date(), replaceForeign: false });
      },
      { startRetryMs: 20, now: () => clock },
    );
    try {
      expect(errors[0]).toBe(
        "cannot issue the push tier's certificate yet, retrying in 0.02 s: the push-certificate function answered unavailable: the mesh CA does not exist yet: declare a service first",
      );
      const seen = identities(tls);
      await new Promise((resolve) => setImmediate(resolve));
      // Due at half its lifetime, by the injected clock; then renewed with a new key.
      const first = seen[0]!.cert;
      clock = (Date.parse(first.validFrom) + Date.parse(first.validTo)) / 2;
      expect(tls.renewInMs()).toBe(0);
      await tls.renew();
      await new Promise((resolve) => setImmediate(resolve));
      const caKey = new X509Certificate((await store.getCertificateAuthority())!).publicKey;
      expect(seen.map((s) => ({ san: s.cert.subjectAltName, verifies: s.cert.verify(caKey), ownKey: keyMatches(s) }))).toEqual([
        { san: `URI:${spiffeId(mesh, serverIdentityName)}`, verifies: true, ownKey: true },
        { san: `URI:${spiffeId(mesh, serverIdentityName)}`, verifies: true, ownKey: true },
      ]);
      expect(seen[0]!.key).not.toBe(seen[1]!.key);
    } finally {
      tls.stop();
    }
  });

  it('renews at once when the stored trust bundle changes (a CA rotation), before its half-life', async () => {
    const store = await dynalite.newStore();
    let signer = createLocalCaSigner();
    await loadCertificateAuthority(store, signer, { mesh, now: new Date(), replaceForeign: false });
    const tls = await meshTls((request) => inProcess(store, signer)(request), () => undefined, {
      currentTrustBundle: () => currentTrustBundle(store),
      trustCheckMs: 20,
    });
    try {
      const seen = identities(tls);
      await new Promise((resolve) => setImmediate(resolve));
      const oldCa = new X509Certificate((await store.getCertificateAuthority())!);
      expect(seen.map((s) => s.cert.checkIssued(oldCa))).toEqual([true]);

      // The mesh moves to a new CA key: the old CA is kept as retired, trusted beside the new one.
      signer = createLocalCaSigner();
      await loadCertificateAuthority(store, signer, { mesh, now: new Date(), replaceForeign: true });
      const newCa = new X509Certificate((await store.getCertificateAuthority())!);
      // Bounded wait for the watch to notice (it checks every 20 ms).
      for (let i = 0; i < 400 && seen.length < 2; i++) await new Promise((resolve) => setTimeout(resolve, 25));
      expect(seen.map((s) => ({ old: s.cert.checkIssued(oldCa), new: s.cert.checkIssued(newCa) }))).toEqual([
        { old: true, new: false },
        { old: false, new: true },
      ]);
      expect(tls.renewInMs()).toBeGreaterThan(0); // a fresh certificate: its next renewal is ahead
    } finally {
      tls.stop();
    }
  });

  it('renews once for a new trust bundle, however many checks come while that renewal is in flight', async () => {
    const store = await dynalite.newStore();
    let signer = createLocalCaSigner();
    await loadCertificateAuthority(store, signer, { mesh, now: new Date(), replaceForeign: false });
    let issued = 0;
    let gate: Promise<void> | undefined;
    const tls = await meshTls(
      async (request) => {
        issued++;
        if (gate) await gate;
        return inProcess(store, signer)(request);
      },
      () => undefined,
      { currentTrustBundle: () => currentTrustBundle(store), trustCheckMs: 5 },
    );
    try {
      const seen = identities(tls);
      await new Promise((resolve) => setImmediate(resolve));
      let release!: () => void;
      gate = new Promise((resolve) => (release = resolve));
      signer = createLocalCaSigner();
      await loadCertificateAuthority(store, signer, { mesh, now: new Date(), replaceForeign: true });
      // The renewal for the new bundle starts, and is held while checks keep coming (every 5 ms).
      for (let i = 0; i < 400 && issued < 2; i++) await new Promise((resolve) => setTimeout(resolve, 25));
      expect(issued).toBe(2);
      for (let i = 0; i < 10; i++) await new Promise((resolve) => setTimeout(resolve, 25));
      release();
      for (let i = 0; i < 400 && seen.length < 2; i++) await new Promise((resolve) => setTimeout(resolve, 25));
      for (let i = 0; i < 10; i++) await new Promise((resolve) => setTimeout(resolve, 25));
      expect({ issued, delivered: seen.length }).toEqual({ issued: 2, delivered: 2 });
    } finally {
      tls.stop();
    }
  });

  it('refuses a certificate for another key than the one it sent', async () => {
    const store = await dynalite.newStore();
    const signer = createLocalCaSigner();
    await loadCertificateAuthority(store, signer, { mesh, now: new Date(), replaceForeign: false });
    const honest = inProcess(store, signer);
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }) as string;
    const errors: string[] = [];
    let calls = 0;
    const tls = await meshTls(async (request) => honest(calls++ === 0 ? { publicKeyPem: other } : request), (m) => errors.push(m), { startRetryMs: 10 });
    tls.stop();
    expect(errors).toEqual([expect.stringMatching(/the push-certificate function certified another key than the one sent$/)]);
  });
});

describe('pushCertificateFunction', () => {
  const lambda = mockClient(LambdaClient);
  afterEach(() => lambda.reset());
  const client = () => new LambdaClient({ region: 'us-east-1' });

  it('invokes the function with the request and returns its answer', async () => {
    const answer = { status: 'unavailable', message: 'no CA' };
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: Buffer.from(JSON.stringify(answer)) as never });
    expect(await pushCertificateFunction(client(), 'fn')({ publicKeyPem: 'k' })).toEqual(answer);
    const input = lambda.commandCalls(InvokeCommand)[0]!.args[0].input;
    expect({ name: input.FunctionName, payload: JSON.parse(Buffer.from(input.Payload as Uint8Array).toString()) }).toEqual({ name: 'fn', payload: { publicKeyPem: 'k' } });
  });

  it('throws the error of a failed invocation, with the function named', async () => {
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, FunctionError: 'Unhandled', Payload: Buffer.from(JSON.stringify({ errorMessage: 'KMS Sign failed' })) as never });
    await expect(pushCertificateFunction(client(), 'fn')({ publicKeyPem: 'k' })).rejects.toThrow('the push-certificate function fn failed: KMS Sign failed');
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
    // The server's own certificate as in AWS: its key made here, certified by the push-certificate handler.
    tls = await meshTls(inProcess(store, signer), (m) => {
      throw new Error(m);
    });
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
