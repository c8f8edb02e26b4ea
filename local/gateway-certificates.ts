import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { OperatorCertificateSource, OperatorSecretUnreadableError } from '../shared/secrets/operator-source';

/**
 * The local runner's stand-in for Secrets Manager: gateway certificates from PEM files, named
 * per secret ARN with `npm start -- --gateway-certificate <arn>=<chain.pem>,<key.pem>` (or one
 * file holding both). The files are read at each copy (declare, and the rotation timer), and
 * their content is the version: edit a file and the next pass copies it, as a rotated secret is.
 */

/** GatewayCertificateFiles maps a secret ARN to the PEM files that stand for its value. */
export type GatewayCertificateFiles = ReadonlyMap<string, readonly string[]>;

/** parseGatewayCertificateFlags reads `--gateway-certificate` values (`<arn>=<file>[,<file>]`), or throws naming the bad one. */
export function parseGatewayCertificateFlags(flags: readonly string[]): GatewayCertificateFiles {
  const files = new Map<string, readonly string[]>();
  for (const flag of flags) {
    const at = flag.indexOf('=');
    const arn = flag.slice(0, at);
    const paths = flag.slice(at + 1).split(',').filter((p) => p !== '');
    if (at <= 0 || !arn.startsWith('arn:') || paths.length === 0 || paths.length > 2) {
      throw new Error(`--gateway-certificate must be <secret arn>=<chain.pem>,<key.pem> (or =<one file with both>), got "${flag}"`);
    }
    if (files.has(arn)) throw new Error(`--gateway-certificate names ${arn} twice`);
    files.set(arn, paths);
  }
  return files;
}

/** fileCertificateSource reads each ARN's files as one PEM text; an ARN without files, or a missing file, is not found. */
export function fileCertificateSource(files: GatewayCertificateFiles): OperatorCertificateSource {
  return {
    async read(arn) {
      const paths = files.get(arn);
      if (!paths) throw new OperatorSecretUnreadableError(arn, 'not-found', 'no files stand for it here (npm start -- --gateway-certificate <arn>=<chain.pem>,<key.pem>)');
      let parts: string[];
      try {
        parts = await Promise.all(paths.map((p) => readFile(p, 'utf8')));
      } catch (err) {
        throw new OperatorSecretUnreadableError(arn, 'not-found', `its file cannot be read: ${(err as Error).message}`, { cause: err });
      }
      const text = parts.map((p) => p.trim()).join('\n') + '\n';
      return { versionId: `local-${createHash('sha256').update(text).digest('hex').slice(0, 32)}`, text };
    },
  };
}
