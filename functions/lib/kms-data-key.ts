import { DecryptCommand, GenerateDataKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { AesGcmSealer, SecretSealer } from '../../shared/secrets/sealer';
import { CertificateRepository } from '../../shared/store/repositories';

/**
 * loadKmsDataKeySealer gives a container the sealer for service private keys: an AES-256 data
 * key made once by KMS (`GenerateDataKey`), stored in the table only encrypted, and decrypted
 * by KMS once per cold start. Secrets are then sealed and opened in memory: no KMS call per
 * poll, and the table never holds a usable key.
 */
export async function loadKmsDataKeySealer(kms: KMSClient, keyId: string, store: Pick<CertificateRepository, 'getSealedDataKey' | 'putSealedDataKey'>): Promise<SecretSealer> {
  let ciphertext = await store.getSealedDataKey();
  if (!ciphertext) {
    const made = await kms.send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256' }));
    if (!made.CiphertextBlob) throw new Error('KMS GenerateDataKey returned no ciphertext');
    ciphertext = await store.putSealedDataKey(made.CiphertextBlob);
  }
  const opened = await kms.send(new DecryptCommand({ CiphertextBlob: ciphertext, KeyId: keyId }));
  if (!opened.Plaintext) throw new Error('KMS Decrypt returned no plaintext for the data key');
  return new AesGcmSealer(opened.Plaintext);
}
