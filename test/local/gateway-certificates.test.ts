import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileCertificateSource, parseGatewayCertificateFlags } from '../../local/gateway-certificates';
import { LocalControlPlane, startLocalControlPlane } from '../../local/server';
import { typeUrls } from '../../shared/envoy/resources';
import { names } from '../../shared/render/names';
import { OperatorSecretUnreadableError } from '../../shared/secrets/operator-source';
import { request } from '../support/http-client';
import { assertConformant } from '../support/envoy-schema';
import { operatorChain } from '../support/operator-certificates';

/**
 * A TLS gateway on the local runner: `--gateway-certificate <arn>=<chain.pem>,<key.pem>` stands
 * for the Secrets Manager secret, and the gateway's Envoy polls its listener certificate over
 * REST SDS from `npm start` as it would from the xds function.
 */
const arn = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:edge-tls-AbCdEf';
const dir = mkdtempSync(join(tmpdir(), 'gateway-certs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('--gateway-certificate', () => {
  it.each([
    [[`${arn}=/a/chain.pem,/a/key.pem`], [[arn, ['/a/chain.pem', '/a/key.pem']]]],
    [[`${arn}=/a/both.pem`], [[arn, ['/a/both.pem']]]],
  ])('reads %j', (flags, expected) => {
    expect([...parseGatewayCertificateFlags(flags)]).toEqual(expected);
  });

  it.each([['no-equals-sign'], [`${arn}=`], ['name=/a.pem'], [`${arn}=/a,/b,/c`]])('refuses %s, saying the form', (flag) => {
    expect(() => parseGatewayCertificateFlags([flag])).toThrow(/must be <secret arn>=<chain.pem>,<key.pem>/);
  });

  it('refuses an ARN given twice', () => {
    expect(() => parseGatewayCertificateFlags([`${arn}=/a.pem`, `${arn}=/b.pem`])).toThrow(/names .* twice/);
  });

  it('reads the files at each read: changed content is a new version, as a rotated secret is', async () => {
    const file = join(dir, 'rotating.pem');
    const source = fileCertificateSource(new Map([[arn, [file]]]));
    writeFileSync(file, 'first');
    const first = await source.read(arn);
    expect((await source.read(arn)).versionId).toBe(first.versionId);
    writeFileSync(file, 'second');
    expect((await source.read(arn)).versionId).not.toBe(first.versionId);
    await expect(source.read('arn:aws:secretsmanager:eu-west-1:111122223333:secret:other-AbCdEf')).rejects.toThrow(OperatorSecretUnreadableError);
  });
});

describe('a TLS gateway on the local runner', () => {
  let cp: LocalControlPlane;
  // Served to a TLS listener, so issued at the real now (nothing here compares it with a clock).
  const chain = operatorChain(new Date());
  beforeAll(async () => {
    writeFileSync(join(dir, 'chain.pem'), chain.chainPem);
    writeFileSync(join(dir, 'key.pem'), chain.keyPem);
    cp = await startLocalControlPlane({
      port: 0,
      config: { snapshotCacheTtlMs: 0 },
      gatewayCertificates: fileCertificateSource(parseGatewayCertificateFlags([`${arn}=${join(dir, 'chain.pem')},${join(dir, 'key.pem')}`])),
    });
  });
  afterAll(() => cp.close());

  const poll = (service: string, port: number) =>
    request(cp.url, 'POST', '/v3/discovery:secrets', { node: { id: `${service}-1`, cluster: service }, resource_names: [names.gatewayCertificateSecret('edge', port)] });

  it('serves the gateway’s Envoy the certificate from the files, strict-valid, and refuses any other node', async () => {
    expect((await request(cp.url, 'PUT', '/services/web', { name: 'web', inboundPort: 15000, appPort: 8080, protocol: 'http' })).status).toBe(201);
    const declared = await request(cp.url, 'PUT', '/services/edge', {
      name: 'edge',
      kind: 'gateway',
      listeners: [{ port: 443, protocol: 'http', tls: { certificateSecretArn: arn } }],
      routes: [{ pathPrefix: '/', service: 'web' }],
    });
    expect(declared.status).toBe(201);

    const answer = await poll('edge', 443);
    expect(answer.status).toBe(200);
    expect(() => assertConformant(answer.body)).not.toThrow();
    const body = answer.body as { type_url: string; resources: { tls_certificate: { certificate_chain: { inline_string: string } } }[] };
    expect(body.type_url).toBe(typeUrls.secrets);
    expect(new X509Certificate(body.resources[0]!.tls_certificate.certificate_chain.inline_string).fingerprint256).toBe(new X509Certificate(chain.leaf.certificatePem).fingerprint256);
    expect((await poll('web', 443)).status).toBe(403);
  });

  it('refuses a gateway whose secret has no files here, naming the flag at the listener’s field', async () => {
    const other = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:admin-tls-GhIjKl';
    const refused = await request(cp.url, 'PUT', '/services/admin-edge', {
      name: 'admin-edge',
      kind: 'gateway',
      listeners: [{ port: 8443, protocol: 'http', tls: { certificateSecretArn: other } }],
      routes: [{ pathPrefix: '/', service: 'web' }],
    });
    expect(refused.status).toBe(400);
    expect((refused.body as { problems: unknown[] }).problems).toEqual([
      { path: 'listeners.0.tls.certificateSecretArn', message: expect.stringContaining('--gateway-certificate') },
    ]);
  });
});
