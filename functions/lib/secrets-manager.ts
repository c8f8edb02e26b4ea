import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { NodeSha256 } from '../../cli/sigv4';
import { OperatorCertificateSource, OperatorSecretUnreadableError, UnreadableReason } from '../../shared/secrets/operator-source';
import { dnsSuffixOf } from './kms-decrypt';

export interface SecretsManagerReaderOptions {
  readonly credentials: AwsCredentialIdentityProvider;
  /** Only for tests: where Secrets Manager listens. @default https://secretsmanager.<the secret's region>.<the partition's DNS suffix> */
  readonly endpoint?: string;
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

/**
 * secretsManagerCertificateSource reads gateway certificate secrets with Secrets Manager's
 * GetSecretValue (its AWSCURRENT version), as one SigV4-signed request in the service's JSON
 * 1.1 protocol (POST / with `X-Amz-Target: secretsmanager.GetSecretValue`), to the endpoint of
 * the region in the secret's ARN. Signed by hand as KMS Decrypt is (kms-decrypt.ts): the SDK
 * client would add a package and its error classes to the functions that copy certificates
 * for one call per gateway listener and run. A binary secret is read as UTF-8 PEM text.
 */
export function secretsManagerCertificateSource(options: SecretsManagerReaderOptions): OperatorCertificateSource {
  return {
    async read(arn) {
      const region = arn.split(':')[3] ?? '';
      if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region)) throw new OperatorSecretUnreadableError(arn, 'not-found', 'the ARN names no region');
      const url = new URL(options.endpoint ?? `https://secretsmanager.${region}.${dnsSuffixOf(region)}/`);
      const signer = new SignatureV4({ service: 'secretsmanager', region, credentials: options.credentials, sha256: NodeSha256 });
      const body = JSON.stringify({ SecretId: arn });
      const signed = await signer.sign({
        method: 'POST',
        protocol: url.protocol,
        hostname: url.hostname,
        ...(url.port ? { port: Number(url.port) } : {}),
        path: url.pathname,
        query: {},
        headers: { host: url.host, 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'secretsmanager.GetSecretValue' },
        body,
      });
      let response: Response;
      try {
        response = await fetch(url, { method: 'POST', headers: signed.headers, body });
      } catch (err) {
        throw new OperatorSecretUnreadableError(arn, 'unavailable', `Secrets Manager did not answer: ${(err as Error).message}`, { cause: err });
      }
      const answer = (await response.json().catch(() => ({}))) as Record<string, unknown>;
      if (!response.ok) {
        const type = String(answer.__type ?? 'UnknownError').replace(/^.*#/, '');
        const message = String(answer.message ?? answer.Message ?? response.statusText);
        throw new OperatorSecretUnreadableError(arn, reasons[type] ?? 'unavailable', `GetSecretValue failed (${response.status} ${type}): ${message}`);
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
