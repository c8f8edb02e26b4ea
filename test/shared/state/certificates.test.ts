import { CertificateIssuer, ensureServiceCertificate, loadCertificateAuthority } from '../../../shared/state/certificates';
import { createLocalCaSigner } from '../../../shared/pki/signer';
import { rotationPolicy } from '../../../shared/pki/rotation';
import { AesGcmSealer, privateKeyContext } from '../../../shared/secrets/sealer';
import { names } from '../../../shared/render/names';
import { useDynalite } from '../../support/dynamo';

const dynalite = useDynalite();

describe('ensureServiceCertificate', () => {
  it('stores the SDS secrets rendered and versioned with the certificate, the private key left sealed', async () => {
    const store = await dynalite.newStore();
    const ca = await loadCertificateAuthority(store, createLocalCaSigner(), { mesh: 'mesh.local', now: new Date(), replaceForeign: false });
    const issuer: CertificateIssuer = { ca, sealer: AesGcmSealer.generate(), policy: rotationPolicy(), now: () => new Date() };
    expect(await ensureServiceCertificate(store, issuer, 'orders')).toBe('issued');
    const stored = (await store.getServiceSecrets('orders'))!;
    expect(stored.rendered?.resources.map((r) => r.name)).toEqual([names.trustBundleSecret, names.serviceCertificateSecret('orders')]);
    expect(Object.keys(stored.rendered?.versions ?? {}).sort()).toEqual([names.trustBundleSecret, names.serviceCertificateSecret('orders')]);
    expect(JSON.stringify(stored.rendered)).not.toContain('PRIVATE KEY');
    expect(issuer.sealer.open(stored.sealedPrivateKey, privateKeyContext('orders', stored.serial))).toContain('BEGIN PRIVATE KEY');
    expect(await ensureServiceCertificate(store, issuer, 'orders')).toBe('current');
  });

  it('re-issues a certificate stored before its SDS secrets were stored rendered', async () => {
    const store = await dynalite.newStore();
    const ca = await loadCertificateAuthority(store, createLocalCaSigner(), { mesh: 'mesh.local', now: new Date(), replaceForeign: false });
    const issuer: CertificateIssuer = { ca, sealer: AesGcmSealer.generate(), policy: rotationPolicy(), now: () => new Date() };
    await ensureServiceCertificate(store, issuer, 'orders');
    const { rendered: _rendered, ...legacy } = (await store.getServiceSecrets('orders'))!;
    await store.putServiceSecrets('orders', legacy);
    expect((await store.getServiceSecrets('orders'))?.rendered).toBeUndefined();
    expect(await ensureServiceCertificate(store, issuer, 'orders')).toBe('issued');
    expect((await store.getServiceSecrets('orders'))?.rendered).toBeDefined();
  });
});
