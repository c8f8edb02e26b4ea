import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { meshctl } from '../../cli/meshctl';

export interface MeshctlRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout parsed, for `--output json` runs. */
  json<T = Record<string, unknown>>(): T;
}

/**
 * runMeshctl runs one meshctl command line in-process, as the bin would, with output captured
 * and the clock, environment and credentials the test chooses. No AWS credentials are read
 * from the machine: a test that signs passes fixed ones.
 */
export async function runMeshctl(
  argv: readonly string[],
  options: { now?: Date; env?: Record<string, string>; credentials?: AwsCredentialIdentityProvider; interactive?: boolean } = {},
): Promise<MeshctlRun> {
  let stdout = '';
  let stderr = '';
  const code = await meshctl(argv, {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    now: () => options.now ?? new Date(),
    env: options.env ?? {},
    interactive: options.interactive ?? false,
    ...(options.credentials ? { credentials: options.credentials } : {}),
  });
  return { code, stdout, stderr, json: <T>() => JSON.parse(stdout) as T };
}
