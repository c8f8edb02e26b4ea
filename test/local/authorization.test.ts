import { connect, createServer, TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { startLocalControlPlane, LocalControlPlane } from '../../local/server';
import { request } from '../support/http-client';
import { threeServices } from '../support/three-services';
import { assertConformant } from '../support/envoy-schema';
import { typeUrls, XdsTypeName, xdsTypeNames } from '../../shared/envoy/resources';
import { names } from '../../shared/render/names';
import { ensureServiceCertificate } from '../../shared/state/certificates';
import { rotationPolicy } from '../../shared/pki/rotation';
import { createLocalCaSigner } from '../../shared/pki/signer';
import { issueCaCertificate, issueServiceCertificate } from '../../shared/pki/certificate';

/**
 * Every xDS request is authenticated and bound to a service: a node of `orders` gets its own
 * configuration and secrets and is refused everyone else's. The local runner's tokens stand in
 * for the IAM signatures the function URL verifies in AWS; the binding logic is the same.
 */
const services = ['ledger', 'orders', 'payments'] as const;
const specs = threeServices;

/** What a node of `service` legitimately asks for, per type. */
function pollBody(service: string, type: XdsTypeName): Record<string, unknown> {
  const node = { id: `${service}-1`, cluster: service };
  const named: Partial<Record<XdsTypeName, string[]>> = {
    routes: ['inbound'],
    endpoints: [service],
    secrets: [names.serviceCertificateSecret(service)],
  };
  return { node, type_url: typeUrls[type], ...(named[type] ? { resource_names: named[type] } : {}) };
}

async function poll(cp: LocalControlPlane, type: XdsTypeName, body: unknown, token?: string) {
  const res = await fetch(`${cp.url}/v3/discovery:${type}`, {
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : undefined };
}

describe('xDS authorization', () => {
  let cp: LocalControlPlane;
  const tokens: Record<string, string> = {};
  const bearer = (token: string | undefined) => ({ authorization: `Bearer ${token}` });

  beforeAll(async () => {
    cp = await startLocalControlPlane({ port: 0, auth: 'token' });
    const admin = bearer(cp.adminToken);
    for (const name of ['payments', 'ledger', 'orders'] as const) {
      expect((await request(cp.url, 'PUT', `/services/${name}`, specs[name], admin)).status).toBe(201);
      const issued = await request(cp.url, 'POST', `/services/${name}/token`, undefined, admin);
      tokens[name] = (issued.body as { token: string }).token;
    }
  });
  afterAll(async () => cp.close());

  it("refuses the management API without the admin token: a node's own token mints no other service's", async () => {
    const attempts: [string, string, unknown][] = [
      ['POST', '/services/payments/token', undefined],
      ['GET', '/bootstrap/payments?node=payments-9', undefined],
      ['PUT', '/services/payments', specs.payments],
      ['GET', '/services', undefined],
      ['POST', '/events', []],
    ];
    for (const [method, path, body] of attempts) {
      for (const credential of [{}, bearer(tokens.orders)]) {
        const answer = await request(cp.url, method, path, body, credential);
        expect({ method, path, status: answer.status, error: (answer.body as { error?: string }).error }).toEqual({
          method,
          path,
          status: 401,
          error: `${method} ${path.replace(/\?.*$/, '')} needs the admin token that npm start printed: Authorization: Bearer <admin token>`,
        });
      }
    }
    expect((await request(cp.url, 'POST', '/services/payments/token', undefined, bearer(cp.adminToken))).status).toBe(200);
  });

  it("generates a bootstrap that carries the node's own token, which polls its service and only its service", async () => {
    const answer = await request(cp.url, 'GET', '/bootstrap/orders?node=orders-7', undefined, bearer(cp.adminToken));
    expect(answer.status).toBe(200);
    assertConformant(answer.body, 'type.googleapis.com/envoy.config.bootstrap.v3.Bootstrap');
    const [xds] = (answer.body as { static_resources: { clusters: { typed_extension_protocol_options: Record<string, { http_filters: { name: string; typed_config: { mutations: { request_mutations: { append: { header: { key: string; value: string } } }[] } } }[] }> }[] } }).static_resources.clusters;
    const [mutation] = xds!.typed_extension_protocol_options['envoy.extensions.upstreams.http.v3.HttpProtocolOptions']!.http_filters;
    const header = mutation!.typed_config.mutations.request_mutations[0]!.append.header;
    expect(header).toEqual({ key: 'authorization', value: `Bearer ${tokens.orders}` });
    const token = header.value.replace(/^Bearer /, '');
    expect((await poll(cp, 'clusters', pollBody('orders', 'clusters'), token)).status).toBe(200);
    expect((await poll(cp, 'clusters', pollBody('payments', 'clusters'), token)).status).toBe(403);
  });

  const matrix = services.flatMap((caller) => services.flatMap((target) => xdsTypeNames.map((type) => [caller, target, type] as const)));

  it.each(matrix)('a node holding the token of %s asking for the %s of %s', async (caller, target, type) => {
    const answer = await poll(cp, type, pollBody(target, type), tokens[caller]);
    if (caller === target) {
      expect({ type, status: answer.status }).toEqual({ type, status: 200 });
      assertConformant(answer.body);
    } else {
      expect({ type, status: answer.status }).toEqual({ type, status: 403 });
      expect(JSON.stringify(answer.body)).not.toContain('BEGIN');
    }
  });

  it.each(xdsTypeNames)('refuses an unauthenticated or forged %s poll with 401', async (type) => {
    expect((await poll(cp, type, pollBody('orders', type))).status).toBe(401);
    const forged = `orders.${'A'.repeat(43)}`;
    expect((await poll(cp, type, pollBody('orders', type), forged)).status).toBe(401);
  });

  it("refuses a node another service's certificate even with its own token", async () => {
    const body = { ...pollBody('orders', 'secrets'), resource_names: [names.serviceCertificateSecret('payments')] };
    const answer = await poll(cp, 'secrets', body, tokens.orders);
    expect(answer.status).toBe(403);
  });

  it('serves each service its certificate and the trust bundle as separate SDS secrets', async () => {
    const cert = await poll(cp, 'secrets', pollBody('payments', 'secrets'), tokens.payments);
    const bundle = await poll(cp, 'secrets', { ...pollBody('payments', 'secrets'), resource_names: [names.trustBundleSecret] }, tokens.payments);
    const [secret] = (cert.body as { resources: Record<string, unknown>[] }).resources;
    expect(secret).toEqual({
      '@type': typeUrls.secrets,
      name: 'service_certificate_payments',
      tls_certificate: {
        certificate_chain: { inline_string: expect.stringContaining('BEGIN CERTIFICATE') },
        private_key: { inline_string: expect.stringContaining('BEGIN PRIVATE KEY') },
      },
    });
    expect((bundle.body as { resources: { name: string }[] }).resources.map((r) => r.name)).toEqual(['mesh_trust_bundle']);
  });

  it('serves a new certificate version after rotation, and the same version until then', async () => {
    const first = await poll(cp, 'secrets', pollBody('orders', 'secrets'), tokens.orders);
    const version = (first.body as { version_info: string }).version_info;
    const unchanged = await poll(cp, 'secrets', { ...pollBody('orders', 'secrets'), version_info: version }, tokens.orders);
    expect(unchanged.status).toBe(304);
    // The operator shortens the lifetime to an hour: a 24-hour certificate is due, and rotation
    // issues a new one (valid now, so the handshake below still works with it).
    const shorter = { ...cp.certificates, policy: rotationPolicy({ lifetimeSeconds: 3600 }) };
    expect(await ensureServiceCertificate(cp.runtime.store, cp.certificates, 'orders')).toBe('current');
    expect(await ensureServiceCertificate(cp.runtime.store, shorter, 'orders')).toBe('issued');
    await new Promise((r) => setTimeout(r, 1100)); // the snapshot cache's TTL on the local runner
    const rotated = await poll(cp, 'secrets', { ...pollBody('orders', 'secrets'), version_info: version }, tokens.orders);
    expect(rotated.status).toBe(200);
    expect((rotated.body as { version_info: string }).version_info).not.toBe(version);
  });

  it('completes a TLS handshake between two services with the served secrets, and refuses another CA', async () => {
    const material = async (service: string) => {
      const [certificate] = (
        (await poll(cp, 'secrets', pollBody(service, 'secrets'), tokens[service])).body as {
          resources: { tls_certificate: { certificate_chain: { inline_string: string }; private_key: { inline_string: string } } }[];
        }
      ).resources;
      const [bundle] = (
        (await poll(cp, 'secrets', { ...pollBody(service, 'secrets'), resource_names: [names.trustBundleSecret] }, tokens[service])).body as {
          resources: { validation_context: { trusted_ca: { inline_string: string } } }[];
        }
      ).resources;
      return {
        cert: certificate!.tls_certificate.certificate_chain.inline_string,
        key: certificate!.tls_certificate.private_key.inline_string,
        ca: bundle!.validation_context.trusted_ca.inline_string,
      };
    };
    const payments = await material('payments');
    const orders = await material('orders');
    const server = createServer({ ...payments, requestCert: true, rejectUnauthorized: true }, (socket) => {
      socket.on('data', () => socket.end('ok'));
      socket.on('error', () => undefined);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const { port } = server.address() as AddressInfo;
    const handshake = (client: { cert: string; key: string; ca: string }) =>
      new Promise<string>((resolve) => {
        const socket: TLSSocket = connect({
          host: '127.0.0.1',
          port,
          servername: 'payments.mesh.local',
          ...client,
          checkServerIdentity: (_host, peer) =>
            peer.subjectaltname === 'URI:spiffe://mesh.local/service/payments' ? undefined : new Error(`unexpected peer ${peer.subjectaltname}`),
        });
        let data = '';
        socket.on('secureConnect', () => socket.write('hello'));
        socket.on('data', (d) => (data += d.toString()));
        socket.on('end', () => resolve(data));
        socket.on('error', (err) => resolve(`refused: ${err.message}`));
      });
    try {
      expect(await handshake(orders)).toBe('ok');
      // A certificate for "orders" from another CA: the server refuses it.
      const otherSigner = createLocalCaSigner();
      const otherCa = await issueCaCertificate(otherSigner, { mesh: 'mesh.local', now: new Date() });
      const impostor = await issueServiceCertificate(otherSigner, otherCa.certificatePem, 'orders', { mesh: 'mesh.local', now: new Date() });
      const refused = await handshake({ cert: impostor.certificatePem, key: impostor.privateKeyPem, ca: orders.ca });
      expect(refused).not.toBe('ok');
    } finally {
      server.close();
    }
  });
});
