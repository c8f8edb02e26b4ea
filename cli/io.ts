import type { AwsCredentialIdentityProvider } from '@smithy/types';

/**
 * CliIo is everything a meshctl command touches outside its arguments: where it writes, the
 * clock, the environment and the AWS credentials. The bin passes the process's; tests pass
 * their own, so "12s ago" and "behind for 3m" are computed against a clock they choose.
 */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly now: () => Date;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Whether stderr is a terminal: progress bars redraw in place only there. */
  readonly interactive: boolean;
  /** AWS credentials for SigV4; absent: the standard chain (environment, profile, SSO, instance role). */
  readonly credentials?: AwsCredentialIdentityProvider;
}

/** CliError is a mistake meshctl reports in one line and an exit code, never a stack trace. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    /** 2: usage or connection problems; 1: the command ran and found something wrong. */
    readonly exitCode = 2,
  ) {
    super(message);
  }
}

/** processIo is the real process's io. */
export function processIo(): CliIo {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    now: () => new Date(),
    env: process.env,
    interactive: Boolean(process.stderr.isTTY),
  };
}
