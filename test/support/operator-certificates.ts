import { KeyObject, X509Certificate, createPublicKey, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { toPem } from '../../shared/pki/certificate';
import { signatureAlgorithmIdentifier } from '../../shared/pki/signer';
import {
  bitString,
  boolean,
  contextExplicit,
  contextPrimitive,
  namedBits,
  octetString,
  oid,
  sequence,
  set,
  time,
  unsignedInteger,
  utf8String,
} from '../../shared/pki/der';

/**
 * What an operator brings to a gateway: a certificate chain of a public CA's kind (root →
 * intermediate → server certificate with DNS names) and the server's key, made here with the
 * same DER primitives the mesh CA uses, at the times a test gives (never the machine's clock,
 * unless the certificate meets OpenSSL in a real handshake: then the test passes the real now).
 */

export interface Party {
  readonly certificatePem: string;
  readonly privateKey: KeyObject;
  readonly name: string;
}

const cnOf = (name: string) => sequence(set(sequence(oid('2.5.4.3'), utf8String(name))));

export interface IssueOptions {
  readonly name: string;
  readonly issuer?: Party;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly ca?: boolean;
  readonly dnsNames?: readonly string[];
  /** The subject's key. @default a new ECDSA P-256 key */
  readonly privateKey?: KeyObject;
}

/** issue makes a certificate (self-signed without `issuer`), signed with ECDSA SHA-256 (the issuers here are P-256). */
export function issue(options: IssueOptions): Party {
  const privateKey = options.privateKey ?? generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
  const signer = options.issuer?.privateKey ?? privateKey;
  const algorithm = signatureAlgorithmIdentifier('ECDSA_SHA_256');
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x3f) | 0x40;
  const extensions = [
    sequence(oid('2.5.29.19'), boolean(true), octetString(options.ca ? sequence(boolean(true)) : sequence())),
    sequence(oid('2.5.29.15'), boolean(true), octetString(namedBits(options.ca ? [5, 6] : [0]))),
    ...(options.dnsNames && options.dnsNames.length > 0
      ? [sequence(oid('2.5.29.17'), octetString(sequence(...options.dnsNames.map((d) => contextPrimitive(2, Buffer.from(d, 'ascii'))))))]
      : []),
  ];
  const tbs = sequence(
    contextExplicit(0, unsignedInteger(2)),
    unsignedInteger(serial),
    algorithm,
    cnOf(options.issuer?.name ?? options.name),
    sequence(time(options.notBefore), time(options.notAfter)),
    cnOf(options.name),
    createPublicKey(privateKey).export({ type: 'spki', format: 'der' }),
    contextExplicit(3, sequence(...extensions)),
  );
  const signature = sign('sha256', tbs, signer);
  return { certificatePem: toPem(sequence(tbs, algorithm, bitString(signature))), privateKey, name: options.name };
}

export interface OperatorChain {
  readonly root: Party;
  readonly intermediate: Party;
  readonly leaf: Party;
  /** The chain an operator stores: leaf, then intermediate (the root is the client's to trust). */
  readonly chainPem: string;
  readonly keyPem: string;
  readonly fingerprint: string;
}

/** operatorChain makes root → intermediate → server certificate for `dnsNames`, valid from `now` minus a minute for `days`. */
export function operatorChain(now: Date, options: { dnsNames?: readonly string[]; days?: number; leafKey?: KeyObject } = {}): OperatorChain {
  const notBefore = new Date(now.getTime() - 60_000);
  const notAfter = new Date(now.getTime() + (options.days ?? 90) * 86_400_000);
  const root = issue({ name: 'Example Root CA', notBefore, notAfter: new Date(notAfter.getTime() + 86_400_000), ca: true });
  const intermediate = issue({ name: 'Example Issuing CA', issuer: root, notBefore, notAfter: new Date(notAfter.getTime() + 86_400_000), ca: true });
  const leaf = issue({
    name: 'shop.example.com',
    issuer: intermediate,
    notBefore,
    notAfter,
    dnsNames: options.dnsNames ?? ['shop.example.com', '*.shop.example.com'],
    ...(options.leafKey ? { privateKey: options.leafKey } : {}),
  });
  return {
    root,
    intermediate,
    leaf,
    chainPem: `${leaf.certificatePem}${intermediate.certificatePem}`,
    keyPem: String(leaf.privateKey.export({ type: 'pkcs8', format: 'pem' })),
    fingerprint: new X509Certificate(leaf.certificatePem).fingerprint256.replace(/:/g, '').toLowerCase(),
  };
}

/** secretJson is the secret's value in its documented form. */
export const secretJson = (chain: Pick<OperatorChain, 'chainPem' | 'keyPem'>): string => JSON.stringify({ certificateChain: chain.chainPem, privateKey: chain.keyPem });
