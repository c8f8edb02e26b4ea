import { declareService } from '../../../shared/state/catalog';
import { CertificateIssuer, ensureServiceCertificate, loadCertificateAuthority } from '../../../shared/state/certificates';
import { defaultRenderSettings } from '../../../shared/render/settings';
import { names } from '../../../shared/render/names';
import { discover } from '../../../shared/xds/discovery';
import { SnapshotCache } from '../../../shared/xds/snapshot-cache';
import { createLocalCaSigner } from '../../../shared/pki/signer';
import { rotationPolicy } from '../../../shared/pki/rotation';
import { AesGcmSealer, SealedSecretError, isCurrentSealFormat, privateKeyContext } from '../../../shared/secrets/sealer';
import { useDynalite } from '../../support/dynamo';

/**
 * A sealed private key is bound to its service and certificate (AES-GCM associated data): a
 * table writer who copies payments' sealed key into orders' item gets nothing served from it.
 */
const dynalite = useDynalite();

describe('sealed private keys bound to their service and certificate', () => {
  const sealer = AesGcmSealer.generate();

  it.each([
    ['another service', privateKeyContext('orders', '01ab')],
    ['another certificate of the same service', privateKeyContext('payments', '02cd')],
    ['no context', ''],
  ])('does not open under %s', (_what, context) => {
    const sealed = sealer.seal('-----BEGIN PRIVATE KEY-----', privateKeyContext('payments', '01ab'));
    expect(sealer.open(sealed, privateKeyContext('payments', '01ab'))).toBe('-----BEGIN PRIVATE KEY-----');
    expect(() => sealer.open(sealed, context)).toThrow(SealedSecretError);
  });

  it("serves no private key from a sealed key moved into another service's item", async () => {
    const store = await dynalite.newStore();
    for (const name of ['payments', 'orders']) {
      await declareService(store, { name, inboundPort: 15000, appPort: 8080, protocol: 'http' }, defaultRenderSettings);
    }
    const ca = await loadCertificateAuthority(store, createLocalCaSigner(), { mesh: 'mesh.local', now: new Date(), replaceForeign: false });
    const issuer: CertificateIssuer = { ca, sealer, policy: rotationPolicy(), now: () => new Date() };
    for (const name of ['payments', 'orders']) await ensureServiceCertificate(store, issuer, name);
    const paymentsItem = (await store.getServiceSecrets('payments'))!;
    const ordersItem = (await store.getServiceSecrets('orders'))!;
    await store.putServiceSecrets('orders', { ...ordersItem, sealedPrivateKey: paymentsItem.sealedPrivateKey });

    const answer = await discover(
      { cache: new SnapshotCache(store, { ttlMs: 0 }), sealer },
      { type: 'secrets', node: { id: 'orders-1', cluster: 'orders' }, resourceNames: [names.serviceCertificateSecret('orders')], versionInfo: '' },
    );
    expect(answer.kind === 'refusal' ? answer.refusal.kind : JSON.stringify(answer)).toBe('unavailable');
    // The next issuance replaces what was tampered with only when it is due; a key sealed in
    // the old format (no context) is re-issued at once.
    await store.putServiceSecrets('orders', { ...ordersItem, sealedPrivateKey: Uint8Array.of(1, ...ordersItem.sealedPrivateKey.subarray(1)) });
    expect(isCurrentSealFormat((await store.getServiceSecrets('orders'))!.sealedPrivateKey)).toBe(false);
    expect(await ensureServiceCertificate(store, issuer, 'orders')).toBe('issued');
  });
});
