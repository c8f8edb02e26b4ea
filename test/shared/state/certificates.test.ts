import { X509Certificate } from 'node:crypto';
import { CertificateIssuer, ensureServiceCertificate, loadCertificateAuthority, rotateCertificates } from '../../../shared/state/certificates';
import { parseServiceSpec } from '../../../shared/model/parse-spec';
import { certificatesOfBundle } from '../../../shared/pki/certificate';
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

describe('a CA rotation, as peers see it', () => {
  it('first trusts both CAs everywhere, then re-issues certificates, then drops the old CA once none of it is left', async () => {
    const store = await dynalite.newStore();
    const sealer = AesGcmSealer.generate();
    const issuerOf = async (signer: ReturnType<typeof createLocalCaSigner>) => ({
      ca: await loadCertificateAuthority(store, signer, { mesh: 'mesh.local', now: new Date(), replaceForeign: true }),
      sealer,
      policy: rotationPolicy(),
      now: () => new Date(),
    });
    for (const name of ['payments', 'orders']) await store.putService(parseServiceSpec({ name, inboundPort: 15000, appPort: 8080, protocol: 'http' }), undefined);
    const oldIssuer = await issuerOf(createLocalCaSigner());
    await rotateCertificates(store, oldIssuer);
    const oldCa = new X509Certificate(oldIssuer.ca.certificatePem);

    const newIssuer = await issuerOf(createLocalCaSigner());
    const newCa = new X509Certificate(newIssuer.ca.certificatePem);
    const state = async () =>
      Promise.all(
        ['orders', 'payments'].map(async (name) => {
          const secrets = (await store.getServiceSecrets(name))!;
          const leaf = new X509Certificate(secrets.certificatePem);
          const bundle = certificatesOfBundle(secrets.trustBundlePem).map((ca) =>
            ca.fingerprint256 === newCa.fingerprint256 ? 'new' : ca.fingerprint256 === oldCa.fingerprint256 ? 'old' : 'other',
          );
          return `${name}: leaf ${leaf.checkIssued(newCa) ? 'new' : 'old'}, trusts ${bundle.join('+')}`;
        }),
      );

    expect(await rotateCertificates(store, newIssuer)).toMatchObject({ issued: [], trustUpdated: ['orders', 'payments'], retiredCaForgotten: false });
    expect(await state()).toEqual(['orders: leaf old, trusts new+old', 'payments: leaf old, trusts new+old']);

    expect(await rotateCertificates(store, newIssuer)).toMatchObject({ issued: ['orders', 'payments'], trustUpdated: [], retiredCaForgotten: true });
    expect(await state()).toEqual(['orders: leaf new, trusts new+old', 'payments: leaf new, trusts new+old']);

    const reloaded = await issuerOf(newIssuer.ca.signer);
    expect(await rotateCertificates(store, reloaded)).toMatchObject({ issued: [], trustUpdated: ['orders', 'payments'] });
    expect(await state()).toEqual(['orders: leaf new, trusts new', 'payments: leaf new, trusts new']);
  });
});

describe('a revoked role and the key it may hold', () => {
  it('is replaced by the next rotation pass when the declare that revoked it did not get to re-issue', async () => {
    const store = await dynalite.newStore();
    const roles = (...names: string[]) => names.map((n) => `arn:aws:iam::111122223333:role/${n}`);
    const declare = async (iamRoleArns: string[]) =>
      store.putService(parseServiceSpec({ name: 'payments', inboundPort: 15000, appPort: 8080, protocol: 'http', identity: { iamRoleArns } }), await store.getService('payments'));
    const ca = await loadCertificateAuthority(store, createLocalCaSigner(), { mesh: 'mesh.local', now: new Date(), replaceForeign: false });
    const issuer: CertificateIssuer = { ca, sealer: AesGcmSealer.generate(), policy: rotationPolicy(), now: () => new Date() };
    await declare(roles('payments', 'compromised'));
    await rotateCertificates(store, issuer);
    const before = (await store.getServiceSecrets('payments'))!;
    expect(before.issuedForRoles).toEqual(roles('payments', 'compromised'));

    await declare(roles('payments')); // the spec is stored; its re-issue never happened
    expect(await rotateCertificates(store, issuer)).toMatchObject({ issued: ['payments'] });
    const after = (await store.getServiceSecrets('payments'))!;
    expect({ newKey: after.serial !== before.serial, issuedForRoles: after.issuedForRoles }).toEqual({ newKey: true, issuedForRoles: roles('payments') });
    expect(await rotateCertificates(store, issuer)).toMatchObject({ issued: [], current: 1 });
  });
});
