import { KeyObject, X509Certificate, createHash, createPrivateKey } from 'node:crypto';

/**
 * The operator's certificate of an ingress gateway's TLS listener, as it is kept in AWS
 * Secrets Manager (docs/rendering.md, "Gateway certificates"), read and checked before it is
 * sealed into the mesh's store and served over SDS.
 *
 * The secret's value is one of:
 * - JSON `{"certificateChain": PEM, "privateKey": PEM}`: the leaf first, then its intermediates;
 * - JSON `{"certificatePem": PEM, "privateKeyPem": PEM}` (the same, in the names the spec's
 *   first documentation used);
 * - JSON `{"certificate": PEM, "certificateChain": PEM, "privateKey": PEM}`: what ACM's
 *   ExportCertificate returns (`Certificate`, `CertificateChain`, `PrivateKey`, either case),
 *   the leaf apart from its intermediates, with the key stored decrypted;
 * - plain PEM text (or binary secret of it): certificates and one private key in any order,
 *   e.g. `cat fullchain.pem privkey.pem`.
 * The private key is PKCS#8, PKCS#1 (RSA) or SEC1 (EC), unencrypted (Secrets Manager encrypts
 * it at rest); it is served as PKCS#8.
 */

/** What is wrong with an operator's certificate secret: one code per kind of problem. */
export type OperatorCertificateProblem =
  | 'format'
  | 'no-certificate'
  | 'bad-certificate'
  | 'no-private-key'
  | 'encrypted-private-key'
  | 'bad-private-key'
  | 'key-mismatch'
  | 'chain-order'
  | 'expired'
  | 'not-yet-valid'
  | 'no-subject-alt-names'
  | 'ca-certificate';

/**
 * OperatorCertificateError says why an operator's certificate cannot be served: a `problem`
 * code and the `field` of the secret it is about (e.g. `certificateChain[1]`, `privateKey`).
 * It never carries key material.
 */
export class OperatorCertificateError extends Error {
  override readonly name = 'OperatorCertificateError';
  constructor(
    readonly problem: OperatorCertificateProblem,
    readonly field: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${field}: ${message}`, options);
  }
}

/** OperatorCertificate is a checked certificate chain and its private key, ready to seal and serve. */
export interface OperatorCertificate {
  /** The chain as PEM, leaf first, each certificate re-encoded (no comments or stray text). */
  readonly certificateChainPem: string;
  /** The private key as unencrypted PKCS#8 PEM. */
  readonly privateKeyPem: string;
  /** The leaf's SHA-256 fingerprint, hex, lowercase. */
  readonly fingerprint: string;
  readonly notBefore: string;
  readonly notAfter: string;
  /** The leaf's DNS and IP subject alternative names, e.g. `DNS:shop.example.com`. */
  readonly subjectAltNames: readonly string[];
}

/** At most this many certificates in a chain: a leaf and a few intermediates, never a bundle of roots. */
const maxChainLength = 10;
/** Secrets Manager holds at most 64 KB per value. */
const maxSecretBytes = 65_536;

interface PemBlock {
  readonly label: string;
  readonly text: string;
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;

function pemBlocks(text: string): PemBlock[] {
  return [...text.matchAll(PEM_BLOCK)].map((m) => ({ label: m[1]!, text: m[0] }));
}

/** The two parts of a secret before they are checked, with the names the secret gave them. */
interface SecretParts {
  readonly chain: readonly { readonly field: string; readonly pem: string }[];
  readonly key: { readonly field: string; readonly pem: string };
}

const jsonKeys = {
  certificatechain: 'certificateChain',
  certificatepem: 'certificatePem',
  certificate: 'certificate',
  privatekey: 'privateKey',
  privatekeypem: 'privateKeyPem',
} as const;

/**
 * secretParts splits a secret's value into the certificate PEM text(s) and the private key
 * PEM text, by the formats above; anything else is a `format` problem that names the accepted ones.
 */
function secretParts(value: string): SecretParts {
  const trimmed = value.trim();
  if (trimmed.startsWith('{')) return jsonParts(trimmed);
  if (!trimmed.includes('-----BEGIN ')) {
    throw new OperatorCertificateError(
      'format',
      '(secret)',
      'is neither JSON {"certificateChain", "privateKey"} nor PEM text; store the PEM certificate chain and private key in one of the documented forms',
    );
  }
  const blocks = pemBlocks(trimmed);
  const keys = blocks.filter((b) => b.label.endsWith('PRIVATE KEY'));
  if (keys.length > 1) throw new OperatorCertificateError('format', '(secret)', `holds ${keys.length} private keys; store exactly one`);
  return {
    chain: [{ field: '(secret)', pem: blocks.filter((b) => !b.label.endsWith('PRIVATE KEY')).map((b) => b.text).join('\n') }],
    key: { field: '(secret)', pem: keys[0]?.text ?? '' },
  };
}

function jsonParts(text: string): SecretParts {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new OperatorCertificateError('format', '(secret)', 'starts with "{" but is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new OperatorCertificateError('format', '(secret)', 'must be a JSON object');
  }
  const fields = new Map<string, { field: string; value: unknown }>();
  for (const [field, value] of Object.entries(parsed)) {
    const known = jsonKeys[field.toLowerCase() as keyof typeof jsonKeys];
    if (!known || fields.has(known)) {
      throw new OperatorCertificateError(
        'format',
        field,
        known
          ? 'is given twice (in two spellings)'
          : 'is not a field of a gateway certificate secret; use "certificateChain" and "privateKey" (or ACM\'s "certificate", "certificateChain", "privateKey")',
      );
    }
    if (typeof value !== 'string') throw new OperatorCertificateError('format', field, 'must be a string of PEM text');
    fields.set(known, { field, value });
  }
  const get = (name: string) => fields.get(name) as { field: string; value: string } | undefined;
  const key = get('privateKey') ?? get('privateKeyPem');
  if (get('privateKey') && get('privateKeyPem')) throw new OperatorCertificateError('format', get('privateKeyPem')!.field, 'set only one of privateKey and privateKeyPem');
  const leaf = get('certificate');
  const chain = get('certificateChain');
  const pem = get('certificatePem');
  if (pem && (leaf || chain)) throw new OperatorCertificateError('format', pem.field, 'set certificatePem alone, or certificateChain (and certificate)');
  const certificates = [leaf, chain, pem].filter((f): f is { field: string; value: string } => f !== undefined);
  if (certificates.length === 0) throw new OperatorCertificateError('no-certificate', 'certificateChain', 'is required: the PEM certificate chain, leaf first');
  if (!key) throw new OperatorCertificateError('no-private-key', 'privateKey', 'is required: the PEM private key of the leaf certificate');
  return { chain: certificates.map((c) => ({ field: c.field, pem: c.value })), key: { field: key.field, pem: key.value } };
}

function parseChain(parts: SecretParts['chain']): { field: string; certificate: X509Certificate }[] {
  const chain: { field: string; certificate: X509Certificate }[] = [];
  for (const part of parts) {
    const blocks = pemBlocks(part.pem);
    const other = blocks.find((b) => b.label !== 'CERTIFICATE');
    if (other) throw new OperatorCertificateError('bad-certificate', part.field, `holds a "${other.label}" block where only CERTIFICATE blocks belong`);
    if (blocks.length === 0) throw new OperatorCertificateError('no-certificate', part.field, 'holds no PEM CERTIFICATE block');
    for (const block of blocks) {
      const field = `${part.field}[${chain.length}]`;
      try {
        chain.push({ field, certificate: new X509Certificate(block.text) });
      } catch (err) {
        throw new OperatorCertificateError('bad-certificate', field, 'does not parse as an X.509 certificate', { cause: err });
      }
    }
  }
  if (chain.length > maxChainLength) {
    throw new OperatorCertificateError('bad-certificate', parts[0]!.field, `holds ${chain.length} certificates; a chain has at most ${maxChainLength} (leaf and intermediates, no roots bundle)`);
  }
  return chain;
}

function parseKey(part: SecretParts['key']): KeyObject {
  const blocks = pemBlocks(part.pem).filter((b) => b.label.endsWith('PRIVATE KEY'));
  if (blocks.length === 0) throw new OperatorCertificateError('no-private-key', part.field === '(secret)' ? 'privateKey' : part.field, 'holds no PEM PRIVATE KEY block');
  if (blocks.length > 1) throw new OperatorCertificateError('format', part.field, `holds ${blocks.length} private keys; store exactly one`);
  const block = blocks[0]!;
  if (block.label === 'ENCRYPTED PRIVATE KEY' || /Proc-Type:\s*4,ENCRYPTED/.test(block.text)) {
    throw new OperatorCertificateError('encrypted-private-key', part.field, 'is encrypted with a passphrase; store it decrypted (Secrets Manager encrypts it at rest)');
  }
  try {
    return createPrivateKey({ key: block.text, format: 'pem' });
  } catch (err) {
    throw new OperatorCertificateError('bad-private-key', part.field, `does not parse as a ${block.label}`, { cause: err });
  }
}

const subjectAltNamesOf = (certificate: X509Certificate): string[] =>
  (certificate.subjectAltName ?? '')
    .split(/,\s*/)
    .map((s) => s.trim())
    .filter((s) => s.startsWith('DNS:') || s.startsWith('IP Address:'));

/**
 * parseOperatorCertificate reads and checks an operator's certificate secret at `now`: the
 * PEM parses as X.509, the chain is in order (each certificate issued and signed by the next),
 * the key is the leaf's, the leaf is no CA, names DNS or IP subject alternative names, and
 * every certificate of the chain is valid at `now` (the caller's clock, never the machine's).
 * It throws OperatorCertificateError naming the first problem.
 */
export function parseOperatorCertificate(value: string, now: Date): OperatorCertificate {
  if (Buffer.byteLength(value, 'utf8') > maxSecretBytes) throw new OperatorCertificateError('format', '(secret)', `is larger than ${maxSecretBytes} bytes`);
  const parts = secretParts(value);
  const chain = parseChain(parts.chain);
  const key = parseKey(parts.key);
  const leaf = chain[0]!;
  if (!leaf.certificate.checkPrivateKey(key)) {
    throw new OperatorCertificateError('key-mismatch', parts.key.field === '(secret)' ? 'privateKey' : parts.key.field, `is not the private key of ${leaf.field} (${leaf.certificate.subject.replace(/\n/g, ', ')})`);
  }
  if (leaf.certificate.ca) throw new OperatorCertificateError('ca-certificate', leaf.field, 'is a CA certificate; the leaf (server) certificate must come first');
  for (let i = 0; i + 1 < chain.length; i++) {
    const child = chain[i]!;
    const parent = chain[i + 1]!;
    if (!child.certificate.checkIssued(parent.certificate) || !child.certificate.verify(parent.certificate.publicKey)) {
      throw new OperatorCertificateError('chain-order', parent.field, `did not issue ${child.field}; order the chain leaf first, each certificate followed by its issuer`);
    }
  }
  for (const { field, certificate } of chain) {
    if (now.getTime() < Date.parse(certificate.validFrom)) {
      throw new OperatorCertificateError('not-yet-valid', field, `is not valid before ${new Date(certificate.validFrom).toISOString()}`);
    }
    if (now.getTime() > Date.parse(certificate.validTo)) {
      throw new OperatorCertificateError('expired', field, `expired at ${new Date(certificate.validTo).toISOString()}`);
    }
  }
  const subjectAltNames = subjectAltNamesOf(leaf.certificate);
  if (subjectAltNames.length === 0) {
    throw new OperatorCertificateError('no-subject-alt-names', leaf.field, 'names no DNS or IP subject alternative name; clients match host names against SANs, not the common name');
  }
  return {
    certificateChainPem: chain.map((c) => c.certificate.toString().trim()).join('\n') + '\n',
    privateKeyPem: String(key.export({ type: 'pkcs8', format: 'pem' })),
    fingerprint: createHash('sha256').update(leaf.certificate.raw).digest('hex'),
    notBefore: new Date(leaf.certificate.validFrom).toISOString(),
    notAfter: new Date(leaf.certificate.validTo).toISOString(),
    subjectAltNames,
  };
}
