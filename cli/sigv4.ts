import { createHash, createHmac, Hash, Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentityProvider, SourceData } from '@smithy/types';

/**
 * NodeSha256 is the SHA-256 (and HMAC-SHA-256, given a secret) that SignatureV4 asks for,
 * from node:crypto, so signing needs no extra hashing package.
 */
export class NodeSha256 {
  private hash: Hash | Hmac;
  constructor(private readonly secret?: SourceData) {
    this.hash = this.fresh();
  }
  update(data: SourceData): void {
    this.hash.update(toBytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {
    this.hash = this.fresh();
  }
  private fresh(): Hash | Hmac {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', toBytes(this.secret));
  }
}

function toBytes(data: SourceData): Uint8Array {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(data);
}

/** functionUrlRegion reads the region from a Lambda function URL's host (`<id>.lambda-url.<region>.on.aws`). */
export function functionUrlRegion(host: string): string | undefined {
  return /^[a-z0-9]+\.lambda-url\.([a-z0-9-]+)\.on\.aws$/.exec(host)?.[1];
}

export interface SignedRequestInput {
  readonly url: URL;
  readonly method: string;
  readonly body?: string;
  readonly region: string;
  readonly credentials: AwsCredentialIdentityProvider;
  readonly signingDate?: Date;
}

/**
 * signedHeaders signs a request for a Lambda function URL with `AWS_IAM` auth (service
 * `lambda`), returning the headers to send: host, x-amz-date, x-amz-content-sha256, the
 * session token when there is one, and Authorization.
 */
export async function signedHeaders(input: SignedRequestInput): Promise<Record<string, string>> {
  const signer = new SignatureV4({ service: 'lambda', region: input.region, credentials: input.credentials, sha256: NodeSha256 });
  const query: Record<string, string> = {};
  input.url.searchParams.forEach((v, k) => (query[k] = v));
  const payloadHash = createHash('sha256').update(input.body ?? '').digest('hex');
  const signed = await signer.sign(
    {
      method: input.method,
      protocol: input.url.protocol,
      hostname: input.url.hostname,
      ...(input.url.port ? { port: Number(input.url.port) } : {}),
      path: input.url.pathname,
      query,
      headers: {
        host: input.url.host,
        'x-amz-content-sha256': payloadHash,
        ...(input.body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(input.body !== undefined ? { body: input.body } : {}),
    },
    input.signingDate ? { signingDate: input.signingDate } : {},
  );
  return signed.headers;
}

/** defaultCredentials is the standard AWS credential chain, loaded only when a request is signed. */
export async function defaultCredentials(): Promise<AwsCredentialIdentityProvider> {
  const { defaultProvider } = await import('@aws-sdk/credential-provider-node');
  return defaultProvider();
}
