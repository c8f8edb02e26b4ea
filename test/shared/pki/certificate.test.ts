import { spawnSync } from 'node:child_process';
import { createPrivateKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { certifyServiceKey, issueCaCertificate, issueServiceCertificate } from '../../../shared/pki/certificate';
import { PkiError } from '../../../shared/pki/signer';
import { CaSigner, createLocalCaSigner, localSigner } from '../../../shared/pki/signer';
import { createTestCa, mesh, now } from './fixtures';

const seconds = (iso: string) => Date.parse(iso) / 1000;
const nowSeconds = now.getTime() / 1000;

const signers: [string, () => CaSigner][] = [
  ['a local ECDSA P-256 key', createLocalCaSigner],
  ['an RSA 2048 key', () => localSigner(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey)],
];

describe.each(signers)('a mesh CA with %s', (_label, makeSigner) => {
  test('self-signs a CA certificate that is valid for ten years and may only sign leaf certificates', async () => {
    const { ca } = await createTestCa(makeSigner());
    const cert = new X509Certificate(ca.certificatePem);
    expect({
      ca: cert.ca,
      subject: cert.subject,
      issuer: cert.issuer,
      selfIssued: cert.checkIssued(cert),
      selfSigned: cert.verify(cert.publicKey),
      serial: cert.serialNumber,
      notBefore: new Date(cert.validFrom).toISOString(),
      notAfter: new Date(cert.validTo).toISOString(),
    }).toEqual({
      ca: true,
      subject: `O=${mesh}\nCN=Mesh CA`,
      issuer: `O=${mesh}\nCN=Mesh CA`,
      selfIssued: true,
      selfSigned: true,
      serial: ca.serial,
      notBefore: ca.notBefore,
      notAfter: ca.notAfter,
    });
    expect(seconds(ca.notAfter) - nowSeconds).toBe(10 * 365 * 24 * 3600);
  });

  test('issues a service certificate that chains to the CA and names the service by SPIFFE ID', async () => {
    const { ca, issue } = await createTestCa(makeSigner());
    const issued = await issue('payments');
    const caCert = new X509Certificate(ca.certificatePem);
    const cert = new X509Certificate(issued.certificatePem);
    expect({
      ca: cert.ca,
      subject: cert.subject,
      issuer: cert.issuer,
      subjectAltName: cert.subjectAltName,
      extendedKeyUsage: cert.keyUsage,
      issuedByCa: cert.checkIssued(caCert),
      signedByCa: cert.verify(caCert.publicKey),
      keyMatches: cert.checkPrivateKey(createPrivateKey(issued.privateKeyPem)),
      keyType: cert.publicKey.asymmetricKeyDetails,
      serial: cert.serialNumber,
      notBefore: new Date(cert.validFrom).toISOString(),
      notAfter: new Date(cert.validTo).toISOString(),
    }).toEqual({
      ca: false,
      subject: `O=${mesh}\nCN=payments`,
      issuer: caCert.subject,
      subjectAltName: 'URI:spiffe://mesh.local/service/payments',
      extendedKeyUsage: ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2'],
      issuedByCa: true,
      signedByCa: true,
      keyMatches: true,
      keyType: { namedCurve: 'prime256v1' },
      serial: issued.serial,
      notBefore: issued.notBefore,
      notAfter: issued.notAfter,
    });
    expect(issued).toMatchObject({ service: 'payments', spiffeId: 'spiffe://mesh.local/service/payments' });
  });
});

describe('issueServiceCertificate', () => {
  test('gives a certificate its lifetime from now, backdated a minute for clock skew', async () => {
    const { issue } = await createTestCa();
    const cases = [
      { lifetimeSeconds: undefined, expected: 24 * 3600 },
      { lifetimeSeconds: 3600, expected: 3600 },
    ];
    for (const { lifetimeSeconds, expected } of cases) {
      const issued = await issue('orders', { lifetimeSeconds });
      expect({ from: seconds(issued.notBefore) - nowSeconds, to: seconds(issued.notAfter) - nowSeconds }).toEqual({ from: -60, to: expected });
    }
  });

  test('gives every certificate a fresh key and a fresh positive 16-byte serial', async () => {
    const { issue } = await createTestCa();
    const issued = await Promise.all([1, 2, 3, 4].map(() => issue('orders')));
    expect(new Set(issued.map((i) => i.serial)).size).toBe(4);
    expect(new Set(issued.map((i) => i.privateKeyPem)).size).toBe(4);
    for (const { serial } of issued) expect(serial).toMatch(/^[4-7][0-9A-F]{31}$/);
  });

  test('refuses a signer whose key is not the CA certificate key, as certificates would not chain', async () => {
    const { ca } = await createTestCa();
    await expect(issueServiceCertificate(createLocalCaSigner(), ca.certificatePem, 'orders', { mesh, now })).rejects.toThrow(
      new PkiError('the CA signer key is not the key of the CA certificate: issued certificates would not chain'),
    );
  });

  test('refuses a lifetime beyond the CA certificate expiry', async () => {
    const signer = createLocalCaSigner();
    const ca = await issueCaCertificate(signer, { mesh, now, lifetimeSeconds: 3600 });
    await expect(issueServiceCertificate(signer, ca.certificatePem, 'orders', { mesh, now })).rejects.toThrow(
      'the CA certificate expires at 2026-11-25T05:00:00.000Z, before 2026-11-26T04:00:00.000Z: rotate the CA',
    );
  });

  test.each([
    ['a zero lifetime', { lifetimeSeconds: 0 }, 'lifetimeSeconds must be a positive integer, got 0'],
    ['a fractional lifetime', { lifetimeSeconds: 1.5 }, 'lifetimeSeconds must be a positive integer, got 1.5'],
    ['a negative backdate', { backdateSeconds: -1 }, 'backdateSeconds must be a non-negative integer, got -1'],
    ['an invalid date', { now: new Date('nope') }, 'now is not a valid date'],
  ])('rejects %s', async (_label, override, message) => {
    const { signer, ca } = await createTestCa();
    await expect(issueServiceCertificate(signer, ca.certificatePem, 'orders', { mesh, now, ...override })).rejects.toThrow(message);
  });

  test('reports a CA certificate that does not parse without echoing what it was given', async () => {
    const { signer } = await createTestCa();
    const keyPem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const error = await issueServiceCertificate(signer, keyPem, 'orders', { mesh, now }).catch((err: Error) => err);
    expect(error).toBeInstanceOf(PkiError);
    expect((error as Error).message).toBe('the CA certificate is not a PEM X.509 certificate');
    expect(JSON.stringify(error) + String((error as Error).stack)).not.toContain(keyPem.split('\n')[1]);
  });

  test('reports a signer failure as a PkiError that keeps the cause', async () => {
    const { signer, ca } = await createTestCa();
    const failing: CaSigner = { ...signer, sign: async () => Promise.reject(new Error('throttled')) };
    const error = await issueServiceCertificate(failing, ca.certificatePem, 'orders', { mesh, now }).catch((err: Error) => err);
    expect(error).toEqual(new PkiError('the CA signer failed to sign a certificate'));
    expect((error as Error).cause).toEqual(new Error('throttled'));
  });
});

describe('issued certificates under OpenSSL', () => {
  test('verify strictly against the CA for both TLS server and TLS client use', async () => {
    const { ca, issue } = await createTestCa();
    const issued = await issue('payments');
    const dir = mkdtempSync(path.join(tmpdir(), 'pki-'));
    try {
      writeFileSync(path.join(dir, 'ca.pem'), ca.certificatePem);
      writeFileSync(path.join(dir, 'leaf.pem'), issued.certificatePem);
      const verify = (purpose: string) =>
        spawnSync(
          'openssl',
          ['verify', '-x509_strict', '-purpose', purpose, '-attime', String(nowSeconds + 10), '-CAfile', path.join(dir, 'ca.pem'), path.join(dir, 'leaf.pem')],
          { encoding: 'utf8' },
        );
      for (const purpose of ['sslserver', 'sslclient']) {
        const result = verify(purpose);
        expect({ status: result.status, out: result.stdout.trim(), err: result.stderr }).toEqual({
          status: 0,
          out: `${path.join(dir, 'leaf.pem')}: OK`,
          err: '',
        });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('certifyServiceKey', () => {
  const spkiOf = (key: ReturnType<typeof generateKeyPairSync>['publicKey']) => key.export({ type: 'spki', format: 'der' });

  test('certifies the key it is given: the holder keeps the private key, the CA never sees it', async () => {
    const { signer, ca } = await createTestCa();
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const certified = await certifyServiceKey(signer, ca.certificatePem, '_xds', spkiOf(publicKey), { mesh, now });
    const cert = new X509Certificate(certified.certificatePem);
    expect({
      key: cert.publicKey.export({ type: 'spki', format: 'der' }).equals(spkiOf(publicKey)),
      verifies: cert.verify(new X509Certificate(ca.certificatePem).publicKey),
      san: cert.subjectAltName,
      lifetime: seconds(certified.notAfter) - nowSeconds,
    }).toEqual({ key: true, verifies: true, san: 'URI:spiffe://mesh.local/service/_xds', lifetime: 24 * 3600 });
    expect(certified).not.toHaveProperty('privateKeyPem');
  });

  test.each([
    ['an RSA key', () => spkiOf(generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey), 'the public key to certify must be ECDSA P-256, not rsa'],
    ['a P-384 key', () => spkiOf(generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey), 'the public key to certify must be ECDSA P-256, not ec'],
    ['bytes that are no key', () => Buffer.from('not a key'), 'the public key to certify is not a DER SubjectPublicKeyInfo'],
  ])('refuses %s', async (_label, key, message) => {
    const { signer, ca } = await createTestCa();
    const error = await certifyServiceKey(signer, ca.certificatePem, '_xds', key(), { mesh, now }).catch((err: Error) => err);
    expect(error).toBeInstanceOf(PkiError);
    expect((error as Error).message).toBe(message);
  });
});
