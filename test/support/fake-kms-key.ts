import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * fakeKmsKey is a KMS master key only a test's stand-in KMS holds: `wrap` makes a ciphertext
 * blob (iv, tag and AES-GCM body) as Encrypt/GenerateDataKey would, `unwrap` opens one as Decrypt.
 */
export function fakeKmsKey(): { wrap(plain: Uint8Array): Buffer; unwrap(blob: Uint8Array): Buffer } {
  const masterKey = randomBytes(32);
  return {
    wrap(plain) {
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', masterKey, iv);
      const body = Buffer.concat([c.update(plain), c.final()]);
      return Buffer.concat([iv, c.getAuthTag(), body]);
    },
    unwrap(blob) {
      const b = Buffer.from(blob);
      const d = createDecipheriv('aes-256-gcm', masterKey, b.subarray(0, 12));
      d.setAuthTag(b.subarray(12, 28));
      return Buffer.concat([d.update(b.subarray(28)), d.final()]);
    },
  };
}
