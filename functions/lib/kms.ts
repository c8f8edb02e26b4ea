import { AwsRequestError, AwsRequestOptions, Sender, awsSender } from './aws-request';
import type { KmsSigning } from './kms-ca-signer';
import type { DataKeyKms } from './kms-data-key';

export { dnsSuffixOf } from './aws-request';

/** KmsRequestError is a refused or failed KMS call: its HTTP status and KMS's error type (e.g. AccessDeniedException), which is also its name. */
export class KmsRequestError extends AwsRequestError {
  constructor(
    status: number,
    readonly type: string,
    readonly operation: string,
    message: string,
  ) {
    super(type, status, `KMS ${operation} failed (${status} ${type}): ${message}`);
  }
}

/** LeanKms is every KMS operation the functions make: the data key's (DataKeyKms) and the CA's (KmsSigning). */
export type LeanKms = Required<DataKeyKms> & KmsSigning;

const base64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
const bytesOf = (value: unknown) => (typeof value === 'string' ? new Uint8Array(Buffer.from(value, 'base64')) : undefined);

/**
 * kmsClient makes the functions' KMS calls (Decrypt, GenerateDataKey, GetPublicKey, Sign) as
 * signed requests in KMS's JSON 1.1 protocol (POST / with `X-Amz-Target: TrentService.<Operation>`,
 * blobs in base64) on functions/lib/aws-request.ts, retried as the SDK retries. The SDK's KMS
 * client would add 28 KB (mostly every KMS error class, which its protocol registers whole) to
 * each issuing bundle (docs/deploy.md, "Bundles and cold starts"). test/functions/kms.test.ts
 * serves the same answers to it and to the SDK's client and compares what both read.
 */
export function kmsClient(options: AwsRequestOptions): LeanKms {
  const call = kmsCaller(options);
  return {
    decrypt: decryptWith(call),
    async generateDataKey(keyId) {
      const answer = await call('GenerateDataKey', { KeyId: keyId, KeySpec: 'AES_256' });
      const ciphertext = bytesOf(answer.CiphertextBlob);
      if (!ciphertext) throw new Error('KMS GenerateDataKey returned no ciphertext');
      return ciphertext;
    },
    async getPublicKey(keyId) {
      const answer = await call('GetPublicKey', { KeyId: keyId });
      const publicKey = bytesOf(answer.PublicKey);
      return {
        ...(typeof answer.KeySpec === 'string' ? { KeySpec: answer.KeySpec } : {}),
        ...(typeof answer.KeyUsage === 'string' ? { KeyUsage: answer.KeyUsage } : {}),
        ...(publicKey ? { PublicKey: publicKey } : {}),
        ...(Array.isArray(answer.SigningAlgorithms) ? { SigningAlgorithms: answer.SigningAlgorithms.map(String) } : {}),
      };
    },
    async sign(input) {
      const answer = await call('Sign', { ...input, Message: base64(input.Message) });
      const signature = bytesOf(answer.Signature);
      return signature ? { Signature: signature } : {};
    },
  };
}

type KmsCall = (operation: string, input: Record<string, unknown>) => Promise<Record<string, unknown>>;

/** kmsCaller posts one KMS operation (JSON 1.1) and returns its answer, or throws a KmsRequestError. */
function kmsCaller(options: AwsRequestOptions): KmsCall {
  const sends = new Map<string, Sender>();
  return async (operation, input) => {
    let send = sends.get(operation);
    if (!send) {
      send = awsSender('kms', options, (status, text) => {
        const answer = parseJson(text);
        const type = String(answer.__type ?? 'UnknownError').replace(/^.*#/, '');
        return new KmsRequestError(status, type, operation, String(answer.message ?? answer.Message ?? `KMS answered ${status}`));
      });
      sends.set(operation, send);
    }
    const text = await send({ 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `TrentService.${operation}` }, JSON.stringify(input));
    return parseJson(text);
  };
}

function decryptWith(call: KmsCall): DataKeyKms['decrypt'] {
  return async (ciphertext, keyId) => {
    const answer = await call('Decrypt', { CiphertextBlob: base64(ciphertext), KeyId: keyId });
    const plaintext = bytesOf(answer.Plaintext);
    if (!plaintext) throw new Error('KMS Decrypt returned no plaintext for the data key');
    return plaintext;
  };
}

/**
 * kmsDecryptOnly is the xds function's KMS: Decrypt alone, with no retries of its own (a failed
 * load is tried again on a later poll, functions/xds/handler.ts).
 */
export function kmsDecryptOnly(options: AwsRequestOptions): DataKeyKms {
  return { decrypt: decryptWith(kmsCaller({ ...options, maxAttempts: 1 })) };
}

function parseJson(text: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
