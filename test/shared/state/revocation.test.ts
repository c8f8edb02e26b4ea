import { handleAdminRequest } from '../../../shared/api/admin';
import { declareService, revokedRoles } from '../../../shared/state/catalog';
import { CertificateIssuer, loadCertificateAuthority } from '../../../shared/state/certificates';
import { parseServiceSpec } from '../../../shared/model/parse-spec';
import { defaultRenderSettings } from '../../../shared/render/settings';
import { names } from '../../../shared/render/names';
import { discover } from '../../../shared/xds/discovery';
import { Principal } from '../../../shared/xds/authorization';
import { SnapshotCache } from '../../../shared/xds/snapshot-cache';
import { createLocalCaSigner } from '../../../shared/pki/signer';
import { rotationPolicy } from '../../../shared/pki/rotation';
import { AesGcmSealer } from '../../../shared/secrets/sealer';
import { MeshStore } from '../../../shared/store/mesh-store';
import { useDynalite } from '../../support/dynamo';

/**
 * A role revoked from a service's identity may have fetched its private key while it was
 * bound: the key is replaced when the spec changes (declareService), not at the next renewal,
 * so what the revoked role's nodes hold is no longer the key the service's Envoys are served.
 */
const dynalite = useDynalite();
const compromised = 'arn:aws:iam::111122223333:role/compromised';
const paymentsRole = 'arn:aws:iam::111122223333:role/payments';
const payments = (roles: string[]) => ({ name: 'payments', inboundPort: 15000, appPort: 8080, protocol: 'http', identity: { iamRoleArns: roles } });
const iam = (arn: string): Principal => ({ kind: 'iam', arn });

async function setUp(): Promise<{ store: MeshStore; issuer: CertificateIssuer }> {
  const store = await dynalite.newStore();
  const ca = await loadCertificateAuthority(store, createLocalCaSigner(), { mesh: 'mesh.local', now: new Date(), replaceForeign: false });
  return { store, issuer: { ca, sealer: AesGcmSealer.generate(), policy: rotationPolicy(), now: () => new Date() } };
}

/** servedKey polls SDS for payments' certificate as the given role: the private key served, or the refusal. */
async function servedKey(store: MeshStore, issuer: CertificateIssuer, role: string): Promise<string> {
  const answer = await discover(
    { cache: new SnapshotCache(store, { ttlMs: 0 }), sealer: issuer.sealer, authMode: 'iam' },
    { type: 'secrets', node: { id: 'payments-1', cluster: 'payments' }, resourceNames: [names.serviceCertificateSecret('payments')], versionInfo: '' },
    iam(`${role.replace(':iam::', ':sts::').replace(':role/', ':assumed-role/')}/i-0abc`),
  );
  if (answer.kind !== 'response') return answer.kind === 'refusal' ? `refused: ${answer.refusal.kind}` : answer.kind;
  return (answer.resources[0] as { tls_certificate: { private_key: { inline_string: string } } }).tls_certificate.private_key.inline_string;
}

describe('a revoked role', () => {
  it('is no longer served, and the key it was served is replaced at once', async () => {
    const { store, issuer } = await setUp();
    const declared = await declareService(store, payments([compromised, paymentsRole]), defaultRenderSettings, { certificates: { issuer, store } });
    expect(declared).toMatchObject({ revokedRoles: [], certificate: 'issued' });
    const leaked = await servedKey(store, issuer, compromised);
    expect(leaked).toContain('BEGIN PRIVATE KEY');
    expect(await servedKey(store, issuer, paymentsRole)).toBe(leaked);

    const revoked = await declareService(store, payments([paymentsRole]), defaultRenderSettings, { certificates: { issuer, store } });
    expect(revoked).toMatchObject({ revokedRoles: [compromised], certificate: 'reissued' });
    expect(await servedKey(store, issuer, compromised)).toBe('refused: refused');
    const now = await servedKey(store, issuer, paymentsRole);
    expect(now).toContain('BEGIN PRIVATE KEY');
    expect(now).not.toBe(leaked);
  });

  it('is revoked through the management API the same way', async () => {
    const { store, issuer } = await setUp();
    const put = (roles: string[]) =>
      handleAdminRequest(
        { store, settings: defaultRenderSettings, certificates: issuer },
        { method: 'PUT', path: '/services/payments', query: {}, headers: {}, body: JSON.stringify(payments(roles)) },
      );
    expect((await put([compromised, paymentsRole])).status).toBe(201);
    const leaked = await servedKey(store, issuer, paymentsRole);
    expect((await put([paymentsRole])).status).toBe(200);
    expect(await servedKey(store, issuer, paymentsRole)).not.toBe(leaked);
  });

  it('keeps the key when no role was revoked: adding a role or changing nothing else re-issues nothing', async () => {
    const { store, issuer } = await setUp();
    await declareService(store, payments([paymentsRole]), defaultRenderSettings, { certificates: { issuer, store } });
    const before = (await store.getServiceSecrets('payments'))!.serial;
    const grown = await declareService(store, payments([paymentsRole, compromised]), defaultRenderSettings, { certificates: { issuer, store } });
    expect(grown).toMatchObject({ revokedRoles: [], certificate: 'current' });
    expect((await store.getServiceSecrets('payments'))!.serial).toBe(before);
  });
});

describe('revokedRoles', () => {
  const spec = (roles?: string[]) => parseServiceSpec({ ...payments([]), identity: roles ? { iamRoleArns: roles } : undefined });
  it.each<[string, string[] | undefined | null, string[] | undefined, string[]]>([
    ['a new service (no previous spec)', null, [paymentsRole], []],
    ['a role removed', [compromised, paymentsRole], [paymentsRole], [compromised]],
    ['the identity removed', [compromised, paymentsRole], undefined, [compromised, paymentsRole]],
    ['a role added', [paymentsRole], [paymentsRole, compromised], []],
    ['a role replaced', [compromised], [paymentsRole], [compromised]],
  ])('finds what %s revokes', (_what, before, after, expected) => {
    expect(revokedRoles(before === null ? undefined : spec(before), spec(after))).toEqual(expected);
  });
});
