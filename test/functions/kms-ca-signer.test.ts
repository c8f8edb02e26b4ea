import { GetPublicKeyCommand, GetPublicKeyCommandOutput, KMSClient, SignCommand, SignCommandInput } from '@aws-sdk/client-kms';
import { createHash, generateKeyPairSync, KeyObject, privateEncrypt, constants, sign, verify, X509Certificate } from 'node:crypto';
import { mockClient } from 'aws-sdk-client-mock';
import { createKmsCaSigner, KmsCaSignerError } from '../../functions/lib/kms-ca-signer';
import { issueCaCertificate, issueServiceCertificate } from '../../shared/pki/certificate';
import { PkiError } from '../../shared/pki/signer';
import { sdkKmsSigning } from '../support/sdk-kms';

/**
 * KMS is the external boundary, so it is mocked at the SDK client; but the mocked `Sign` signs
 * for real with a local key of the same spec, so the certificates really chain to the CA.
 */

const keyId = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const mesh = 'mesh.local';
const now = new Date('2026-11-25T04:00:00Z');
const kms = mockClient(KMSClient);
const client = sdkKmsSigning(new KMSClient({ region: 'us-east-1' }));

/** SHA-256's DigestInfo prefix (RFC 8017 §9.2): what KMS wraps a DIGEST in before RSA PKCS#1 v1.5 signing. */
const sha256DigestInfo = Buffer.from('3031300d060960864801650304020105000420', 'hex');

/** fakeKms answers GetPublicKey and Sign as KMS does for a key of `spec`, signing with `privateKey`. */
function fakeKms(spec: 'ECC_NIST_P256' | 'RSA_2048', privateKey: KeyObject, publicKey: KeyObject): void {
  const algorithm = spec === 'ECC_NIST_P256' ? 'ECDSA_SHA_256' : 'RSASSA_PKCS1_V1_5_SHA_256';
  kms.on(GetPublicKeyCommand, { KeyId: keyId }).resolves({
    KeyId: keyId,
    KeySpec: spec,
    KeyUsage: 'SIGN_VERIFY',
    SigningAlgorithms: [algorithm],
    PublicKey: new Uint8Array(publicKey.export({ type: 'spki', format: 'der' })),
  });
  kms.on(SignCommand).callsFake(async (input: SignCommandInput) => {
    if (input.KeyId !== keyId || input.SigningAlgorithm !== algorithm || !input.Message) throw new Error('ValidationException');
    const message = Buffer.from(input.Message);
    if (input.MessageType === 'RAW') {
      if (message.length > 4096) throw new Error('ValidationException: message too long');
      return { KeyId: keyId, SigningAlgorithm: algorithm, Signature: new Uint8Array(sign('sha256', message, privateKey)) };
    }
    if (input.MessageType === 'DIGEST' && spec === 'RSA_2048' && message.length === 32) {
      const signature = privateEncrypt({ key: privateKey, padding: constants.RSA_PKCS1_PADDING }, Buffer.concat([sha256DigestInfo, message]));
      return { KeyId: keyId, SigningAlgorithm: algorithm, Signature: new Uint8Array(signature) };
    }
    throw new Error(`fake KMS cannot sign ${input.MessageType} for ${spec}`);
  });
}

const keyPairs = {
  ECC_NIST_P256: () => generateKeyPairSync('ec', { namedCurve: 'P-256' }),
  RSA_2048: () => generateKeyPairSync('rsa', { modulusLength: 2048 }),
};

beforeEach(() => kms.reset());

describe.each(['ECC_NIST_P256', 'RSA_2048'] as const)('a KMS %s key as the mesh CA', (spec) => {
  test('signs the CA certificate and a service certificate that chains to it, with one RAW Sign call each', async () => {
    const { privateKey, publicKey } = keyPairs[spec]();
    fakeKms(spec, privateKey, publicKey);
    const signer = await createKmsCaSigner(client, keyId);
    const ca = await issueCaCertificate(signer, { mesh, now });
    const issued = await issueServiceCertificate(signer, ca.certificatePem, 'payments', { mesh, now });
    const caCert = new X509Certificate(ca.certificatePem);
    const cert = new X509Certificate(issued.certificatePem);
    expect({
      caSelfSigned: caCert.verify(publicKey),
      issuedByCa: cert.checkIssued(caCert),
      signedByKmsKey: cert.verify(publicKey),
      subjectAltName: cert.subjectAltName,
      signCalls: kms.commandCalls(SignCommand).map((call) => ({ MessageType: call.args[0].input.MessageType, SigningAlgorithm: call.args[0].input.SigningAlgorithm })),
    }).toEqual({
      caSelfSigned: true,
      issuedByCa: true,
      signedByKmsKey: true,
      subjectAltName: 'URI:spiffe://mesh.local/service/payments',
      signCalls: [
        { MessageType: 'RAW', SigningAlgorithm: signer.algorithm },
        { MessageType: 'RAW', SigningAlgorithm: signer.algorithm },
      ],
    });
    expect(kms.commandCalls(GetPublicKeyCommand)).toHaveLength(1);
  });
});

describe('createKmsCaSigner', () => {
  test('sends a message over the 4096-byte RAW limit as its SHA-256 DIGEST', async () => {
    const { privateKey, publicKey } = keyPairs.RSA_2048();
    fakeKms('RSA_2048', privateKey, publicKey);
    const signer = await createKmsCaSigner(client, keyId);
    const message = Buffer.alloc(5000, 7);
    const signature = await signer.sign(message);
    const [call] = kms.commandCalls(SignCommand);
    expect({
      MessageType: call?.args[0].input.MessageType,
      Message: Buffer.from(call?.args[0].input.Message ?? []).toString('hex'),
      verifies: verify('sha256', message, publicKey, signature),
    }).toEqual({ MessageType: 'DIGEST', Message: createHash('sha256').update(message).digest('hex'), verifies: true });
  });

  const usable: GetPublicKeyCommandOutput = {
    $metadata: {},
    KeyId: keyId,
    KeySpec: 'ECC_NIST_P256',
    KeyUsage: 'SIGN_VERIFY',
    SigningAlgorithms: ['ECDSA_SHA_256'],
    PublicKey: new Uint8Array(keyPairs.ECC_NIST_P256().publicKey.export({ type: 'spki', format: 'der' })),
  };
  test.each([
    ['an encryption key', { KeyUsage: 'ENCRYPT_DECRYPT' as const }, 'it is ENCRYPT_DECRYPT, ECC_NIST_P256'],
    ['a secp256k1 key', { KeySpec: 'ECC_SECG_P256K1' as const }, 'it is SIGN_VERIFY, ECC_SECG_P256K1'],
    ['a key without a public key in the answer', { PublicKey: undefined }, 'it is SIGN_VERIFY, ECC_NIST_P256'],
  ])('refuses %s, saying what the key is', async (_label, override, detail) => {
    kms.on(GetPublicKeyCommand).resolves({ ...usable, ...override });
    await expect(createKmsCaSigner(client, keyId)).rejects.toThrow(
      new KmsCaSignerError(
        `KMS key ${keyId} cannot be the mesh CA: it must be a SIGN_VERIFY key of spec ECC_NIST_P256, RSA_2048, RSA_3072, RSA_4096 (${detail})`,
      ),
    );
  });

  test('refuses a key that does not offer the signing algorithm', async () => {
    kms.on(GetPublicKeyCommand).resolves({ ...usable, SigningAlgorithms: ['ECDSA_SHA_384'] });
    await expect(createKmsCaSigner(client, keyId)).rejects.toThrow(new KmsCaSignerError(`KMS key ${keyId} does not offer ECDSA_SHA_256`));
  });

  test('reports an unreadable key with the KMS error as its cause', async () => {
    const denied = Object.assign(new Error('User is not authorized to perform: kms:GetPublicKey'), { name: 'AccessDeniedException' });
    kms.on(GetPublicKeyCommand).rejects(denied);
    const error = await createKmsCaSigner(client, keyId).catch((err: Error) => err);
    expect({ error, cause: (error as Error).cause }).toEqual({
      error: new KmsCaSignerError(`cannot read the public key of KMS key ${keyId}`),
      cause: denied,
    });
  });

  test('reports a failed Sign as a PkiError caused by a KmsCaSignerError caused by the KMS error', async () => {
    const { privateKey, publicKey } = keyPairs.ECC_NIST_P256();
    fakeKms('ECC_NIST_P256', privateKey, publicKey);
    const signer = await createKmsCaSigner(client, keyId);
    const ca = await issueCaCertificate(signer, { mesh, now });
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    kms.on(SignCommand).rejects(throttled);
    const error = await issueServiceCertificate(signer, ca.certificatePem, 'payments', { mesh, now }).catch((err: Error) => err);
    const kmsError = (error as Error).cause as Error;
    expect({ error, kmsError, kmsCause: kmsError.cause }).toEqual({
      error: new PkiError('the CA signer failed to sign a certificate'),
      kmsError: new KmsCaSignerError(`KMS Sign with key ${keyId} failed`),
      kmsCause: throttled,
    });
  });

  test('reports a Sign answer without a signature', async () => {
    kms.on(GetPublicKeyCommand).resolves(usable);
    kms.on(SignCommand).resolves({ KeyId: keyId });
    const signer = await createKmsCaSigner(client, keyId);
    await expect(signer.sign(Buffer.from('tbs'))).rejects.toThrow(new KmsCaSignerError(`KMS Sign with key ${keyId} returned no signature`));
  });
});
