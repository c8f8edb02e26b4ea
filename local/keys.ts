import { createPrivateKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as z from '../shared/model/zod';

/**
 * LocalKeys are the secrets KMS and IAM hold in AWS, made by the local runner: the mesh CA's
 * private key, the data key that seals service private keys, and the secret that makes
 * per-service bearer tokens. With `--data-dir` they are kept there (`local-keys.json`, mode
 * 0600) beside the table, so a restart keeps the CA, every sealed key and every token:
 * peers keep trusting each other and Envoys keep polling. Without it they live in memory.
 */
export interface LocalKeys {
  readonly caPrivateKeyPem: string;
  readonly dataKey: Buffer;
  readonly tokenSecret: Buffer;
}

const fileSchema = z.strictObject({
  caPrivateKeyPem: z.string().check(z.startsWith('-----BEGIN PRIVATE KEY-----')),
  dataKey: z.base64().check(z.refine((k) => Buffer.from(k, 'base64').length === 32, 'must be 32 bytes')),
  tokenSecret: z.base64().check(z.refine((k) => Buffer.from(k, 'base64').length === 32, 'must be 32 bytes')),
});

export const localKeysFile = 'local-keys.json';

function makeKeys(): LocalKeys {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    caPrivateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    dataKey: randomBytes(32),
    tokenSecret: randomBytes(32),
  };
}

/** loadLocalKeys reads the keys kept in `dataDir`, or makes them (and keeps them there when a dataDir is given). */
export function loadLocalKeys(dataDir?: string): LocalKeys {
  if (!dataDir) return makeKeys();
  const path = join(dataDir, localKeysFile);
  if (existsSync(path)) {
    const parsed = fileSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
    if (!parsed.success) throw new Error(`${path} is not a local keys file (${parsed.error.issues.map((i) => i.path.join('.')).join(', ')}); move it away to start with new keys`);
    createPrivateKey(parsed.data.caPrivateKeyPem); // fails early on a damaged key
    return {
      caPrivateKeyPem: parsed.data.caPrivateKeyPem,
      dataKey: Buffer.from(parsed.data.dataKey, 'base64'),
      tokenSecret: Buffer.from(parsed.data.tokenSecret, 'base64'),
    };
  }
  const keys = makeKeys();
  writeFileSync(
    path,
    JSON.stringify({ caPrivateKeyPem: keys.caPrivateKeyPem, dataKey: keys.dataKey.toString('base64'), tokenSecret: keys.tokenSecret.toString('base64') }, null, 2),
    { mode: 0o600 },
  );
  chmodSync(path, 0o600);
  return keys;
}
