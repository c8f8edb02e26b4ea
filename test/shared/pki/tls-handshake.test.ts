import { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { IssuedCertificate } from '../../../shared/pki/certificate';
import { createLocalCaSigner } from '../../../shared/pki/signer';
import { createTestCa, mesh as meshName, realNow, TestCa } from './fixtures';

/**
 * Real TLS 1.3 handshakes on loopback with node's TLS stack (OpenSSL), configured as Envoy is:
 * the server requires a client certificate from the mesh CA, the client pins the server's
 * SPIFFE ID. Nothing is mocked: the certificates are the ones the control plane issues.
 *
 * OpenSSL checks validity against the machine's clock, so these certificates are issued at the
 * real now: the suite passes on any date, and under libfaketime (`npm run test:calendar`).
 */

interface Outcome {
  /** What the client read back: the echo proves data flowed both ways. */
  readonly echoed?: string;
  /** The SPIFFE ID the server saw on the client's certificate. */
  readonly serverSawPeer?: string;
  /** Who refused the connection, and OpenSSL's reason. */
  readonly refusedBy?: 'server' | 'client';
  readonly reason?: string;
}

let mesh: TestCa;
let otherMesh: TestCa;
let payments: IssuedCertificate;
let orders: IssuedCertificate;

beforeAll(async () => {
  const issuedAt = realNow();
  mesh = await createTestCa(createLocalCaSigner(), meshName, issuedAt);
  otherMesh = await createTestCa(createLocalCaSigner(), meshName, issuedAt); // same trust domain name, different CA key: a forgery
  payments = await mesh.issue('payments');
  orders = await mesh.issue('orders');
});

/** spiffeIdentityCheck refuses a server whose certificate does not carry the expected SPIFFE ID, as Envoy's SAN matcher does. */
const spiffeIdentityCheck = (expected: string) => (_host: string, cert: tls.PeerCertificate) =>
  cert.subjectaltname === `URI:${expected}` ? undefined : new Error(`server is ${cert.subjectaltname}, not ${expected}`);

async function handshake(server: IssuedCertificate, client: { cert?: IssuedCertificate; trust?: string; expectServer: string }): Promise<Outcome> {
  let serverSawPeer: string | undefined;
  let serverRefusal: string | undefined;
  const tlsServer = tls.createServer(
    { key: server.privateKeyPem, cert: server.certificatePem, ca: mesh.ca.certificatePem, requestCert: true, rejectUnauthorized: true },
    (socket) => {
      serverSawPeer = socket.getPeerCertificate().subjectaltname;
      socket.on('data', (data) => socket.end(data));
      socket.on('error', () => undefined);
    },
  );
  // Node checks the client's chain after the handshake and drops the socket; the verdict is on the socket.
  tlsServer.on('tlsClientError', (err: NodeJS.ErrnoException, socket: tls.TLSSocket) => {
    serverRefusal = String(socket.authorizationError ?? err.code ?? err.message);
  });
  await new Promise<void>((resolve) => tlsServer.listen(0, '127.0.0.1', resolve));
  const { port } = tlsServer.address() as AddressInfo;
  try {
    let clientRefusal: string | undefined;
    const echoed = await new Promise<string | undefined>((resolve) => {
      const socket = tls.connect({
        host: '127.0.0.1',
        port,
        servername: 'payments.mesh.local',
        ca: client.trust ?? mesh.ca.certificatePem,
        key: client.cert?.privateKeyPem,
        cert: client.cert?.certificatePem,
        checkServerIdentity: spiffeIdentityCheck(client.expectServer),
      });
      let received = '';
      // With TLS 1.3 the client finishes its side before the server has judged the client's
      // certificate, so a refusal shows as an alert or a reset on the first read.
      socket.on('secureConnect', () => socket.write('ping'));
      socket.on('data', (data) => (received += data.toString()));
      socket.on('end', () => resolve(received || undefined));
      socket.on('error', (err: NodeJS.ErrnoException) => {
        clientRefusal = err.code ?? err.message;
        resolve(undefined);
      });
    });
    if (echoed !== undefined) return { echoed, serverSawPeer };
    // The client learns of a server-side refusal only as an alert: the server's own reason is the telling one.
    await new Promise((resolve) => setImmediate(resolve));
    return serverRefusal ? { refusedBy: 'server', reason: serverRefusal } : { refusedBy: 'client', reason: clientRefusal };
  } finally {
    await new Promise((resolve) => tlsServer.close(resolve));
  }
}

describe('mTLS between services with the certificates the control plane issues', () => {
  test('an allowed caller with its mesh certificate connects, and each side sees the other identity', async () => {
    expect(await handshake(payments, { cert: orders, expectServer: 'spiffe://mesh.local/service/payments' })).toEqual({
      echoed: 'ping',
      serverSawPeer: 'URI:spiffe://mesh.local/service/orders',
    });
  });

  test('a client whose certificate comes from another CA is refused, even with the same SPIFFE ID', async () => {
    const forged = await otherMesh.issue('orders');
    expect(forged.spiffeId).toBe(orders.spiffeId);
    expect(await handshake(payments, { cert: forged, expectServer: 'spiffe://mesh.local/service/payments' })).toEqual({ refusedBy: 'server', reason: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
  });

  test('a client that presents no certificate is refused', async () => {
    expect(await handshake(payments, { expectServer: 'spiffe://mesh.local/service/payments' })).toEqual({ refusedBy: 'server', reason: 'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE' });
  });

  test('a client refuses a server with a valid mesh certificate of another service', async () => {
    expect(await handshake(orders, { cert: orders, expectServer: 'spiffe://mesh.local/service/payments' })).toEqual({
      refusedBy: 'client',
      reason: 'server is URI:spiffe://mesh.local/service/orders, not spiffe://mesh.local/service/payments',
    });
  });

  test('a certificate whose validity ended by the real clock is refused, which is why these are issued at the real now', async () => {
    const lapsed = await mesh.issue('orders', { now: new Date(realNow().getTime() - 2 * 86_400_000), lifetimeSeconds: 86_400 });
    expect(await handshake(payments, { cert: lapsed, expectServer: 'spiffe://mesh.local/service/payments' })).toEqual({ refusedBy: 'server', reason: 'CERT_HAS_EXPIRED' });
  });

  test('a client refuses a server whose certificate comes from another CA', async () => {
    const forged = await otherMesh.issue('payments');
    expect(await handshake(forged, { cert: orders, expectServer: 'spiffe://mesh.local/service/payments' })).toEqual({ refusedBy: 'client', reason: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
  });
});
