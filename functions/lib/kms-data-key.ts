import { DecryptCommand, GenerateDataKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { AesGcmSealer, SecretSealer } from '../../shared/secrets/sealer';
import { CertificateRepository } from '../../shared/store/repositories';

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
  let ciphertext = await store.getSealedDataKey();
  if (!ciphertext) {
    if (options.make === false) throw new Error('no data key has been made yet: a service must be declared (by an issuer) first');
    const made = await kms.send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256' }));
    if (!made.CiphertextBlob) throw new Error('KMS GenerateDataKey returned no ciphertext');
    ciphertext = await store.putSealedDataKey(made.CiphertextBlob);
  }
  const opened = await kms.send(new DecryptCommand({ CiphertextBlob: ciphertext, KeyId: keyId }));
  if (!opened.Plaintext) throw new Error('KMS Decrypt returned no plaintext for the data key');
  return new AesGcmSealer(opened.Plaintext);
}
