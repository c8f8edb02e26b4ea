import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * SecretSealer encrypts secret material (service private keys) before it is stored, so the
 * table holds only ciphertext: readers of the table (reports, backups, exports) never see a key.
 */
export interface SecretSealer {
  /** seal encrypts `plaintext` bound to `context`: it opens only with the same context. */
  seal(plaintext: string, context: string): Uint8Array;
  open(sealed: Uint8Array, context: string): string;
}

/**
 * privateKeyContext binds a sealed private key to its service and certificate: a key copied
 * into another service's item, or next to another certificate, does not open. Anyone who can
 * write the table could otherwise swap sealed keys between services.
 */
export const privateKeyContext = (service: string, certificateSerial: string): string =>
  `envoy-mesh/service-private-key\n${service}\n${certificateSerial}`;

/** Version 2 binds a context as AES-GCM associated data; version 1 (no context) is no longer opened. */
const version = 2;

/** isCurrentSealFormat says whether sealed material is in the format this sealer opens (older material is re-issued). */
export const isCurrentSealFormat = (sealed: Uint8Array): boolean => sealed.length > 0 && sealed[0] === version;

/** SealedSecretError says secret material could not be sealed or opened; it never carries the material. */
export class SealedSecretError extends Error {
  override readonly name = 'SealedSecretError';
}

/**
 * AesGcmSealer seals with AES-256-GCM under one data key, the context as associated data:
 * `version | iv (12) | tag (16) | ciphertext`.
 * In AWS the data key is a KMS data key whose plaintext lives only in memory (functions/lib/kms-data-key.ts);
 * on the local runner it is generated at start.
 */
export class AesGcmSealer implements SecretSealer {
  constructor(private readonly key: Uint8Array) {
    if (key.length !== 32) throw new SealedSecretError('AesGcmSealer needs a 256-bit key');
  }

  static generate(): AesGcmSealer {
    return new AesGcmSealer(randomBytes(32));
  }

  seal(plaintext: string, context: string): Uint8Array {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return Buffer.concat([Buffer.of(version), iv, cipher.getAuthTag(), body]);
  }

  open(sealed: Uint8Array, context: string): string {
    const buf = Buffer.from(sealed);
    if (buf.length < 29 || buf[0] !== version) throw new SealedSecretError('sealed secret has an unknown format');
    const decipher = createDecipheriv('aes-256-gcm', this.key, buf.subarray(1, 13));
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(buf.subarray(13, 29));
    try {
      return Buffer.concat([decipher.update(buf.subarray(29)), decipher.final()]).toString('utf8');
    } catch {
      // Never echo any of the material: only that it did not open.
      throw new SealedSecretError('sealed secret does not open with this key and context');
    }
  }
}

/**
 * gatewayKeyContext binds a gateway listener's sealed private key (the operator's, copied from
 * Secrets Manager) to its gateway, port and certificate, as privateKeyContext does for services.
 */
export const gatewayKeyContext = (gateway: string, port: number, fingerprint: string): string =>
  `envoy-mesh/gateway-private-key\n${gateway}\n${port}\n${fingerprint}`;
