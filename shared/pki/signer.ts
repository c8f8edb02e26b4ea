import { createHash, createPublicKey, generateKeyPairSync, KeyObject, sign } from 'node:crypto';
import { nullValue, oid, sequence } from './der';

/** PkiError says issuance could not proceed; its message never carries key or certificate material. */
export class PkiError extends Error {
  override readonly name = 'PkiError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * The signature algorithms a CA key can have, named as AWS KMS names them (`SigningAlgorithm`),
 * so the KMS adapter passes them through unchanged.
 */
export type SignatureAlgorithm = 'ECDSA_SHA_256' | 'RSASSA_PKCS1_V1_5_SHA_256';

/**
 * CaSigner is the port through which the CA key signs: certificates (the CA's own included) are
 * assembled here, only their to-be-signed bytes cross the port. So the private key can live
 * where it cannot leave (AWS KMS) and the same issuance code runs locally with an in-process key.
 */
export interface CaSigner {
  readonly algorithm: SignatureAlgorithm;
  /** The CA public key as DER SubjectPublicKeyInfo (what KMS GetPublicKey returns). */
  readonly publicKey: Uint8Array;
  /** sign returns the signature of `message` in X.509's encoding: DER ECDSA-Sig-Value, or PKCS#1 v1.5 bytes for RSA. */
  sign(message: Uint8Array): Promise<Uint8Array>;
}

/** signatureAlgorithmIdentifier is the X.509 AlgorithmIdentifier a certificate names for its signature. */
export function signatureAlgorithmIdentifier(algorithm: SignatureAlgorithm): Uint8Array {
  switch (algorithm) {
    case 'ECDSA_SHA_256':
      return sequence(oid('1.2.840.10045.4.3.2')); // ecdsa-with-SHA256: parameters absent (RFC 5758)
    case 'RSASSA_PKCS1_V1_5_SHA_256':
      return sequence(oid('1.2.840.113549.1.1.11'), nullValue()); // sha256WithRSAEncryption: parameters NULL (RFC 4055)
  }
}

/** sha256 is the digest both supported algorithms sign. */
export const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest();

/**
 * createLocalCaSigner makes a CA signer whose ECDSA P-256 key is generated in-process at start:
 * for the local runner and tests, where there is no KMS. The key never leaves the closure.
 */
export function createLocalCaSigner(): CaSigner {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return localSigner(privateKey, publicKey);
}

/** localSigner wraps an existing key pair (EC P-256 or RSA) as a CA signer. */
export function localSigner(privateKey: KeyObject, publicKey: KeyObject = createPublicKey(privateKey)): CaSigner {
  const type = privateKey.asymmetricKeyType;
  const isP256 = type === 'ec' && privateKey.asymmetricKeyDetails?.namedCurve === 'prime256v1';
  if (type !== 'rsa' && !isP256) throw new PkiError(`a CA key must be RSA or EC P-256, not ${type ?? 'unknown'}`);
  return {
    algorithm: type === 'rsa' ? 'RSASSA_PKCS1_V1_5_SHA_256' : 'ECDSA_SHA_256',
    publicKey: publicKey.export({ type: 'spki', format: 'der' }),
    // Node's ECDSA output is DER (dsaEncoding 'der'), which is what X.509 carries.
    sign: async (message) => sign('sha256', message, privateKey),
  };
}
