import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { OperatorCertificateSource, OperatorSecretUnreadableError, UnreadableReason } from '../../shared/secrets/operator-source';
import { AwsRequestError, awsSender } from './aws-request';

export interface SecretsManagerReaderOptions {
  readonly credentials: AwsCredentialIdentityProvider;
  /** Only for tests: where Secrets Manager listens. @default https://secretsmanager.<the secret's region>.<the partition's DNS suffix> */
  readonly endpoint?: string;
  /** Only for tests: waits between attempts (aws-request.ts). @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** Secrets Manager's error types, by what they mean for the operator. */
const reasons: Record<string, UnreadableReason> = {
  ResourceNotFoundException: 'not-found',
  // A secret scheduled for deletion answers InvalidRequestException.
  InvalidRequestException: 'not-found',
  AccessDeniedException: 'access-denied',
  // The secret's KMS key refused this role (no kms:Decrypt on a customer managed key).
  DecryptionFailure: 'access-denied',
};

function parseJson(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/**
 * secretsManagerCertificateSource reads gateway certificate secrets with Secrets Manager's
 * GetSecretValue (its AWSCURRENT version), as one SigV4-signed request in the service's JSON
 * 1.1 protocol (POST / with `X-Amz-Target: secretsmanager.GetSecretValue`), to the endpoint of
 * the region in the secret's ARN, through the signed-request helper the other lean clients use
 * (aws-request.ts: the SDK's retries on throttling and 5xx). The SDK client would add a package
 * and its error classes to the functions that copy certificates, for one call per gateway
 * listener and run. A binary secret is read as UTF-8 PEM text.
 */
export function secretsManagerCertificateSource(options: SecretsManagerReaderOptions): OperatorCertificateSource {
  return {
    async read(arn) {
      const region = arn.split(':')[3] ?? '';
      if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region)) throw new OperatorSecretUnreadableError(arn, 'not-found', 'the ARN names no region');
      const send = awsSender('secretsmanager', { region, credentials: options.credentials, ...(options.endpoint ? { endpoint: options.endpoint } : {}), ...(options.sleep ? { sleep: options.sleep } : {}) }, (status, text) => {
        const answer = parseJson(text);
        const type = String(answer.__type ?? 'UnknownError').replace(/^.*#/, '');
        return new AwsRequestError(type, status, `GetSecretValue failed (${status} ${type}): ${String(answer.message ?? answer.Message ?? `Secrets Manager answered ${status}`)}`);
      });
      let answer: Record<string, unknown>;
      try {
        answer = parseJson(await send({ 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'secretsmanager.GetSecretValue' }, JSON.stringify({ SecretId: arn })));
      } catch (err) {
        if (err instanceof AwsRequestError) throw new OperatorSecretUnreadableError(arn, reasons[err.code] ?? 'unavailable', err.message, { cause: err });
        throw new OperatorSecretUnreadableError(arn, 'unavailable', `Secrets Manager did not answer: ${(err as Error).message}`, { cause: err });
      }
      const versionId = answer.VersionId;
      const text =
        typeof answer.SecretString === 'string'
          ? answer.SecretString
          : typeof answer.SecretBinary === 'string'
            ? Buffer.from(answer.SecretBinary, 'base64').toString('utf8')
            : undefined;
      if (typeof versionId !== 'string' || text === undefined) throw new OperatorSecretUnreadableError(arn, 'unavailable', 'GetSecretValue returned no version id or value');
      return { versionId, text };
    },
  };
}
