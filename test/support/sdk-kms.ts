import { GetPublicKeyCommand, KMSClient, SignCommand, SigningAlgorithmSpec } from '@aws-sdk/client-kms';
import type { KmsSigning } from '../../functions/lib/kms-ca-signer';

/**
 * sdkKmsSigning adapts the SDK's KMS client to the CA signer's KmsSigning, so tests keep mocking
 * KMS at the SDK boundary (aws-sdk-client-mock); the bundles use the signed requests of
 * functions/lib/kms.ts, which test/functions/kms.test.ts checks against this client.
 */
export function sdkKmsSigning(client: KMSClient): KmsSigning {
  return {
    getPublicKey: (keyId) => client.send(new GetPublicKeyCommand({ KeyId: keyId })),
    sign: (input) => client.send(new SignCommand({ ...input, SigningAlgorithm: input.SigningAlgorithm as SigningAlgorithmSpec })),
  };
}
