import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { NodeSha256 } from '../../cli/sigv4';

/**
 * One signed request to an AWS API, for the few calls whose SDK client would cost a function
 * more bundle and cold start than the call is worth (docs/deploy.md, "Bundles and cold
 * starts"): KMS (kms.ts), EC2's DescribeInstances (functions/lifecycle/aws/ec2-describe-instances.ts).
 * It signs with the SigV4 signer and sends with the fetch that every bundle has anyway, and
 * retries as the SDK's standard strategy does. Each caller's test serves the same answers to it
 * and to the SDK's client and compares what both read.
 */

/**
 * AwsRequestError is a refused or failed call: `name` is the service's error code
 * (`InvalidInstanceID.NotFound`, `RequestLimitExceeded`), as the SDK's errors name themselves,
 * so code that tells errors apart by name reads either alike.
 */
export class AwsRequestError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    readonly requestId?: string,
  ) {
    super(message);
    this.name = code;
  }
}

/** Codes the SDK's standard retry strategy treats as throttling or transient. */
const retriedCodes = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'BandwidthLimitExceeded',
  'LimitExceededException',
  'RequestThrottled',
  'SlowDown',
  'PriorRequestNotComplete',
  'EC2ThrottledException',
  'RequestTimeout',
  'RequestTimeoutException',
]);

export interface AwsRequestOptions {
  readonly region: string;
  readonly credentials: AwsCredentialIdentityProvider;
  /** Only for tests: where the service listens. @default https://<service>.<region>.<the partition's DNS suffix> */
  readonly endpoint?: string;
  /** Attempts per call, the first included (the SDK's default: 3). */
  readonly maxAttempts?: number;
  /** Waits between attempts; tests pass one that records the delays. @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
  /** A number in [0, 1) for the backoff's jitter. @default Math.random */
  readonly random?: () => number;
}

/** A Sender posts a body with its headers, signed, and returns the answer's text, or throws the AwsRequestError `errorOf` reads. */
export type Sender = (headers: Record<string, string>, body: string) => Promise<string>;

/**
 * awsSender signs and posts to `service` in `options.region`, retrying throttling, transient
 * errors, 5xx answers and network failures up to `maxAttempts` with exponential backoff and full
 * jitter (base 100 ms, at most 20 s), as the SDK does; other errors are thrown at once.
 */
export function awsSender(service: string, options: AwsRequestOptions, errorOf: (status: number, text: string) => AwsRequestError): Sender {
  const url = new URL(options.endpoint ?? `https://${service}.${options.region}.${dnsSuffixOf(options.region)}/`);
  const signer = new SignatureV4({ service, region: options.region, credentials: options.credentials, sha256: NodeSha256 });
  const maxAttempts = Math.max(1, options.maxAttempts ?? 3);
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const random = options.random ?? Math.random;
  const once = async (headers: Record<string, string>, body: string): Promise<string> => {
    const signed = await signer.sign({
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: url.pathname,
      query: {},
      headers: { host: url.host, ...headers },
      body,
    });
    const response = await fetch(url, { method: 'POST', headers: signed.headers, body });
    const text = await response.text();
    if (!response.ok) throw errorOf(response.status, text);
    return text;
  };
  return async (headers, body) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await once(headers, body);
      } catch (err) {
        if (attempt >= maxAttempts || !retryable(err)) throw err;
        await sleep(Math.floor(random() * Math.min(20_000, 100 * 2 ** attempt)));
      }
    }
  };
}

function retryable(err: unknown): boolean {
  if (err instanceof AwsRequestError) return err.status >= 500 || err.status === 429 || retriedCodes.has(err.code);
  return err instanceof TypeError; // fetch's network failure (connection reset, DNS)
}

/** dnsSuffixOf is the DNS suffix of a region's partition (China's regions have their own). */
export function dnsSuffixOf(region: string): string {
  return region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
}
