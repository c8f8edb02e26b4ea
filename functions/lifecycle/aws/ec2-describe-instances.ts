import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { NodeSha256 } from '../../../cli/sigv4';
import { dnsSuffixOf } from '../../lib/kms-decrypt';
import { XmlElement, child, childrenNamed, parseXml, textOf } from '../../lib/xml';
import type { DescribeInstancesApi, DescribeInstancesInput, DescribeInstancesPage, Ec2Instance } from './ec2';

/** The EC2 Query API version the SDK's EC2 client speaks too. */
const apiVersion = '2016-11-15';

/**
 * Ec2RequestError is a refused or failed DescribeInstances: `name` is EC2's error code
 * (`InvalidInstanceID.NotFound`, `RequestLimitExceeded`), as the SDK's errors name themselves,
 * so code that tells errors apart by name reads either alike.
 */
export class Ec2RequestError extends Error {
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

/** Codes the SDK's standard retry strategy treats as throttling or transient (retried, with backoff). */
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
  'InternalError',
  'ServiceUnavailable',
  'Unavailable',
]);

export interface Ec2DescribeInstancesOptions {
  readonly region: string;
  readonly credentials: AwsCredentialIdentityProvider;
  /** Only for tests: where EC2 listens. @default https://ec2.<region>.<the partition's DNS suffix> */
  readonly endpoint?: string;
  /** Attempts per call, the first included (the SDK's default: 3). */
  readonly maxAttempts?: number;
  /** Waits between attempts; tests pass one that records the delays. @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
  /** A number in [0, 1) for the backoff's jitter. @default Math.random */
  readonly random?: () => number;
}

/**
 * ec2DescribeInstances is the one EC2 operation the lifecycle and reconciler functions make,
 * DescribeInstances, as a signed EC2 Query API request (a form-encoded POST, SigV4 with the
 * signer every bundle has) whose XML answer is read for exactly the fields the mesh uses
 * (functions/lifecycle/aws/ec2.ts, Ec2Instance). The SDK's EC2 client is about 550 KB of
 * each of those bundles, nearly all of it the schemas of EC2's whole model (docs/deploy.md,
 * "Bundles and cold starts"). As the SDK does, it retries throttling, transient errors and
 * 5xx answers up to `maxAttempts` with exponential backoff and full jitter (base 100 ms, at
 * most 20 s); other errors are Ec2RequestErrors named by EC2's code.
 * test/functions/ec2-describe-instances.test.ts serves the same answers to it and to the SDK's
 * client and compares what both read.
 */
export function ec2DescribeInstances(options: Ec2DescribeInstancesOptions): DescribeInstancesApi {
  const url = new URL(options.endpoint ?? `https://ec2.${options.region}.${dnsSuffixOf(options.region)}/`);
  const signer = new SignatureV4({ service: 'ec2', region: options.region, credentials: options.credentials, sha256: NodeSha256 });
  const maxAttempts = Math.max(1, options.maxAttempts ?? 3);
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const random = options.random ?? Math.random;

  const once = async (body: string): Promise<DescribeInstancesPage> => {
    const signed = await signer.sign({
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: url.pathname,
      query: {},
      headers: { host: url.host, 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
      body,
    });
    const response = await fetch(url, { method: 'POST', headers: signed.headers, body });
    const text = await response.text();
    if (!response.ok) throw errorOf(response.status, text);
    return describeInstancesPageOf(parseXml(text));
  };

  return {
    async describeInstances(input) {
      const body = describeInstancesForm(input);
      for (let attempt = 1; ; attempt++) {
        try {
          return await once(body);
        } catch (err) {
          if (attempt >= maxAttempts || !retryable(err)) throw err;
          await sleep(Math.floor(random() * Math.min(20_000, 100 * 2 ** attempt)));
        }
      }
    },
  };
}

/** describeInstancesForm is the form body of a DescribeInstances request (the Query protocol's list and structure flattening). */
export function describeInstancesForm(input: DescribeInstancesInput): string {
  const form = new URLSearchParams({ Action: 'DescribeInstances', Version: apiVersion });
  input.InstanceIds?.forEach((id, i) => form.append(`InstanceId.${i + 1}`, id));
  input.Filters?.forEach((filter, i) => {
    form.append(`Filter.${i + 1}.Name`, filter.Name);
    filter.Values.forEach((value, j) => form.append(`Filter.${i + 1}.Value.${j + 1}`, value));
  });
  if (input.MaxResults !== undefined) form.append('MaxResults', String(input.MaxResults));
  if (input.NextToken) form.append('NextToken', input.NextToken);
  return form.toString();
}

/** describeInstancesPageOf reads a DescribeInstancesResponse: each reservation's instances, with only the fields the mesh reads, and the next page's token. */
export function describeInstancesPageOf(response: XmlElement): DescribeInstancesPage {
  if (response.name !== 'DescribeInstancesResponse') throw new Ec2RequestError('UnexpectedResponse', 200, `EC2 answered <${response.name}>, not a DescribeInstancesResponse`);
  const reservations = childrenNamed(child(response, 'reservationSet'), 'item').map((reservation) => ({
    Instances: childrenNamed(child(reservation, 'instancesSet'), 'item').map(instanceOf),
  }));
  const nextToken = textOf(response, 'nextToken');
  return { Reservations: reservations, ...(nextToken ? { NextToken: nextToken } : {}) };
}

function instanceOf(item: XmlElement): Ec2Instance {
  const state = textOf(child(item, 'instanceState'), 'name');
  const zone = textOf(child(item, 'placement'), 'availabilityZone');
  const tags = child(item, 'tagSet');
  return {
    ...optional('InstanceId', textOf(item, 'instanceId')),
    ...optional('InstanceType', textOf(item, 'instanceType')),
    ...(state !== undefined ? { State: { Name: state } } : {}),
    ...optional('PrivateIpAddress', textOf(item, 'privateIpAddress')),
    ...(zone !== undefined ? { Placement: { AvailabilityZone: zone } } : {}),
    ...(tags ? { Tags: childrenNamed(tags, 'item').map((t) => ({ ...optional('Key', textOf(t, 'key')), ...optional('Value', textOf(t, 'value')) })) } : {}),
  };
}

function optional<K extends string>(key: K, value: string | undefined): { [P in K]?: string } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: string };
}

/** errorOf reads EC2's error document (`<Response><Errors><Error><Code>…`), or names the status when there is none. */
export function errorOf(status: number, text: string): Ec2RequestError {
  let code: string | undefined;
  let message: string | undefined;
  let requestId: string | undefined;
  try {
    const doc = parseXml(text);
    const error = child(child(doc, 'Errors'), 'Error');
    code = textOf(error, 'Code');
    message = textOf(error, 'Message');
    requestId = textOf(doc, 'RequestID') ?? textOf(doc, 'RequestId');
  } catch {
    // not XML: a load balancer's or proxy's answer
  }
  return new Ec2RequestError(code ?? (status >= 500 ? 'ServiceUnavailable' : `Http${status}`), status, message ?? `EC2 answered ${status}`, requestId);
}

function retryable(err: unknown): boolean {
  if (err instanceof Ec2RequestError) return err.status >= 500 || err.status === 429 || retriedCodes.has(err.code);
  return err instanceof TypeError; // fetch's network failure (connection reset, DNS)
}
