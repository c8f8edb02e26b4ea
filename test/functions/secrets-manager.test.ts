import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { secretsManagerCertificateSource } from '../../functions/lib/secrets-manager';
import { parseOperatorCertificate } from '../../shared/pki/operator-certificate';
import { OperatorSecretUnreadableError } from '../../shared/secrets/operator-source';
import { fixedCredentials, postSignature, readBody } from '../support/sigv4-endpoint';
import { operatorChain, secretJson } from '../support/operator-certificates';

const region = 'eu-west-1';
const arnOf = (name: string) => `arn:aws:secretsmanager:${region}:111122223333:secret:${name}`;
const chain = operatorChain(new Date(Date.UTC(2031, 4, 10)));

/**
 * Secrets Manager is the external boundary: this stand-in speaks its JSON 1.1 protocol,
 * recomputes each request's SigV4 signature (service secretsmanager, the ARN's region) and
 * answers GetSecretValue as Secrets Manager does: the AWSCURRENT version, or a typed error.
 */
let server: Server;
let endpoint: string;
const seen: { target: string; secretId: string; verified: boolean }[] = [];
const stored: Record<string, Record<string, unknown>> = {
  [arnOf('edge-tls-AbCdEf')]: { VersionId: 'a1b2c3d4-5678-90ab-cdef-EXAMPLE11111', SecretString: secretJson(chain), VersionStages: ['AWSCURRENT'] },
  [arnOf('edge-bin-AbCdEf')]: { VersionId: 'a1b2c3d4-5678-90ab-cdef-EXAMPLE22222', SecretBinary: Buffer.from(`${chain.chainPem}${chain.keyPem}`).toString('base64') },
};
const errors: Record<string, [number, string]> = {
  [arnOf('missing-AbCdEf')]: [400, 'ResourceNotFoundException'],
  [arnOf('deleted-AbCdEf')]: [400, 'InvalidRequestException'],
  [arnOf('denied-AbCdEf')]: [400, 'AccessDeniedException'],
  [arnOf('cmk-AbCdEf')]: [400, 'DecryptionFailure'],
  [arnOf('busy-AbCdEf')]: [400, 'ThrottlingException'],
  [arnOf('broken-AbCdEf')]: [500, 'InternalServiceError'],
};
beforeAll(async () => {
  server = createServer((req, res) => {
    void readBody(req).then(async (body) => {
      const { valid, signedHeaders: signedNames } = await postSignature(req, body, 'secretsmanager', region);
      const verified = valid && signedNames.includes('x-amz-target');
      const input = JSON.parse(body) as { SecretId: string };
      seen.push({ target: String(req.headers['x-amz-target']), secretId: input.SecretId, verified });
      const answer = (status: number, json: unknown) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(json));
      };
      if (!verified) return answer(400, { __type: 'InvalidSignatureException', message: 'The request signature we calculated does not match' });
      const error = errors[input.SecretId];
      if (error) return answer(error[0], { __type: error[1], Message: `${error[1]} for ${input.SecretId}` });
      const value = stored[input.SecretId];
      if (!value) return answer(400, { __type: 'ResourceNotFoundException', Message: 'Secrets Manager can’t find the specified secret.' });
      return answer(200, { ARN: input.SecretId, Name: 'edge-tls', CreatedDate: 1.7e9, ...value });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('secretsManagerCertificateSource (GetSecretValue as one signed request)', () => {
  const source = () => secretsManagerCertificateSource({ credentials: fixedCredentials, endpoint, sleep: async () => undefined });

  it('reads the current version of a string secret, signed for the secret’s region', async () => {
    const value = await source().read(arnOf('edge-tls-AbCdEf'));
    expect(value.versionId).toBe('a1b2c3d4-5678-90ab-cdef-EXAMPLE11111');
    expect(parseOperatorCertificate(value.text, new Date(Date.UTC(2031, 4, 11))).fingerprint).toBe(chain.fingerprint);
    expect(seen.at(-1)).toEqual({ target: 'secretsmanager.GetSecretValue', secretId: arnOf('edge-tls-AbCdEf'), verified: true });
  });

  it('reads a binary secret as its PEM text', async () => {
    const value = await source().read(arnOf('edge-bin-AbCdEf'));
    expect(parseOperatorCertificate(value.text, new Date(Date.UTC(2031, 4, 11))).fingerprint).toBe(chain.fingerprint);
  });

  it.each([
    ['missing-AbCdEf', 'not-found'],
    ['deleted-AbCdEf', 'not-found'],
    ['denied-AbCdEf', 'access-denied'],
    ['cmk-AbCdEf', 'access-denied'],
    ['busy-AbCdEf', 'unavailable'],
    ['broken-AbCdEf', 'unavailable'],
  ])('turns %s into a typed refusal (%s) that names the secret and the error, never a value', async (name, reason) => {
    const err = await source().read(arnOf(name)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OperatorSecretUnreadableError);
    expect((err as OperatorSecretUnreadableError).reason).toBe(reason);
    expect((err as Error).message).toContain(arnOf(name));
    expect((err as Error).message).toMatch(/GetSecretValue failed \((400|500) \w+\)/);
  });

  it('says unavailable when Secrets Manager does not answer at all', async () => {
    const closed = secretsManagerCertificateSource({ credentials: fixedCredentials, endpoint: 'http://127.0.0.1:1/', sleep: async () => undefined });
    const err = await closed.read(arnOf('edge-tls-AbCdEf')).catch((e: unknown) => e);
    expect((err as OperatorSecretUnreadableError).reason).toBe('unavailable');
  });
});
