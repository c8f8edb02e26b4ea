import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { NodeSha256 } from '../../cli/sigv4';
import { DataKeyKms } from './kms-data-key';

/** KmsRequestError is a refused or failed KMS call: its HTTP status and KMS's error type (e.g. AccessDeniedException). */
export class KmsRequestError extends Error {
  override readonly name = 'KmsRequestError';
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(`KMS Decrypt failed (${status} ${type}): ${message}`);
  }
}

export interface KmsDecryptOptions {
  readonly region: string;
  readonly credentials: AwsCredentialIdentityProvider;
  /** Only for tests: where KMS listens. @default https://kms.<region>.<the partition's DNS suffix> */
  readonly endpoint?: string;
}

/**
 * kmsDecryptOnly is the one KMS operation the xds function makes, Decrypt, as a signed HTTPS
 * request (KMS's JSON 1.1 protocol: POST / with `X-Amz-Target: TrentService.Decrypt`) with
 * the SigV4 signer and the fetch that are in its bundle anyway. The SDK's KMS client would add
 * 27 KB (mostly every KMS error class, which its protocol registers whole) to a bundle that
 * makes this call once per container (docs/deploy.md, "Bundles and cold starts"). The issuers
 * keep the SDK client (kms-data-key.ts, sdkDataKeyKms), as they also make keys and sign.
 * No retries of its own: a failed load is tried again on a later poll (functions/xds/handler.ts).
 */
export function kmsDecryptOnly(options: KmsDecryptOptions): DataKeyKms {
  const url = new URL(options.endpoint ?? `https://kms.${options.region}.${dnsSuffixOf(options.region)}/`);
  const signer = new SignatureV4({ service: 'kms', region: options.region, credentials: options.credentials, sha256: NodeSha256 });
  return {
    async decrypt(ciphertext, keyId) {
      const body = JSON.stringify({ CiphertextBlob: Buffer.from(ciphertext).toString('base64'), KeyId: keyId });
      const signed = await signer.sign({
        method: 'POST',
        protocol: url.protocol,
        hostname: url.hostname,
        ...(url.port ? { port: Number(url.port) } : {}),
        path: url.pathname,
        query: {},
        headers: { host: url.host, 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'TrentService.Decrypt' },
        body,
      });
      const response = await fetch(url, { method: 'POST', headers: signed.headers, body });
      const answer = (await response.json().catch(() => ({}))) as Record<string, unknown>;
      if (!response.ok) {
        const type = String(answer.__type ?? 'UnknownError').replace(/^.*#/, '');
        throw new KmsRequestError(response.status, type, String(answer.message ?? answer.Message ?? response.statusText));
      }
      if (typeof answer.Plaintext !== 'string') throw new Error('KMS Decrypt returned no plaintext for the data key');
      return new Uint8Array(Buffer.from(answer.Plaintext, 'base64'));
    },
  };
}

/** dnsSuffixOf is the DNS suffix of a region's partition (China's regions have their own). */
export function dnsSuffixOf(region: string): string {
  return region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
}
