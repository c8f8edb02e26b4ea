import { CaSigner, sha256, SignatureAlgorithm } from '../../shared/pki/signer';

/**
 * The mesh CA signer backed by an AWS KMS asymmetric key (key usage SIGN_VERIFY): the CA
 * private key never leaves KMS; certificates are assembled in the function and only their
 * to-be-signed bytes are sent to `Sign`.
 */

/** KMS signs a RAW message of up to 4096 bytes; larger ones must be hashed here and sent as a DIGEST. */
const maxRawMessageBytes = 4096;

/** The algorithm we sign with, per KMS key spec. ECDSA signatures come back DER-encoded, as X.509 wants. */
const algorithmOfKeySpec: Record<string, SignatureAlgorithm> = {
  ECC_NIST_P256: 'ECDSA_SHA_256',
  RSA_2048: 'RSASSA_PKCS1_V1_5_SHA_256',
  RSA_3072: 'RSASSA_PKCS1_V1_5_SHA_256',
  RSA_4096: 'RSASSA_PKCS1_V1_5_SHA_256',
};

/**
 * KmsSigning is what the CA signer asks of KMS: the key's public half and spec (GetPublicKey)
 * and signatures (Sign). In the bundles it is the signed requests of kms.ts; tests adapt the
 * SDK's client to it (test/support/sdk-kms.ts) and mock that at the SDK boundary.
 */
export interface KmsSigning {
  getPublicKey(keyId: string): Promise<{ KeySpec?: string; KeyUsage?: string; PublicKey?: Uint8Array; SigningAlgorithms?: string[] }>;
  sign(input: { KeyId: string; SigningAlgorithm: string; MessageType: 'RAW' | 'DIGEST'; Message: Uint8Array }): Promise<{ Signature?: Uint8Array }>;
}

/** KmsCaSignerError says KMS could not be used as the CA; it names the key, never key material. */
export class KmsCaSignerError extends Error {
  override readonly name = 'KmsCaSignerError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * createKmsCaSigner reads the key's public half and spec once (at cold start), checks that it
 * can sign certificates, and returns a signer whose every signature is one KMS `Sign` call.
 */
export async function createKmsCaSigner(client: KmsSigning, keyId: string): Promise<CaSigner> {
  let key;
  try {
    key = await client.getPublicKey(keyId);
  } catch (err) {
    throw new KmsCaSignerError(`cannot read the public key of KMS key ${keyId}`, { cause: err });
  }
  const algorithm = key.KeySpec ? algorithmOfKeySpec[key.KeySpec] : undefined;
  if (key.KeyUsage !== 'SIGN_VERIFY' || !algorithm || !key.PublicKey) {
    throw new KmsCaSignerError(
      `KMS key ${keyId} cannot be the mesh CA: it must be a SIGN_VERIFY key of spec ${Object.keys(algorithmOfKeySpec).join(', ')} ` +
        `(it is ${key.KeyUsage ?? 'unknown usage'}, ${key.KeySpec ?? 'unknown spec'})`,
    );
  }
  if (key.SigningAlgorithms && !key.SigningAlgorithms.includes(algorithm)) {
    throw new KmsCaSignerError(`KMS key ${keyId} does not offer ${algorithm}`);
  }
  const publicKey = key.PublicKey;
  return {
    algorithm,
    publicKey,
    async sign(message) {
      const raw = message.length <= maxRawMessageBytes;
      try {
        const signed = await client.sign({
          KeyId: keyId,
          SigningAlgorithm: algorithm,
          MessageType: raw ? 'RAW' : 'DIGEST',
          Message: raw ? message : sha256(message),
        });
        if (!signed.Signature) throw new KmsCaSignerError(`KMS Sign with key ${keyId} returned no signature`);
        return signed.Signature;
      } catch (err) {
        if (err instanceof KmsCaSignerError) throw err;
        throw new KmsCaSignerError(`KMS Sign with key ${keyId} failed`, { cause: err });
      }
    },
  };
}
