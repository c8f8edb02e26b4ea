import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { createPushCertificateHandler } from '../../../functions/push-certificate/handler';
import { createLocalCaSigner } from '../../../shared/pki/signer';
import { spiffeId } from '../../../shared/pki/identity';
import { loadCertificateAuthority } from '../../../shared/state/certificates';
import { pushTierCertificateLifetimeSeconds } from '../../../shared/state/push-certificate';
import { useDynalite } from '../../support/dynamo';

const dynamo = useDynalite();
const context = { functionName: 'push-certificate', awsRequestId: 'req-1' } as Context;
const mesh = 'mesh.local';
const publicKeyPem = (type: 'ec' | 'rsa' = 'ec') =>
  (type === 'ec' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('rsa', { modulusLength: 2048 })).publicKey.export({
    type: 'spki',
    format: 'pem',
  }) as string;

/** A table with a mesh CA of a local signer, and the real handler over both. */
async function withCa() {
  const store = await dynamo.newStore();
  const signer = createLocalCaSigner();
  const ca = await loadCertificateAuthority(store, signer, { mesh, now: new Date(), replaceForeign: false });
  return { store, signer, ca, handler: createPushCertificateHandler(store, async () => signer, { mesh }) };
}

describe('push-certificate handler', () => {
  it('certifies the given public key as the push tier, _xds, for the push tier lifetime, with the trust bundle', async () => {
    const { ca, handler } = await withCa();
    const key = publicKeyPem();
    const answer = await handler({ publicKeyPem: key }, context);
    if (answer.status !== 'issued') throw new Error(`not issued: ${answer.message}`);
    const cert = new X509Certificate(answer.certificatePem);
    expect({
      key: cert.publicKey.export({ type: 'spki', format: 'pem' }),
      verifies: cert.verify(new X509Certificate(ca.certificatePem).publicKey),
      san: cert.subjectAltName,
      lifetime: (Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / 1000,
      trustBundlePem: answer.trustBundlePem,
      notAfter: answer.notAfter,
    }).toEqual({
      key,
      verifies: true,
      san: `URI:${spiffeId(mesh, '_xds')}`,
      lifetime: pushTierCertificateLifetimeSeconds + 60, // backdated a minute for clock skew
      trustBundlePem: ca.trustBundlePem,
      notAfter: new Date(cert.validTo).toISOString(),
    });
  });

  it.each([
    ['a service named beside the key', { service: 'orders' }],
    ['an identity named beside the key', { identity: 'orders' }],
    ['a SPIFFE ID named beside the key', { spiffeId: spiffeId(mesh, 'orders') }],
    ['a lifetime asked for', { lifetimeSeconds: 10 * 365 * 24 * 3600 }],
  ])('refuses a request with %s: it takes nothing from the caller but the key', async (_name, extra) => {
    const { handler } = await withCa();
    const answer = await handler({ publicKeyPem: publicKeyPem(), ...extra }, context);
    expect(answer).toEqual({ status: 'bad-request', message: expect.stringMatching(/^a push-certificate request is \{ publicKeyPem \} only/) });
  });

  it.each([
    ['no key', {}, /publicKeyPem/],
    ['a key that is not PEM', { publicKeyPem: '-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n' }, /^publicKeyPem is not a PEM public key$/],
    ['an RSA key', { publicKeyPem: publicKeyPem('rsa') }, /^publicKeyPem must be an ECDSA P-256 key, not rsa$/],
    ['a private key', { publicKeyPem: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) }, /publicKeyPem/],
    ['not an object', 'orders', /publicKeyPem|object/],
  ])('refuses %s as a bad request', async (_name, event, message) => {
    const { handler } = await withCa();
    expect(await handler(event, context)).toEqual({ status: 'bad-request', message: expect.stringMatching(message) });
  });

  it('answers bad input bad-request without asking for the signer (no KMS call)', async () => {
    const { store, signer } = await withCa();
    let asked = 0;
    const handler = createPushCertificateHandler(store, async () => (asked++, signer), { mesh });
    expect(await handler({ publicKeyPem: 'not a key' }, context)).toMatchObject({ status: 'bad-request' });
    expect(await handler({ publicKeyPem: publicKeyPem(), service: 'payments' }, context)).toMatchObject({ status: 'bad-request' });
    expect(asked).toBe(0);
    expect(await handler({ publicKeyPem: publicKeyPem() }, context)).toMatchObject({ status: 'issued' });
    expect(asked).toBe(1);
  });

  it('answers unavailable, and makes no CA, while the mesh has none', async () => {
    const store = await dynamo.newStore();
    const handler = createPushCertificateHandler(store, async () => createLocalCaSigner(), { mesh });
    expect(await handler({ publicKeyPem: publicKeyPem() }, context)).toEqual({
      status: 'unavailable',
      message: 'the mesh CA does not exist yet: declare a service first',
    });
    expect(await store.getCertificateAuthority()).toBeUndefined();
  });

  it('fails, and replaces nothing, when the stored CA is not of its signing key', async () => {
    const { store, ca } = await withCa();
    const handler = createPushCertificateHandler(store, async () => createLocalCaSigner(), { mesh });
    await expect(handler({ publicKeyPem: publicKeyPem() }, context)).rejects.toThrow('the stored mesh CA certificate is not of the configured signing key');
    expect(await store.getCertificateAuthority()).toBe(ca.certificatePem);
  });
});
