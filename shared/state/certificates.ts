import { X509Certificate, createPublicKey } from 'node:crypto';
import { CaSigner, PkiError } from '../pki/signer';
import { issueCaCertificate, issueServiceCertificate } from '../pki/certificate';
import { RotationPolicy, needsRotation } from '../pki/rotation';
import { SecretSealer, isCurrentSealFormat, privateKeyContext } from '../secrets/sealer';
import { CatalogRepository, CertificateRepository } from '../store/repositories';
import { renderServiceSecrets } from '../render/secret';

/** MeshCertificateAuthority is the CA as the control plane uses it: a signer (KMS or local) and its certificate. */
export interface MeshCertificateAuthority {
  readonly signer: CaSigner;
  readonly certificatePem: string;
  readonly mesh: string;
}

const spkiOf = (pem: string) => new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' });
const signerSpki = (signer: CaSigner) => createPublicKey({ key: Buffer.from(signer.publicKey), format: 'der', type: 'spki' }).export({ type: 'spki', format: 'der' });

/**
 * loadCertificateAuthority finds the mesh CA certificate in the table, or makes it once. The
 * certificate must be stored, not re-made per cold start: ECDSA signatures differ each time,
 * so a re-made CA would change the trust bundle, and so every secret, across the fleet.
 * A stored certificate of another key is an error in AWS (the KMS key changed); the local
 * runner, whose key is made at start, replaces it (`replaceForeign`).
 */
export async function loadCertificateAuthority(
  store: CertificateRepository,
  signer: CaSigner,
  options: { mesh: string; now: Date; replaceForeign: boolean },
): Promise<MeshCertificateAuthority> {
  const stored = await store.getCertificateAuthority();
  if (stored && Buffer.from(spkiOf(stored)).equals(Buffer.from(signerSpki(signer)))) {
    return { signer, certificatePem: stored, mesh: options.mesh };
  }
  if (stored && !options.replaceForeign) {
    throw new PkiError('the stored mesh CA certificate is not of the configured signing key; refusing to issue');
  }
  const made = await issueCaCertificate(signer, { mesh: options.mesh, now: options.now });
  const kept = await store.putCertificateAuthority(made.certificatePem, stored !== undefined);
  return { signer, certificatePem: kept, mesh: options.mesh };
}

/** CertificateIssuer is what issuing and rotating service certificates needs. */
export interface CertificateIssuer {
  readonly ca: MeshCertificateAuthority;
  readonly sealer: SecretSealer;
  readonly policy: RotationPolicy;
  readonly now: () => Date;
}

/**
 * ensureServiceCertificate issues a service its certificate when it has none, when the one it
 * has is due for rotation (well before expiry: the policy renews at half its lifetime), or when
 * the CA changed, or when it was stored before its SDS secrets were stored rendered. The new
 * certificate is a new SDS secret version; Envoy swaps it in place.
 */
export async function ensureServiceCertificate(
  store: CertificateRepository,
  issuer: CertificateIssuer,
  service: string,
): Promise<'issued' | 'current'> {
  const now = issuer.now();
  const existing = await store.getServiceSecrets(service);
  if (
    existing?.rendered &&
    isCurrentSealFormat(existing.sealedPrivateKey) &&
    existing.trustBundlePem === issuer.ca.certificatePem &&
    !needsRotation({ notBefore: existing.notBefore, notAfter: existing.notAfter }, now, issuer.policy)
  ) {
    return 'current';
  }
  const issued = await issueServiceCertificate(issuer.ca.signer, issuer.ca.certificatePem, service, {
    mesh: issuer.ca.mesh,
    now,
    lifetimeSeconds: issuer.policy.lifetimeSeconds,
  });
  await store.putServiceSecrets(service, {
    certificatePem: issued.certificatePem,
    sealedPrivateKey: issuer.sealer.seal(issued.privateKeyPem, privateKeyContext(service, issued.serial)),
    trustBundlePem: issuer.ca.certificatePem,
    notBefore: issued.notBefore,
    notAfter: issued.notAfter,
    serial: issued.serial,
    rendered: renderServiceSecrets(issued, issuer.ca.certificatePem, service),
  });
  return 'issued';
}

/** rotateCertificates checks every declared service (the scheduled rotation) and says what it renewed. */
export async function rotateCertificates(store: Pick<CatalogRepository, 'listServices'> & CertificateRepository, issuer: CertificateIssuer): Promise<{ issued: string[]; current: number }> {
  const issued: string[] = [];
  let current = 0;
  for (const { spec } of await store.listServices()) {
    if ((await ensureServiceCertificate(store, issuer, spec.name)) === 'issued') issued.push(spec.name);
    else current++;
  }
  return { issued, current };
}
