/**
 * OperatorSecretValue is the current version of an operator's secret: its version id (a new
 * one at each rotation) and its value as text.
 */
export interface OperatorSecretValue {
  readonly versionId: string;
  readonly text: string;
}

/**
 * OperatorCertificateSource is where the operator keeps gateway certificates: in AWS, Secrets
 * Manager (functions/lib/secrets-manager.ts, one signed GetSecretValue); on the local runner,
 * PEM files named on the command line (local/gateway-certificates.ts). It only reads.
 */
export interface OperatorCertificateSource {
  /** read returns the secret's current version (AWSCURRENT), or throws OperatorSecretUnreadableError. */
  read(arn: string): Promise<OperatorSecretValue>;
}

/**
 * Why a secret could not be read: it does not exist (or is scheduled for deletion), this
 * control plane may not read it (IAM, or the KMS key that encrypts it), or the source did not
 * answer (retry later).
 */
export type UnreadableReason = 'not-found' | 'access-denied' | 'unavailable';

/** OperatorSecretUnreadableError says an operator's secret could not be read, and why; never its value. */
export class OperatorSecretUnreadableError extends Error {
  override readonly name = 'OperatorSecretUnreadableError';
  constructor(
    readonly arn: string,
    readonly reason: UnreadableReason,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`secret ${arn} could not be read (${reason}): ${detail}`, options);
  }
}
