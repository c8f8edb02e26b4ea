import { randomBytes } from 'node:crypto';
import { mockClient } from 'aws-sdk-client-mock';
import { DecryptCommand, GenerateDataKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { loadKmsDataKeySealer } from '../../functions/lib/kms-data-key';
import { useDynalite } from '../support/dynamo';
import { fakeKmsKey } from '../support/fake-kms-key';

const dynalite = useDynalite();

/**
 * KMS is the external boundary: the mock stands in for it with a real symmetric wrap (a key
 * only the "KMS" side knows), so a data key sealed by one cold start opens in the next.
 */
function fakeKms() {
  const { wrap, unwrap } = fakeKmsKey();
  const kms = mockClient(KMSClient);
  kms.on(GenerateDataKeyCommand).callsFake(() => {
    const plain = randomBytes(32);
    return { Plaintext: plain, CiphertextBlob: wrap(plain), KeyId: 'arn:aws:kms:us-east-1:111122223333:key/data' };
  });
  kms.on(DecryptCommand).callsFake((input: { CiphertextBlob: Uint8Array }) => ({ Plaintext: unwrap(input.CiphertextBlob) }));
  return kms;
}

describe('the KMS data-key sealer', () => {
  it('makes the data key once, stores it only encrypted, and opens it on every later cold start', async () => {
    const kms = fakeKms();
    const store = await dynalite.newStore();
    const first = await loadKmsDataKeySealer(new KMSClient({ region: 'us-east-1' }), 'data', store);
    const sealed = first.seal('-----BEGIN PRIVATE KEY-----\nsecret\n-----END PRIVATE KEY-----\n', 'ctx');
    expect(Buffer.from(sealed).toString('utf8')).not.toContain('secret');

    const later = await loadKmsDataKeySealer(new KMSClient({ region: 'us-east-1' }), 'data', store);
    expect(later.open(sealed, 'ctx')).toContain('secret');
    expect(kms.commandCalls(GenerateDataKeyCommand)).toHaveLength(1);
    expect(kms.commandCalls(DecryptCommand)).toHaveLength(2);
    const stored = await store.getSealedDataKey();
    expect(stored?.length).toBeGreaterThan(32); // the wrapped key, never the plaintext
    kms.restore();
  });

  it('never makes the data key for a reader (the xds function), and opens the one an issuer made', async () => {
    const kms = fakeKms();
    const store = await dynalite.newStore();
    const client = new KMSClient({ region: 'us-east-1' });
    await expect(loadKmsDataKeySealer(client, 'data', store, { make: false })).rejects.toThrow('no data key has been made yet');
    expect(kms.commandCalls(GenerateDataKeyCommand)).toHaveLength(0);
    expect(await store.getSealedDataKey()).toBeUndefined();

    const issuer = await loadKmsDataKeySealer(client, 'data', store);
    const reader = await loadKmsDataKeySealer(client, 'data', store, { make: false });
    expect(reader.open(issuer.seal('key-material', 'ctx'), 'ctx')).toBe('key-material');
    expect(kms.commandCalls(GenerateDataKeyCommand)).toHaveLength(1);
    kms.restore();
  });

  it('fails without echoing material when a sealed secret was tampered with', async () => {
    const kms = fakeKms();
    const store = await dynalite.newStore();
    const sealer = await loadKmsDataKeySealer(new KMSClient({ region: 'us-east-1' }), 'data', store);
    const sealed = Buffer.from(sealer.seal('top-secret-key-material', 'ctx'));
    sealed[sealed.length - 1]! ^= 0xff;
    expect(() => sealer.open(sealed, 'ctx')).toThrow('sealed secret does not open with this key');
    kms.restore();
  });
});
