import { X509Certificate } from 'node:crypto';
import { mkdtempSync, renameSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalControlPlane, LocalControlPlane } from '../../local/server';
import { localKeysFile } from '../../local/keys';
import { names } from '../../shared/render/names';
import { certificatesOfBundle } from '../../shared/pki/certificate';
import { request } from '../support/http-client';

/**
 * The mesh CA outlives a restart of the local control plane with --data-dir: the same trust
 * bundle, the same certificates, sealed keys that still open. When the CA does change, the
 * bundle trusts the old and the new one until every certificate is of the new one.
 */
const payments = { name: 'payments', inboundPort: 15000, appPort: 8080, protocol: 'http' };

async function secretsOf(cp: LocalControlPlane, name: string) {
  const answer = await request(cp.url, 'POST', '/v3/discovery:secrets', { node: { id: 'payments-1', cluster: 'payments' }, resource_names: [name] });
  expect(answer.status).toBe(200);
  return (answer.body as { resources: unknown[] }).resources[0]!;
}
const bundleOf = async (cp: LocalControlPlane) =>
  (await secretsOf(cp, names.trustBundleSecret) as { validation_context: { trusted_ca: { inline_string: string } } }).validation_context.trusted_ca.inline_string;
const certificateOf = async (cp: LocalControlPlane) =>
  (await secretsOf(cp, names.serviceCertificateSecret('payments')) as { tls_certificate: { certificate_chain: { inline_string: string }; private_key: { inline_string: string } } }).tls_certificate;

describe('the local mesh CA across restarts', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'cp-data-'));

  it('keeps the CA, the certificates and the sealed keys across a restart with --data-dir, its keys file private', async () => {
    const first = await startLocalControlPlane({ port: 0, dataDir, config: { snapshotCacheTtlMs: 0 } });
    expect((await request(first.url, 'PUT', '/services/payments', payments)).status).toBe(201);
    const bundle = await bundleOf(first);
    const certificate = await certificateOf(first);
    await first.close();
    expect(statSync(join(dataDir, localKeysFile)).mode & 0o777).toBe(0o600);

    const second = await startLocalControlPlane({ port: 0, dataDir, config: { snapshotCacheTtlMs: 0 } });
    try {
      expect(await bundleOf(second)).toBe(bundle);
      expect(await certificateOf(second)).toEqual(certificate); // the sealed key opened, and nothing was re-issued
    } finally {
      await second.close();
    }
  });

  it('re-issues every certificate under a new CA when its keys file is lost, and stops trusting the old CA once none is left', async () => {
    const fingerprints = async (cp: LocalControlPlane) => certificatesOfBundle(await bundleOf(cp)).map((c) => c.fingerprint256);
    // The keys file is moved away: the next start makes a new CA key and a new data key.
    renameSync(join(dataDir, localKeysFile), join(dataDir, `${localKeysFile}.old`));
    const cp = await startLocalControlPlane({ port: 0, dataDir, config: { snapshotCacheTtlMs: 0 } });
    try {
      const newCa = new X509Certificate(cp.certificates.ca.certificatePem);
      const leaf = new X509Certificate((await certificateOf(cp)).certificate_chain.inline_string);
      expect({ bundle: await fingerprints(cp), leafOfNewCa: leaf.checkIssued(newCa) }).toEqual({ bundle: [newCa.fingerprint256], leafOfNewCa: true });
      expect(await cp.runtime.store.getRetiredCertificateAuthority()).toBeUndefined();
    } finally {
      await cp.close();
    }
  });
});
