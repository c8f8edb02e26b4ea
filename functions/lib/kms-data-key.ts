import { DecryptCommand, GenerateDataKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { AesGcmSealer, SecretSealer } from '../../shared/secrets/sealer';
import { CertificateRepository } from '../../shared/store/repositories';

/**
 * DataKeyKms is what the data key asks of KMS: open it (every container that serves or issues
 * secrets) and make it (issuers only, once per mesh). A reader's KMS need not make one.
 */
export interface DataKeyKms {
  /** decrypt returns the plaintext of a KMS ciphertext blob (KMS Decrypt). */
  readonly decrypt: (ciphertext: Uint8Array, keyId: string) => Promise<Uint8Array>;
  /** generateDataKey makes an AES-256 data key and returns it only encrypted (KMS GenerateDataKey). */
  readonly generateDataKey?: (keyId: string) => Promise<Uint8Array>;
}

/** sdkDataKeyKms is DataKeyKms on the AWS SDK's KMS client (the push tier's container, server/main.ts; the functions use kms.ts). */
export function sdkDataKeyKms(kms: KMSClient): Required<DataKeyKms> {
  return {
    async decrypt(ciphertext, keyId) {
      const opened = await kms.send(new DecryptCommand({ CiphertextBlob: ciphertext, KeyId: keyId }));
      if (!opened.Plaintext) throw new Error('KMS Decrypt returned no plaintext for the data key');
      return opened.Plaintext;
    },
    async generateDataKey(keyId) {
      const made = await kms.send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256' }));
      if (!made.CiphertextBlob) throw new Error('KMS GenerateDataKey returned no ciphertext');
      return made.CiphertextBlob;
    },
  };
}

/**
 * loadKmsDataKeySealer gives a container the sealer for service private keys: an AES-256 data
 * key made once by KMS (`GenerateDataKey`), stored in the table only encrypted, and decrypted
 * by KMS once per cold start. Secrets are then sealed and opened in memory: no KMS call per
 * poll, and the table never holds a usable key.
 *
 * `make: false` is for a reader (the xds function): it never makes the data key, so its role
 * needs neither kms:GenerateDataKey nor a write to the catalog; until an issuer has made one
 * (there are no sealed keys to open before that), it fails and the caller tries again later.
 */
export async function loadKmsDataKeySealer(
  kms: KMSClient,
  keyId: string,
  store: Pick<CertificateRepository, 'getSealedDataKey' | 'putSealedDataKey'>,
  options: { readonly make?: boolean } = {},
): Promise<SecretSealer> {
  return loadDataKeySealer(sdkDataKeyKms(kms), keyId, store, options);
}

/**
 * loadDataKeySealer is loadKmsDataKeySealer on any DataKeyKms: the functions pass the signed
 * requests of kms.ts (the xds function its decrypt-only one), so no bundle carries the KMS SDK client.
 */
export async function loadDataKeySealer(
  kms: DataKeyKms,
  keyId: string,
  store: Pick<CertificateRepository, 'getSealedDataKey' | 'putSealedDataKey'>,
  options: { readonly make?: boolean } = {},
): Promise<SecretSealer> {
  let ciphertext = await store.getSealedDataKey();
  if (!ciphertext) {
    if (options.make === false || !kms.generateDataKey) {
      throw new Error('no data key has been made yet: a service must be declared (by an issuer) first');
    }
    ciphertext = await store.putSealedDataKey(await kms.generateDataKey(keyId));
  }
  return new AesGcmSealer(await kms.decrypt(ciphertext, keyId));
}
