import { generateKeyPairSync, randomBytes, sign, verify } from 'node:crypto';
import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mockClient } from 'aws-sdk-client-mock';
import { DecryptCommand, GenerateDataKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { KmsRequestError, dnsSuffixOf, kmsClient, kmsDecryptOnly } from '../../functions/lib/kms';
import { createKmsCaSigner } from '../../functions/lib/kms-ca-signer';
import { sdkDataKeyKms } from '../../functions/lib/kms-data-key';
import { sdkKmsSigning } from '../support/sdk-kms';
import { loadDataKeySealer, loadKmsDataKeySealer } from '../../functions/lib/kms-data-key';
import { credentials, fixedCredentials, postSignature, readBody } from '../support/sigv4-endpoint';
import { useDynalite } from '../support/dynamo';
import { fakeKmsKey } from '../support/fake-kms-key';

const dynalite = useDynalite();
const region = 'eu-west-1';

const { wrap, unwrap } = fakeKmsKey();
const caKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const caArn = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';

/**
 * KMS is the external boundary: this stand-in speaks its JSON 1.1 protocol, recomputes each
 * request's SigV4 signature (service kms) and answers as KMS does: the plaintext, or a typed error.
 */
let server: Server;
let endpoint: string;
const seen: { target: string; keyId: string; verified: boolean; token: string }[] = [];
beforeAll(async () => {
  server = createServer((req, res) => {
    void readBody(req).then(async (body) => {
      const { valid, signedHeaders: signedNames } = await postSignature(req, body, 'kms', region);
      const verified = valid && signedNames.includes('x-amz-target');
      const input = JSON.parse(body) as { CiphertextBlob: string; KeyId: string; Message: string; MessageType: string; SigningAlgorithm: string };
      const target = String(req.headers['x-amz-target']);
      seen.push({ target, keyId: input.KeyId, verified, token: String(req.headers['x-amz-security-token']) });
      const answer = (status: number, json: unknown) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(json));
      };
      if (!verified) return answer(400, { __type: 'InvalidSignatureException', message: 'The request signature we calculated does not match' });
      const keyId = target === 'TrentService.Decrypt' || target === 'TrentService.GenerateDataKey' ? 'alias/data' : 'alias/ca';
      if (input.KeyId !== keyId) return answer(400, { __type: 'com.amazonaws.kms#IncorrectKeyException', message: 'The key ID in the request does not identify the key' });
      if (target === 'TrentService.GenerateDataKey') {
        const plain = randomBytes(32);
        return answer(200, { KeyId: caArn, CiphertextBlob: wrap(plain).toString('base64'), Plaintext: plain.toString('base64') });
      }
      if (target === 'TrentService.GetPublicKey') {
        const PublicKey = caKey.publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
        return answer(200, { KeyId: caArn, PublicKey, KeySpec: 'ECC_NIST_P256', CustomerMasterKeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY', SigningAlgorithms: ['ECDSA_SHA_256'] });
      }
      if (target === 'TrentService.Sign') {
        if (input.MessageType !== 'RAW' || input.SigningAlgorithm !== 'ECDSA_SHA_256') return answer(400, { __type: 'ValidationException', message: 'only RAW ECDSA_SHA_256 here' });
        const Signature = sign('sha256', Buffer.from(input.Message, 'base64'), caKey.privateKey).toString('base64');
        return answer(200, { KeyId: caArn, Signature, SigningAlgorithm: 'ECDSA_SHA_256' });
      }
      try {
        return answer(200, { KeyId: input.KeyId, Plaintext: unwrap(Buffer.from(input.CiphertextBlob, 'base64')).toString('base64'), EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' });
      } catch {
        return answer(400, { __type: 'InvalidCiphertextException', message: null });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('the xds function KMS Decrypt', () => {
  it('is a signed TrentService.Decrypt that returns the plaintext, with the session token', async () => {
    const kms = kmsDecryptOnly({ region, credentials: fixedCredentials, endpoint });
    const secret = randomBytes(32);
    expect(Buffer.from(await kms.decrypt(wrap(secret), 'alias/data'))).toEqual(secret);
    expect(seen.at(-1)).toEqual({ target: 'TrentService.Decrypt', keyId: 'alias/data', verified: true, token: credentials.sessionToken });
  });

  it('fails with KMS error type and status when KMS refuses', async () => {
    const kms = kmsDecryptOnly({ region, credentials: fixedCredentials, endpoint });
    const refused = kms.decrypt(wrap(randomBytes(32)), 'alias/other');
    await expect(refused).rejects.toThrow(KmsRequestError);
    await expect(refused).rejects.toMatchObject({ status: 400, type: 'IncorrectKeyException' });
    await expect(kms.decrypt(Buffer.from('not a blob of this key, long enough to be split'), 'alias/data')).rejects.toMatchObject({ type: 'InvalidCiphertextException' });
  });

  it('opens the data key an issuer made with the SDK client, and never makes one', async () => {
    const sdk = mockClient(KMSClient);
    sdk.on(GenerateDataKeyCommand).callsFake(() => {
      const plain = randomBytes(32);
      return { Plaintext: plain, CiphertextBlob: wrap(plain) };
    });
    sdk.on(DecryptCommand).callsFake((input: { CiphertextBlob: Uint8Array }) => ({ Plaintext: unwrap(input.CiphertextBlob) }));
    const store = await dynalite.newStore();
    const reader = kmsDecryptOnly({ region, credentials: fixedCredentials, endpoint });
    await expect(loadDataKeySealer(reader, 'alias/data', store, { make: false })).rejects.toThrow('no data key has been made yet');
    await expect(loadDataKeySealer(reader, 'alias/data', store)).rejects.toThrow('no data key has been made yet'); // it cannot make one
    const issuer = await loadKmsDataKeySealer(new KMSClient({ region }), 'alias/data', store);
    const opened = await loadDataKeySealer(reader, 'alias/data', store, { make: false });
    expect(opened.open(issuer.seal('-----BEGIN PRIVATE KEY-----', 'orders'), 'orders')).toBe('-----BEGIN PRIVATE KEY-----');
    sdk.restore();
  });

  it.each([
    ['eu-west-1', 'amazonaws.com'],
    ['us-gov-west-1', 'amazonaws.com'],
    ['cn-north-1', 'amazonaws.com.cn'],
  ])('finds KMS in %s under %s', (r, suffix) => {
    expect(dnsSuffixOf(r)).toBe(suffix);
  });
});

describe('the issuers KMS (kmsClient), against the SDK client on the same stand-in', () => {
  const lean = () => kmsClient({ region, credentials: fixedCredentials, endpoint });
  const sdk = () => new KMSClient({ region, endpoint, credentials: fixedCredentials, maxAttempts: 1 });

  it('makes a data key the SDK client opens, and opens one the SDK client made', async () => {
    const ours = await lean().generateDataKey('alias/data');
    const theirs = await sdkDataKeyKms(sdk()).generateDataKey('alias/data');
    expect(Buffer.from(await sdkDataKeyKms(sdk()).decrypt(ours, 'alias/data'))).toEqual(unwrap(ours));
    expect(Buffer.from(await lean().decrypt(theirs, 'alias/data'))).toEqual(unwrap(theirs));
    expect(seen.filter((s) => s.target === 'TrentService.GenerateDataKey').every((s) => s.verified)).toBe(true);
  });

  it('reads the CA key as the SDK client reads it', async () => {
    const ours = await lean().getPublicKey('alias/ca');
    const theirs = await sdkKmsSigning(sdk()).getPublicKey('alias/ca');
    const fields = (k: typeof ours) => ({ ...k, PublicKey: Buffer.from(k.PublicKey ?? []).toString('hex') });
    expect(fields(ours)).toEqual({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY', SigningAlgorithms: ['ECDSA_SHA_256'], PublicKey: expect.stringMatching(/^3059/) });
    expect(fields(ours)).toEqual({ KeySpec: theirs.KeySpec, KeyUsage: theirs.KeyUsage, SigningAlgorithms: theirs.SigningAlgorithms, PublicKey: fields(theirs).PublicKey });
  });

  it('signs as the CA: the signature verifies with the key KMS holds', async () => {
    const signer = await createKmsCaSigner(lean(), 'alias/ca');
    const tbs = randomBytes(700);
    const signature = await signer.sign(tbs);
    expect(verify('sha256', tbs, caKey.publicKey, Buffer.from(signature))).toBe(true);
  });

  it('fails as the SDK client fails, with the KMS error type as its name', async () => {
    const ours = await lean().sign({ KeyId: 'alias/other', SigningAlgorithm: 'ECDSA_SHA_256', MessageType: 'RAW', Message: randomBytes(8) }).catch((e: Error) => e);
    const theirs = await sdkKmsSigning(sdk()).sign({ KeyId: 'alias/other', SigningAlgorithm: 'ECDSA_SHA_256', MessageType: 'RAW', Message: randomBytes(8) }).catch((e: Error) => e);
    expect(ours).toBeInstanceOf(KmsRequestError);
    expect((ours as Error).name).toBe('IncorrectKeyException');
    expect((ours as Error).name).toBe((theirs as Error).name);
    expect((ours as Error).message).toBe(`KMS Sign failed (400 IncorrectKeyException): ${(theirs as Error).message}`);
  });
});
