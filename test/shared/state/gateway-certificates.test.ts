import { X509Certificate, createPrivateKey } from 'node:crypto';
import { ValidationError } from '../../../shared/errors';
import { typeUrls } from '../../../shared/envoy/resources';
import { createLocalCaSigner } from '../../../shared/pki/signer';
import { rotationPolicy } from '../../../shared/pki/rotation';
import { names } from '../../../shared/render/names';
import { defaultRenderSettings } from '../../../shared/render/settings';
import { OperatorCertificateSource, OperatorSecretUnreadableError } from '../../../shared/secrets/operator-source';
import { AesGcmSealer } from '../../../shared/secrets/sealer';
import { declareService } from '../../../shared/state/catalog';
import { CertificateIssuer, ensureServiceCertificate, loadCertificateAuthority, rotateCertificates } from '../../../shared/state/certificates';
import { MeshStore } from '../../../shared/store/mesh-store';
import { XdsAnswer, discover } from '../../../shared/xds/discovery';
import { SnapshotCache } from '../../../shared/xds/snapshot-cache';
import { useDynalite } from '../../support/dynamo';
import { assertConformant } from '../../support/envoy-schema';
import { OperatorChain, operatorChain, secretJson } from '../../support/operator-certificates';

/**
 * A gateway's TLS listener certificate end to end in the state layer, on a real table: the
 * operator's secret (a stand-in source that answers as Secrets Manager would: a version id and
 * the value) is checked and copied when the gateway is declared, served over SDS to the
 * gateway's nodes only, copied again when the secret rotates, and kept when a rotation brings
 * something that cannot be served. Every clock is injected.
 */
const dynalite = useDynalite();

const arn = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:edge-tls-AbCdEf';
const otherArn = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:admin-tls-GhIjKl';
const day = 86_400_000;
const start = new Date(Date.UTC(2031, 4, 10, 12, 0, 0));

/** A Secrets Manager stand-in: each put is a new version, as PutSecretValue makes one. */
class FakeSecrets implements OperatorCertificateSource {
  private readonly values = new Map<string, { versionId: string; text: string }>();
  private versions = 0;
  reads = 0;
  put(secretArn: string, text: string): void {
    this.values.set(secretArn, { versionId: `v-${++this.versions}`, text });
  }
  async read(secretArn: string) {
    this.reads++;
    const value = this.values.get(secretArn);
    if (!value) throw new OperatorSecretUnreadableError(secretArn, 'not-found', 'Secrets Manager can’t find the specified secret.');
    return value;
  }
}

const web = { name: 'web', inboundPort: 15000, appPort: 8080, protocol: 'http' };
const gateway = (listeners: unknown[]) => ({ name: 'edge', kind: 'gateway', listeners, routes: [{ pathPrefix: '/', service: 'web' }] });
const tls443 = { port: 443, protocol: 'http', tls: { certificateSecretArn: arn } };

interface Served {
  name: string;
  tls_certificate: { certificate_chain: { inline_string: string }; private_key: { inline_string: string } };
}

describe('gateway listener certificates', () => {
  let store: MeshStore;
  let secrets: FakeSecrets;
  let issuer: CertificateIssuer;
  let now: Date;
  const sealer = AesGcmSealer.generate();
  const poll = (service: string, resourceNames: string[], versionInfo = ''): Promise<XdsAnswer> =>
    discover({ cache: new SnapshotCache(store, { ttlMs: 0 }), sealer }, { type: 'secrets', node: { id: `${service}-1`, cluster: service }, resourceNames, versionInfo });
  const served = async (versionInfo = '') => {
    const answer = await poll('edge', [names.gatewayCertificateSecret('edge', 443)], versionInfo);
    if (answer.kind !== 'response') throw new Error(`not served: ${JSON.stringify(answer.kind === 'refusal' ? answer.refusal.message : answer)}`);
    return { version: answer.versionInfo, secret: answer.resources[0] as unknown as Served, answer };
  };
  const declare = (spec: unknown) => declareService(store, spec, defaultRenderSettings, { certificates: { issuer, store } });

  beforeEach(async () => {
    store = await dynalite.newStore();
    secrets = new FakeSecrets();
    now = start;
    // The mesh CA is made at the real now: its certificates are never checked against the injected clock.
    const ca = await loadCertificateAuthority(store, createLocalCaSigner(), { mesh: 'mesh.local', now: new Date(), replaceForeign: false });
    issuer = { ca, sealer, policy: rotationPolicy(), now: () => now, operatorCertificates: secrets };
    await declare(web);
  });

  it('copies the certificate when the gateway is declared and serves it, strict-valid, to the gateway’s nodes: the operator’s chain and key', async () => {
    const chain = operatorChain(start);
    secrets.put(arn, secretJson(chain));
    await declare(gateway([tls443, { port: 80, protocol: 'http' }]));

    const { secret, answer } = await served();
    expect(() => assertConformant({ version_info: answer.versionInfo, type_url: typeUrls.secrets, resources: answer.resources })).not.toThrow();
    expect(secret.name).toBe('gateway_certificate_edge_443');
    expect(new X509Certificate(secret.tls_certificate.certificate_chain.inline_string).fingerprint256).toBe(new X509Certificate(chain.leaf.certificatePem).fingerprint256);
    expect(secret.tls_certificate.certificate_chain.inline_string).toContain(chain.intermediate.certificatePem.trim());
    expect(createPrivateKey(secret.tls_certificate.private_key.inline_string).export({ type: 'pkcs8', format: 'der' })).toEqual(
      chain.leaf.privateKey.export({ type: 'pkcs8', format: 'der' }),
    );
    // The key is sealed at rest: the stored item holds no PEM key.
    const stored = (await store.getServiceSecrets('edge'))!.gatewayCertificates!;
    expect(stored.map((s) => [s.port, s.sourceArn, s.sourceVersion])).toEqual([[443, arn, 'v-1']]);
    expect(Buffer.from(stored[0]!.sealedPrivateKey).toString('latin1')).not.toContain('PRIVATE KEY');
    // Both secrets of the gateway in one poll, and its own certificate beside them.
    const both = await poll('edge', [names.serviceCertificateSecret('edge'), names.gatewayCertificateSecret('edge', 443)]);
    expect(both.kind === 'response' && both.resources.map((r) => r.name)).toEqual([names.gatewayCertificateSecret('edge', 443), names.serviceCertificateSecret('edge')]);
  });

  it('refuses the certificate to a node of another service, and a listener the gateway does not have is not served', async () => {
    secrets.put(arn, secretJson(operatorChain(start)));
    await declare(gateway([tls443]));
    const stolen = await poll('web', [names.gatewayCertificateSecret('edge', 443)]);
    expect(stolen.kind === 'refusal' && stolen.refusal.kind).toBe('refused');
    const missing = await poll('edge', [names.gatewayCertificateSecret('edge', 8443)]);
    expect(missing.kind === 'refusal' && missing.refusal.kind).toBe('unavailable');
  });

  it.each([
    ['a secret that does not exist', () => undefined, /could not be read \(not-found\)/],
    ['a certificate expired by the control plane’s clock', () => secretJson(operatorChain(new Date(start.getTime() - 100 * day), { days: 90 })), /certificateChain\[0\]: expired at/],
    ['a value in no known form', () => 'just a password', /\(secret\): is neither JSON/],
  ])('refuses the gateway for %s, at the listener’s field, writing nothing', async (_case, value, message) => {
    const text = value();
    if (text !== undefined) secrets.put(arn, text);
    const declared = declare(gateway([{ port: 80, protocol: 'http' }, tls443]));
    await expect(declared).rejects.toThrow(ValidationError);
    const problems = await declared.catch((err: ValidationError) => err.problems);
    expect(problems).toEqual([{ path: 'listeners.1.tls.certificateSecretArn', message: expect.stringMatching(message) }]);
    expect(await store.getService('edge')).toBeUndefined();
  });

  it('copies a rotated secret at the next renewal run (a new secret version), and nothing while it is unchanged', async () => {
    const first = operatorChain(start);
    secrets.put(arn, secretJson(first));
    await declare(gateway([tls443]));
    const before = await served();

    now = new Date(start.getTime() + 10 * 60_000);
    const quiet = await rotateCertificates(store, issuer);
    expect(quiet.gatewayCertificates).toEqual({ copied: [], removed: [], problems: [] });
    // What Envoy holds is still current.
    expect((await poll('edge', [names.gatewayCertificateSecret('edge', 443)], before.version)).kind).toBe('not-modified');

    const second = operatorChain(now);
    secrets.put(arn, secretJson(second));
    const rotated = await rotateCertificates(store, issuer);
    expect(rotated.gatewayCertificates.copied).toEqual(['edge:443']);
    const after = await served(before.version);
    expect(after.version).not.toBe(before.version);
    expect(new X509Certificate(after.secret.tls_certificate.certificate_chain.inline_string).fingerprint256).toBe(new X509Certificate(second.leaf.certificatePem).fingerprint256);
    expect((await store.getServiceSecrets('edge'))!.gatewayCertificates![0]!.copiedAt).toBe(now.toISOString());
  });

  it('keeps serving the last good certificate when a rotation brings one that cannot be served, and says why', async () => {
    const good = operatorChain(start);
    secrets.put(arn, secretJson(good));
    await declare(gateway([tls443]));
    const before = await served();
    const stranger = operatorChain(start);
    secrets.put(arn, JSON.stringify({ certificateChain: good.chainPem, privateKey: stranger.keyPem }));
    const run = await rotateCertificates(store, issuer);
    expect(run.gatewayCertificates.problems).toEqual([{ gateway: 'edge', path: 'listeners.0.tls.certificateSecretArn', message: expect.stringMatching(/version v-2\): privateKey: is not the private key/) }]);
    expect((await served()).version).toBe(before.version);
  });

  it('reports a stored certificate that expired while its secret was not rotated', async () => {
    secrets.put(arn, secretJson(operatorChain(start, { days: 30 })));
    await declare(gateway([tls443]));
    now = new Date(start.getTime() + 31 * day);
    const run = await rotateCertificates(store, issuer);
    expect(run.gatewayCertificates.problems).toEqual([{ gateway: 'edge', path: 'listeners.0.tls.certificateSecretArn', message: expect.stringMatching(/expired at .*put a renewed one in the secret/) }]);
  });

  it('keeps the listener certificates when the gateway’s own certificate is re-issued, and drops a listener’s when it is gone', async () => {
    const chain: OperatorChain = operatorChain(start);
    secrets.put(arn, secretJson(chain));
    secrets.put(otherArn, secretJson(operatorChain(start, { dnsNames: ['admin.example.com'] })));
    await declare(gateway([tls443, { port: 8443, protocol: 'http', tls: { certificateSecretArn: otherArn } }]));
    const before = await served();
    expect(await ensureServiceCertificate(store, issuer, 'edge', { force: true })).toBe('issued');
    expect((await served()).version).toBe(before.version);
    expect((await store.getServiceSecrets('edge'))!.gatewayCertificates!.map((s) => s.port)).toEqual([443, 8443]);

    await declare(gateway([tls443]));
    expect((await store.getServiceSecrets('edge'))!.gatewayCertificates!.map((s) => s.port)).toEqual([443]);
    const gone = await poll('edge', [names.gatewayCertificateSecret('edge', 8443)]);
    expect(gone.kind === 'refusal' && gone.refusal.kind).toBe('unavailable');
  });

  it('records each copy in the change log, so the push tier wakes the gateway’s SDS streams', async () => {
    secrets.put(arn, secretJson(operatorChain(start)));
    await declare(gateway([tls443]));
    const log = await store.changes.readSince(0);
    const edgeSecrets = log.filter((r) => r.service === 'edge' && r.item === 'secrets');
    const slot = (await store.getServiceSecrets('edge'))!;
    expect(edgeSecrets.at(-1)!.version).toBe(`${slot.serial}+443:${slot.gatewayCertificates![0]!.version}`);
  });
});
