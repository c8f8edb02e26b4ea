import { fromEnv } from '@aws-sdk/credential-provider-env';
import { secretsManagerCertificateSource } from './secrets-manager';
import { rotationPolicy } from '../../shared/pki/rotation';
import { CertificateIssuer, loadCertificateAuthority } from '../../shared/state/certificates';
import { createKmsCaSigner } from './kms-ca-signer';
import { loadDataKeySealer } from './kms-data-key';
import { kmsClient } from './kms';
import { Runtime } from './runtime';

/**
 * kmsCertificateIssuer builds, once per container, what issuing service certificates needs in
 * AWS: the CA signer (an asymmetric KMS key: its private key never leaves KMS), the stored CA
 * certificate, and the data-key sealer for the private keys it hands out. Undefined when the
 * stack gives the function no keys (then it issues nothing).
 */
export function kmsCertificateIssuer(runtime: Runtime): (() => Promise<CertificateIssuer>) | undefined {
  const { caKeyId, dataKeyId, region, render, certificateLifetimeSeconds } = runtime.config;
  if (!caKeyId || !dataKeyId) return undefined;
  let issuer: Promise<CertificateIssuer> | undefined;
  return () => {
    issuer ??= (async () => {
      const kms = kmsClient({ region, credentials: fromEnv() });
      const [signer, sealer] = await Promise.all([createKmsCaSigner(kms, caKeyId), loadDataKeySealer(kms, dataKeyId, runtime.store)]);
      const ca = await loadCertificateAuthority(runtime.store, signer, { mesh: render.meshName, now: new Date(), replaceForeign: false });
      // Gateway listener certificates are read from Secrets Manager with the function's own role (infra/gateway.ts grants it).
      const operatorCertificates = secretsManagerCertificateSource({ credentials: fromEnv() });
      return { ca, sealer, policy: rotationPolicy({ lifetimeSeconds: certificateLifetimeSeconds }), now: () => new Date(), operatorCertificates };
    })().catch((err) => {
      issuer = undefined; // try again on the next invocation
      throw err;
    });
    return issuer;
  };
}
