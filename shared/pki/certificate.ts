import { createHash, createPublicKey, generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import {
  bitString,
  boolean,
  contextExplicit,
  contextPrimitive,
  ia5String,
  namedBits,
  octetString,
  oid,
  readChildren,
  readElement,
  sequence,
  set,
  time,
  unsignedInteger,
  utf8String,
} from './der';
import { spiffeId } from './identity';
import { CaSigner, PkiError, signatureAlgorithmIdentifier } from './signer';
import { defaults } from '../config';

/**
 * X.509 v3 certificates for the mesh, assembled here and signed through the CaSigner port, so
 * a KMS key signs them without the key ever being here. Only the to-be-signed bytes cross it.
 */

/** IssuedCertificate is what a service gets: its certificate, its own key, and when to renew. */
export interface IssuedCertificate {
  readonly service: string;
  /** The SPIFFE ID the certificate's URI SAN carries. */
  readonly spiffeId: string;
  readonly certificatePem: string;
  /** PKCS#8 PEM. Secret: store encrypted, never log. */
  readonly privateKeyPem: string;
  /** ISO-8601 instants, to the second, as the certificate says. */
  readonly notBefore: string;
  readonly notAfter: string;
  /** Upper-case hex, as node's X509Certificate.serialNumber prints it. */
  readonly serial: string;
}

/** CaCertificate is the mesh CA's self-signed certificate: the trust bundle every service gets. */
export interface CaCertificate {
  readonly certificatePem: string;
  readonly notBefore: string;
  readonly notAfter: string;
  readonly serial: string;
}

export const defaultLeafLifetimeSeconds = defaults.certificateLifetimeSeconds;
export const defaultCaLifetimeSeconds = 10 * 365 * 24 * 3600;
/**
 * notBefore is set this far in the past, so an Envoy whose clock lags the control plane's
 * still accepts a certificate issued a moment ago (SPIRE backdates the same way).
 */
export const defaultBackdateSeconds = 60;

export interface IssueOptions {
  readonly mesh: string;
  readonly now: Date;
  readonly lifetimeSeconds?: number;
  readonly backdateSeconds?: number;
}

const ext = {
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectKeyIdentifier: '2.5.29.14',
  authorityKeyIdentifier: '2.5.29.35',
  subjectAltName: '2.5.29.17',
};
const attribute = { commonName: '2.5.4.3', organizationName: '2.5.4.10' };
const keyUsageBit = { digitalSignature: 0, keyCertSign: 5, cRLSign: 6 };
const extendedKeyUsage = { serverAuth: '1.3.6.1.5.5.7.3.1', clientAuth: '1.3.6.1.5.5.7.3.2' };

/**
 * issueCaCertificate self-signs the mesh CA certificate with the signer's own key: CA:true with
 * path length 0 (it signs service certificates only), keyCertSign and cRLSign.
 */
export async function issueCaCertificate(signer: CaSigner, options: IssueOptions): Promise<CaCertificate> {
  const publicKey = normalizedSpki(signer.publicKey, 'the CA signer public key');
  const name = distinguishedName(options.mesh, 'Mesh CA');
  const validity = validityOf(options, defaultCaLifetimeSeconds);
  const der = await signCertificate(signer, {
    issuer: name,
    subject: name,
    validity,
    publicKey,
    extensions: [
      extension(ext.basicConstraints, true, sequence(boolean(true), unsignedInteger(0))),
      extension(ext.keyUsage, true, namedBits([keyUsageBit.keyCertSign, keyUsageBit.cRLSign])),
      extension(ext.subjectKeyIdentifier, false, octetString(keyIdentifier(publicKey))),
    ],
  });
  return { certificatePem: toPem(der.certificate), ...describe(validity, der.serial) };
}

/**
 * issueServiceCertificate generates a fresh ECDSA P-256 key pair for `service` and issues its
 * certificate from the CA: no CSR, because the control plane delivers the key itself over SDS.
 * The certificate names the service as CN and its SPIFFE ID as the only URI SAN, and is good
 * for both ends of mTLS (serverAuth and clientAuth).
 */
export async function issueServiceCertificate(
  signer: CaSigner,
  caCertificatePem: string,
  service: string,
  options: IssueOptions,
): Promise<IssuedCertificate> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const certified = await certifyServiceKey(signer, caCertificatePem, service, publicKey.export({ type: 'spki', format: 'der' }), options);
  return { ...certified, privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string };
}

/** CertifiedKey is a certificate for a key the holder keeps: everything IssuedCertificate has but the private key. */
export type CertifiedKey = Omit<IssuedCertificate, 'privateKeyPem'>;

/**
 * certifyServiceKey issues `service` a certificate for a public key its holder generated and
 * keeps (DER SubjectPublicKeyInfo, ECDSA P-256 only, as the mesh's own keys): the same
 * certificate issueServiceCertificate makes, for a private key that never reaches the CA. So
 * the push tier's tasks hold their key while only the push-certificate function may sign.
 */
export async function certifyServiceKey(
  signer: CaSigner,
  caCertificatePem: string,
  service: string,
  publicKeySpki: Uint8Array,
  options: IssueOptions,
): Promise<CertifiedKey> {
  const ca = readCaCertificate(caCertificatePem);
  const caKey = signerKey(signer);
  if (!Buffer.from(caKey).equals(ca.publicKey)) {
    throw new PkiError('the CA signer key is not the key of the CA certificate: issued certificates would not chain');
  }
  const servicePublicKey = p256Spki(publicKeySpki);
  const validity = validityOf(options, defaultLeafLifetimeSeconds);
  if (validity.notAfter > ca.notAfter) {
    throw new PkiError(
      `the CA certificate expires at ${ca.notAfter.toISOString()}, before ${validity.notAfter.toISOString()}: rotate the CA`,
    );
  }
  const id = spiffeId(options.mesh, service);
  const der = await signCertificate(signer, {
    issuer: ca.subject,
    subject: distinguishedName(options.mesh, service),
    validity,
    publicKey: servicePublicKey,
    extensions: [
      extension(ext.basicConstraints, true, sequence()),
      extension(ext.keyUsage, true, namedBits([keyUsageBit.digitalSignature])),
      extension(ext.extKeyUsage, false, sequence(oid(extendedKeyUsage.serverAuth), oid(extendedKeyUsage.clientAuth))),
      extension(ext.subjectKeyIdentifier, false, octetString(keyIdentifier(servicePublicKey))),
      extension(ext.authorityKeyIdentifier, false, sequence(contextPrimitive(0, keyIdentifier(caKey)))),
      extension(ext.subjectAltName, false, sequence(contextPrimitive(6, ia5Contents(id)))),
    ],
  });
  return { service, spiffeId: id, certificatePem: toPem(der.certificate), ...describe(validity, der.serial) };
}

/** p256Spki checks that a subject's key is an ECDSA P-256 public key and re-encodes it as node does. */
function p256Spki(spki: Uint8Array): Buffer {
  let key;
  try {
    key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
  } catch (err) {
    throw new PkiError('the public key to certify is not a DER SubjectPublicKeyInfo', { cause: err });
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new PkiError(`the public key to certify must be ECDSA P-256, not ${key.asymmetricKeyType ?? 'unknown'}`);
  }
  return key.export({ type: 'spki', format: 'der' });
}

interface Validity {
  readonly notBefore: Date;
  readonly notAfter: Date;
}

interface CertificateFields {
  readonly issuer: Uint8Array;
  readonly subject: Uint8Array;
  readonly validity: Validity;
  readonly publicKey: Uint8Array;
  readonly extensions: readonly Uint8Array[];
}

/** signCertificate assembles the TBSCertificate, has the signer sign it, and wraps both (RFC 5280 §4.1). */
async function signCertificate(signer: CaSigner, fields: CertificateFields): Promise<{ certificate: Uint8Array; serial: string }> {
  const serial = randomSerial();
  const algorithm = signatureAlgorithmIdentifier(signer.algorithm);
  const tbs = sequence(
    contextExplicit(0, unsignedInteger(2)), // v3
    unsignedInteger(serial),
    algorithm,
    fields.issuer,
    sequence(time(fields.validity.notBefore), time(fields.validity.notAfter)),
    fields.subject,
    fields.publicKey,
    contextExplicit(3, sequence(...fields.extensions)),
  );
  let signature: Uint8Array;
  try {
    signature = await signer.sign(tbs);
  } catch (err) {
    throw new PkiError('the CA signer failed to sign a certificate', { cause: err });
  }
  return { certificate: sequence(tbs, algorithm, bitString(signature)), serial: Buffer.from(serial).toString('hex').toUpperCase() };
}

/**
 * randomSerial is 16 random bytes, positive, with the second-highest bit set so the DER
 * integer keeps all 16 bytes (126 random bits: above the 64 the CA/Browser Forum asks for).
 */
function randomSerial(): Uint8Array {
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x3f) | 0x40;
  return serial;
}

function extension(id: string, critical: boolean, value: Uint8Array): Uint8Array {
  // DER omits a BOOLEAN that equals its DEFAULT (critical FALSE).
  return critical ? sequence(oid(id), boolean(true), octetString(value)) : sequence(oid(id), octetString(value));
}

function distinguishedName(mesh: string, commonName: string): Uint8Array {
  return sequence(
    set(sequence(oid(attribute.organizationName), utf8String(mesh))),
    set(sequence(oid(attribute.commonName), utf8String(commonName))),
  );
}

/** ia5Contents is the IA5String bytes of a URI, for an IMPLICIT [6] uniformResourceIdentifier. */
const ia5Contents = (uri: string) => readElement(ia5String(uri)).value;

/** keyIdentifier is RFC 5280 §4.2.1.2 method (1): SHA-1 of the subjectPublicKey bits. */
function keyIdentifier(spki: Uint8Array): Uint8Array {
  const [, subjectPublicKey] = readChildren(readElement(spki));
  if (!subjectPublicKey) throw new PkiError('public key is not a SubjectPublicKeyInfo');
  return createHash('sha1').update(subjectPublicKey.value.subarray(1)).digest();
}

/** normalizedSpki re-encodes a public key as node does, so keys from KMS and from a certificate compare byte for byte. */
function normalizedSpki(spki: Uint8Array, what: string): Buffer {
  try {
    return createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' }).export({ type: 'spki', format: 'der' });
  } catch (err) {
    throw new PkiError(`${what} is not a DER SubjectPublicKeyInfo`, { cause: err });
  }
}

function validityOf(options: IssueOptions, defaultLifetime: number): Validity {
  const lifetime = options.lifetimeSeconds ?? defaultLifetime;
  const backdate = options.backdateSeconds ?? defaultBackdateSeconds;
  if (!Number.isInteger(lifetime) || lifetime <= 0) throw new PkiError(`lifetimeSeconds must be a positive integer, got ${lifetime}`);
  if (!Number.isInteger(backdate) || backdate < 0) throw new PkiError(`backdateSeconds must be a non-negative integer, got ${backdate}`);
  const now = Math.floor(options.now.getTime() / 1000);
  if (!Number.isFinite(now)) throw new PkiError('now is not a valid date');
  return { notBefore: new Date((now - backdate) * 1000), notAfter: new Date((now + lifetime) * 1000) };
}

function describe(validity: Validity, serial: string) {
  return { notBefore: validity.notBefore.toISOString(), notAfter: validity.notAfter.toISOString(), serial };
}

interface CaFields {
  readonly subject: Uint8Array;
  readonly publicKey: Buffer;
  readonly notAfter: Date;
}

/**
 * Parsing the CA certificate and re-encoding the signer's key cost OpenSSL more than signing a
 * certificate does; both are the same for every certificate a process issues, so they are kept.
 */
let lastCa: { readonly pem: string; readonly fields: CaFields } | undefined;
const signerKeys = new WeakMap<CaSigner, Buffer>();

function signerKey(signer: CaSigner): Buffer {
  let key = signerKeys.get(signer);
  if (!key) signerKeys.set(signer, (key = normalizedSpki(signer.publicKey, 'the CA signer public key')));
  return key;
}

function readCaCertificate(pem: string): CaFields {
  if (lastCa?.pem !== pem) lastCa = { pem, fields: parseCaCertificate(pem) };
  return lastCa.fields;
}

/** parseCaCertificate reads what issuance copies from the CA certificate: its subject, key and expiry. */
function parseCaCertificate(pem: string): CaFields {
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(pem);
  } catch (err) {
    throw new PkiError('the CA certificate is not a PEM X.509 certificate', { cause: err });
  }
  // Certificate ::= SEQUENCE { tbsCertificate, ... }; TBS: [0] version, serial, signature, issuer, validity, subject, spki, ...
  const [tbs] = readChildren(readElement(certificate.raw));
  const fields = tbs ? readChildren(tbs) : [];
  const subject = fields[fields[0]?.tag === 0xa0 ? 5 : 4];
  if (!subject) throw new PkiError('the CA certificate has no subject');
  return {
    subject: Uint8Array.from(subject.raw),
    publicKey: certificate.publicKey.export({ type: 'spki', format: 'der' }),
    notAfter: new Date(certificate.validTo),
  };
}

/** toPem wraps DER as PEM with 64-column base64 lines (RFC 7468). */
export function toPem(der: Uint8Array, label = 'CERTIFICATE'): string {
  const lines = Buffer.from(der).toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** certificatesOfBundle reads every certificate of a PEM bundle (a trust bundle holds one CA, or two during a rotation). */
export function certificatesOfBundle(bundlePem: string): X509Certificate[] {
  return (bundlePem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map((pem) => new X509Certificate(pem));
}
