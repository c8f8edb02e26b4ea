import { createPublicKey, KeyObject } from 'node:crypto';
import * as z from '../model/zod';
import { certifyServiceKey, defaultLeafLifetimeSeconds } from '../pki/certificate';
import { pushTierIdentityName } from '../pki/identity';
import { CaSigner } from '../pki/signer';
import { CertificateRepository } from '../store/repositories';
import { loadCertificateAuthority } from './certificates';

/**
 * The push tier's own certificate, issued to a key its task keeps. The task generates its key
 * pair and sends only the public half; the push-certificate function, which alone may sign
 * with the CA key, answers with a certificate for `spiffe://<mesh>/service/_xds` and nothing
 * else: the request has no field that names an identity. So a compromised push task can
 * impersonate the push tier (which it is) but no service of the mesh.
 */

/** pushTierCertificateLifetimeSeconds is how long the push tier's certificate lives (as services'; the task renews at half). */
export const pushTierCertificateLifetimeSeconds = defaultLeafLifetimeSeconds;

/**
 * pushCertificateRequest is what a task sends: its public key as PEM SubjectPublicKeyInfo.
 * Strict: any other field (an identity, a lifetime) is a bad request, not ignored. No CSR:
 * IAM already says who is asking, and a certificate for a key the caller does not hold is
 * of no use to it, so proof of possession adds nothing here.
 */
export const pushCertificateRequest = z.strictObject({
  publicKeyPem: z.string().check(z.maxLength(1024), z.startsWith('-----BEGIN PUBLIC KEY-----')),
});
export type PushCertificateRequest = z.infer<typeof pushCertificateRequest>;

/**
 * PushCertificateAnswer is the function's whole answer. A refusal is a result, not a Lambda
 * error: `bad-request` (the task sent something else than a P-256 public key: a bug, never
 * retried to success) and `unavailable` (no mesh CA yet: the task retries).
 */
export type PushCertificateAnswer =
  | { readonly status: 'issued'; readonly certificatePem: string; readonly trustBundlePem: string; readonly notAfter: string }
  | { readonly status: 'bad-request'; readonly message: string }
  | { readonly status: 'unavailable'; readonly message: string };

/**
 * issuePushTierCertificate answers a push-certificate request. It reads the CA as every issuer
 * does but never makes one (replaceForeign false, and a missing CA is `unavailable`): the CA
 * is made when the first service is declared. A stored CA of another key throws, as it does
 * for every issuer: that is the operator's to fix, and the function's error alarm says so.
 * The signer is asked for only once the request is valid and the CA exists, so bad input is
 * answered `bad-request` without a call to KMS.
 */
export async function issuePushTierCertificate(
  store: CertificateRepository,
  signerOf: () => Promise<CaSigner>,
  request: unknown,
  options: { readonly mesh: string; readonly now: Date },
): Promise<PushCertificateAnswer> {
  const parsed = pushCertificateRequest.safeParse(request);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((issue) => (issue.path.length > 0 ? issue.path.join('.') : issue.message)).join(', ');
    return { status: 'bad-request', message: `a push-certificate request is { publicKeyPem } only: ${fields}` };
  }
  let key: KeyObject;
  try {
    key = createPublicKey(parsed.data.publicKeyPem);
  } catch {
    return { status: 'bad-request', message: 'publicKeyPem is not a PEM public key' };
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    return { status: 'bad-request', message: `publicKeyPem must be an ECDSA P-256 key, not ${key.asymmetricKeyType ?? 'unknown'}` };
  }
  if (!(await store.getCertificateAuthority())) return { status: 'unavailable', message: 'the mesh CA does not exist yet: declare a service first' };
  const signer = await signerOf();
  const ca = await loadCertificateAuthority(store, signer, { mesh: options.mesh, now: options.now, replaceForeign: false });
  const certified = await certifyServiceKey(signer, ca.certificatePem, pushTierIdentityName, key.export({ type: 'spki', format: 'der' }), {
    mesh: options.mesh,
    now: options.now,
    lifetimeSeconds: pushTierCertificateLifetimeSeconds,
  });
  return { status: 'issued', certificatePem: certified.certificatePem, trustBundlePem: ca.trustBundlePem, notAfter: certified.notAfter };
}
