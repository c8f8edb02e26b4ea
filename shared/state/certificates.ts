import { X509Certificate, createPublicKey } from 'node:crypto';
import { CaSigner, PkiError } from '../pki/signer';
import { certificatesOfBundle, issueCaCertificate, issueServiceCertificate } from '../pki/certificate';
import { RotationPolicy, needsRotation } from '../pki/rotation';
import { SealedSecretError, SecretSealer, isCurrentSealFormat, privateKeyContext } from '../secrets/sealer';
import { CatalogRepository, CertificateRepository } from '../store/repositories';
import { kindOf } from '../model/service-terms';
import { OperatorCertificateSource } from '../secrets/operator-source';
import { copyGatewayCertificates } from './gateway-certificates';
import { renderServiceSecrets } from '../render/secret';

/** MeshCertificateAuthority is the CA as the control plane uses it: a signer (KMS or local) and its certificate. */
export interface MeshCertificateAuthority {
  readonly signer: CaSigner;
  readonly certificatePem: string;
  readonly mesh: string;
  /**
   * What every service trusts: this CA, and after a rotation the CA it replaced, until no
   * service certificate of that one is left (so peers keep accepting each other while their
   * certificates are re-issued one by one).
   */
  readonly trustBundlePem: string;
}

/**
 * currentTrustBundle is the mesh's trust bundle as stored now (the CA and, while it is still
 * trusted, the retired one), or undefined before the first CA: what a holder of a certificate
 * compares its own bundle with to notice a rotation.
 */
export async function currentTrustBundle(store: Pick<CertificateRepository, 'getCertificateAuthority' | 'getRetiredCertificateAuthority'>): Promise<string | undefined> {
  const [ca, retired] = await Promise.all([store.getCertificateAuthority(), store.getRetiredCertificateAuthority()]);
  return ca ? trustBundleOf(ca, retired) : undefined;
}

/** trustBundleOf is the PEM bundle of the signing CA and, while it is still trusted, the retired one. */
const trustBundleOf = (certificatePem: string, retiredPem: string | undefined) =>
  retiredPem && retiredPem !== certificatePem ? `${certificatePem.trimEnd()}\n${retiredPem.trimEnd()}\n` : certificatePem;

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
    return { signer, certificatePem: stored, mesh: options.mesh, trustBundlePem: trustBundleOf(stored, await store.getRetiredCertificateAuthority()) };
  }
  if (stored && !options.replaceForeign) {
    throw new PkiError('the stored mesh CA certificate is not of the configured signing key; refusing to issue');
  }
  const made = await issueCaCertificate(signer, { mesh: options.mesh, now: options.now });
  const kept = await store.putCertificateAuthority(made.certificatePem, stored !== undefined);
  return { signer, certificatePem: kept, mesh: options.mesh, trustBundlePem: trustBundleOf(kept, await store.getRetiredCertificateAuthority()) };
}

/** CertificateIssuer is what issuing and rotating service certificates needs. */
export interface CertificateIssuer {
  readonly ca: MeshCertificateAuthority;
  readonly sealer: SecretSealer;
  readonly policy: RotationPolicy;
  readonly now: () => Date;
  /**
   * Where gateway listener certificates are read (Secrets Manager, or local files): with it, a
   * gateway's are copied when it is declared and at every rotation pass (gateway-certificates.ts).
   * @default - none: TLS gateway listeners get no certificate
   */
  readonly operatorCertificates?: OperatorCertificateSource;
}

/**
 * ensureServiceCertificate issues a service its certificate when it has none, when the one it
 * has is due for rotation (well before expiry: the policy renews at half its lifetime), or when
 * the CA changed, or when it was stored before its SDS secrets were stored rendered. The new
 * certificate is a new SDS secret version; Envoy swaps it in place. `force` issues a new key
 * and certificate whatever the stored ones are (a role that may hold the key was revoked).
 * With `boundRoles` (the spec's IAM roles), a key issued while a role now unbound was bound is
 * replaced too: a revocation whose immediate re-issue failed is completed by the next pass.
 */
export async function ensureServiceCertificate(
  store: CertificateRepository,
  issuer: CertificateIssuer,
  service: string,
  options: { readonly force?: boolean; readonly boundRoles?: readonly string[] } = {},
): Promise<'issued' | 'trust-updated' | 'current'> {
  const now = issuer.now();
  const existing = await store.getServiceSecrets(service);
  const { boundRoles } = options;
  const revokedSinceIssue = boundRoles !== undefined && (existing?.issuedForRoles ?? []).some((role) => !boundRoles.includes(role));
  const usable =
    !options.force &&
    !revokedSinceIssue &&
    existing?.rendered !== undefined &&
    isCurrentSealFormat(existing.sealedPrivateKey) &&
    !needsRotation({ notBefore: existing.notBefore, notAfter: existing.notAfter }, now, issuer.policy);
  if (existing && usable && existing.trustBundlePem !== issuer.ca.trustBundlePem && trusts(issuer.ca.trustBundlePem, existing.certificatePem)) {
    // The CA changed (or stopped trusting a retired one): first every service gets the new
    // bundle with the certificate it has, so peers trust both CAs before any certificate of
    // the new one is presented; the next pass re-issues. The certificate secret is unchanged.
    const privateKeyPem = openOrUndefined(issuer.sealer, existing.sealedPrivateKey, privateKeyContext(service, existing.serial));
    if (privateKeyPem !== undefined) {
      await store.putServiceSecrets(service, {
        ...existing,
        trustBundlePem: issuer.ca.trustBundlePem,
        rendered: renderServiceSecrets({ certificatePem: existing.certificatePem, privateKeyPem }, issuer.ca.trustBundlePem, service),
      });
      return 'trust-updated';
    }
    // The data key changed too: the key cannot be served again, so the certificate is re-issued below.
  }
  if (existing && usable && existing.trustBundlePem === issuer.ca.trustBundlePem && trusts(issuer.ca.certificatePem, existing.certificatePem)) {
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
    trustBundlePem: issuer.ca.trustBundlePem,
    notBefore: issued.notBefore,
    notAfter: issued.notAfter,
    serial: issued.serial,
    ...(boundRoles ? { issuedForRoles: [...boundRoles] } : {}),
    rendered: renderServiceSecrets(issued, issuer.ca.trustBundlePem, service),
  });
  return 'issued';
}

/** openOrUndefined opens a sealed key, or says it cannot (sealed under another data key or context). */
function openOrUndefined(sealer: SecretSealer, sealed: Uint8Array, context: string): string | undefined {
  try {
    return sealer.open(sealed, context);
  } catch (err) {
    if (err instanceof SealedSecretError) return undefined;
    throw err;
  }
}

/** trusts says whether a certificate was issued by one of the CAs of a PEM bundle. */
function trusts(bundlePem: string, certificatePem: string): boolean {
  const leaf = new X509Certificate(certificatePem);
  return certificatesOfBundle(bundlePem).some((ca) => leaf.checkIssued(ca) && leaf.verify(ca.publicKey));
}

/**
 * rotateCertificates checks every declared service (the scheduled rotation) and says what it
 * renewed. After a CA rotation, once every service certificate is of the new CA, the retired
 * one is no longer trusted (`retiredCaForgotten`): the next load of the CA has a bundle of the
 * new one alone, and the next pass re-issues with it.
 */
export async function rotateCertificates(
  store: Pick<CatalogRepository, 'listServices'> & CertificateRepository,
  issuer: CertificateIssuer,
): Promise<{ issued: string[]; trustUpdated: string[]; current: number; retiredCaForgotten: boolean; gatewayCertificates: GatewayCertificatesRun }> {
  const issued: string[] = [];
  const trustUpdated: string[] = [];
  let current = 0;
  const gatewayCertificates = { copied: [] as string[], removed: [] as string[], problems: [] as { gateway: string; path: string; message: string }[] };
  const services = await store.listServices();
  for (const { spec } of services) {
    const result = await ensureServiceCertificate(store, issuer, spec.name, { boundRoles: spec.identity?.iamRoleArns ?? [] });
    if (result === 'issued') issued.push(spec.name);
    else if (result === 'trust-updated') trustUpdated.push(spec.name);
    else current++;
    // A gateway's listener certificates: a rotated secret is copied, one with a problem keeps its last good copy.
    if (issuer.operatorCertificates && kindOf(spec) === 'gateway') {
      const report = await copyGatewayCertificates(store, { source: issuer.operatorCertificates, sealer: issuer.sealer, now: issuer.now }, spec);
      gatewayCertificates.copied.push(...report.copied.map((port) => `${spec.name}:${port}`));
      gatewayCertificates.removed.push(...report.removed.map((port) => `${spec.name}:${port}`));
      gatewayCertificates.problems.push(...report.problems.map((p) => ({ gateway: spec.name, ...p })));
    }
  }
  let retiredCaForgotten = false;
  if (issuer.ca.trustBundlePem !== issuer.ca.certificatePem) {
    const leaves = await Promise.all(services.map(({ spec }) => store.getServiceSecrets(spec.name)));
    if (leaves.every((leaf) => leaf !== undefined && trusts(issuer.ca.certificatePem, leaf.certificatePem))) {
      await store.forgetRetiredCertificateAuthority();
      retiredCaForgotten = true;
    }
  }
  return { issued, trustUpdated, current, retiredCaForgotten, gatewayCertificates };
}

/** GatewayCertificatesRun is what a rotation pass did to gateway listener certificates (`<gateway>:<port>`). */
export interface GatewayCertificatesRun {
  readonly copied: string[];
  readonly removed: string[];
  readonly problems: { readonly gateway: string; readonly path: string; readonly message: string }[];
}
