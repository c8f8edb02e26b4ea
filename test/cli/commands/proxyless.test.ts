import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalControlPlane, LocalControlPlane } from '../../../local/server';
import { request } from '../../support/http-client';
import { runMeshctl } from '../../support/meshctl';

describe('meshctl proxyless', () => {
  let cp: LocalControlPlane;
  beforeAll(async () => {
    cp = await startLocalControlPlane({ port: 0, grpcPort: 0 });
    expect((await request(cp.url, 'PUT', '/services/payments', { name: 'payments', inboundPort: 15000, appPort: 8080, protocol: 'grpc' })).status).toBe(201);
  });
  afterAll(async () => cp.close());
  const dir = () => mkdtempSync(join(tmpdir(), 'meshctl-proxyless-'));

  it('writes the bootstrap of a proxyless node: the push tier, the node, and the server Listener template', async () => {
    const out = dir();
    const run = await runMeshctl(['proxyless', 'payments', '--node', 'payments-1', '--xds', '127.0.0.1:18001', '--dir', out, '--zone', 'eu-west-1a', '--endpoint', cp.url]);
    expect(run).toMatchObject({ code: 0, stdout: '' });
    expect(JSON.parse(readFileSync(join(out, 'bootstrap.json'), 'utf8'))).toEqual({
      xds_servers: [{ server_uri: '127.0.0.1:18001', channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
      node: { id: 'payments-1', cluster: 'payments', locality: { zone: 'eu-west-1a' }, metadata: { 'mesh.proxyless': true } },
      server_listener_resource_name_template: 'grpc/server?xds.resource.listening_address=%s',
    });
  });

  it("with --certs, writes the service's certificate, key and trust bundle and names them in a file_watcher provider", async () => {
    const out = dir();
    let run = await runMeshctl(['proxyless', 'payments', '--node', 'payments-1', '--xds', '127.0.0.1:18001', '--dir', out, '--certs', '--endpoint', cp.url]);
    // The certificate is issued as the service is declared: a few tries bound the wait.
    for (let i = 0; i < 50 && run.code !== 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      run = await runMeshctl(['proxyless', 'payments', '--node', 'payments-1', '--xds', '127.0.0.1:18001', '--dir', out, '--certs', '--endpoint', cp.url]);
    }
    expect(run.code).toBe(0);
    const bootstrap = JSON.parse(readFileSync(join(out, 'bootstrap.json'), 'utf8')) as Record<string, unknown>;
    expect(bootstrap.certificate_providers).toEqual({
      mesh_certificates: {
        plugin_name: 'file_watcher',
        config: { certificate_file: join(out, 'cert.pem'), private_key_file: join(out, 'key.pem'), ca_certificate_file: join(out, 'ca.pem'), refresh_interval: '600s' },
      },
    });
    const certificate = new X509Certificate(readFileSync(join(out, 'cert.pem')));
    expect(certificate.subjectAltName).toContain('URI:spiffe://mesh.local/service/payments');
    expect(certificate.verify(new X509Certificate(readFileSync(join(out, 'ca.pem'))).publicKey)).toBe(true);
    expect(readFileSync(join(out, 'key.pem'), 'utf8')).toContain('-----BEGIN PRIVATE KEY-----');
    expect(statSync(join(out, 'key.pem')).mode & 0o777).toBe(0o600);
  });

  it('refuses a missing --node, an --xds that is not HOST:PORT, and an undeclared service', async () => {
    expect((await runMeshctl(['proxyless', 'payments', '--xds', '127.0.0.1:18001', '--dir', dir(), '--endpoint', cp.url])).stderr).toContain('--node is required');
    expect(await runMeshctl(['proxyless', 'payments', '--node', 'p-1', '--xds', 'http://x', '--dir', dir(), '--endpoint', cp.url])).toMatchObject({
      code: 2,
      stderr: 'meshctl: --xds must be HOST:PORT of the push tier, got "http://x"\n',
    });
    const undeclared = await runMeshctl(['proxyless', 'nobody', '--node', 'n-1', '--xds', '127.0.0.1:18001', '--dir', dir(), '--certs', '--endpoint', cp.url]);
    expect(undeclared.code).not.toBe(0);
    expect(undeclared.stderr).toContain('POST /v3/discovery:secrets failed');
  });
});
