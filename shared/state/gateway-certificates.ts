import { Problem } from '../errors';
import { ServiceSpec } from '../model/spec';
import { kindOf } from '../model/service-terms';
import { OperatorCertificate, OperatorCertificateError, parseOperatorCertificate } from '../pki/operator-certificate';
import { gatewayCertificateVersion } from '../render/gateway-certificate';
import { OperatorCertificateSource, OperatorSecretUnreadableError, OperatorSecretValue } from '../secrets/operator-source';
import { SealedSecretError, SecretSealer, gatewayKeyContext, isCurrentSealFormat } from '../secrets/sealer';
import { GatewayCertificateItem } from '../store/records';
import { CertificateRepository } from '../store/repositories';

/**
 * Gateway listener certificates: the operator keeps each TLS listener's certificate chain and
 * key in a Secrets Manager secret (`listeners[].tls.certificateSecretArn`); the control plane
 * copies it, checked and with the key sealed, into the gateway's secrets item, one slot per
 * listener port, and serves it over SDS as `gateway_certificate_<gateway>_<port>` to the
 * gateway's own nodes. It is copied when the gateway is declared (after its own certificate
 * is issued) and checked again by every renewal run, which copies a rotated secret (a new
 * version id) and drops the slots of listeners that are gone.
 */

/** GatewayCertificateCopier is what copying needs: the operator's source, the sealer, a clock. */
export interface GatewayCertificateCopier {
  readonly source: OperatorCertificateSource;
  readonly sealer: SecretSealer;
  readonly now: () => Date;
}

/** A TLS listener's secret as read and checked: its certificate, or the problem with it. */
export interface ListenerSecret {
  readonly port: number;
  readonly arn: string;
  /** Where in the spec the listener's secret is named, e.g. `listeners.0.tls.certificateSecretArn`. */
  readonly path: string;
  readonly value?: OperatorSecretValue;
  readonly certificate?: OperatorCertificate;
  readonly problem?: string;
}

/** tlsListenersOf are a gateway's TLS listeners with where each is in the spec; none for other kinds. */
function tlsListenersOf(spec: ServiceSpec): { port: number; arn: string; path: string }[] {
  if (kindOf(spec) !== 'gateway') return [];
  return (spec.listeners ?? []).flatMap((l, i) => (l.tls ? [{ port: l.port, arn: l.tls.certificateSecretArn, path: `listeners.${i}.tls.certificateSecretArn` }] : []));
}

/**
 * readListenerSecrets reads and checks the secret of each TLS listener of a gateway. A secret
 * that does not exist, may not be read, or holds no servable certificate is a problem of that
 * listener; a source that does not answer throws (OperatorSecretUnreadableError 'unavailable').
 */
export async function readListenerSecrets(spec: ServiceSpec, source: OperatorCertificateSource, now: Date): Promise<ListenerSecret[]> {
  return Promise.all(
    tlsListenersOf(spec).map(async (l): Promise<ListenerSecret> => {
      let value: OperatorSecretValue;
      try {
        value = await source.read(l.arn);
      } catch (err) {
        if (err instanceof OperatorSecretUnreadableError && err.reason !== 'unavailable') return { ...l, problem: err.message };
        throw err;
      }
      try {
        return { ...l, value, certificate: parseOperatorCertificate(value.text, now) };
      } catch (err) {
        if (err instanceof OperatorCertificateError) return { ...l, value, problem: `secret ${l.arn} (version ${value.versionId}): ${err.message}` };
        throw err;
      }
    }),
  );
}

/** listenerProblems are the problems of listener secrets, located at the spec field that names each. */
export function listenerProblems(secrets: readonly ListenerSecret[]): Problem[] {
  return secrets.flatMap((s) => (s.problem ? [{ path: s.path, message: s.problem }] : []));
}

/** What one copy pass did for a gateway: listeners copied, already current, dropped, or with a problem (the slot kept). */
export interface GatewayCertificateReport {
  readonly copied: readonly number[];
  readonly current: readonly number[];
  readonly removed: readonly number[];
  readonly problems: readonly Problem[];
}

/** slotOpens says whether a stored slot's key still opens (same data key and context): otherwise it is copied again. */
function slotOpens(sealer: SecretSealer, gateway: string, slot: GatewayCertificateItem): boolean {
  if (!isCurrentSealFormat(slot.sealedPrivateKey)) return false;
  try {
    sealer.open(slot.sealedPrivateKey, gatewayKeyContext(gateway, slot.port, slot.fingerprint));
    return true;
  } catch (err) {
    if (err instanceof SealedSecretError) return false;
    throw err;
  }
}

/**
 * copyGatewayCertificates brings a gateway's listener slots in line with its spec and its
 * secrets: a slot whose secret has a new version (or another ARN, or a key that no longer
 * opens) is copied again, a listener without a slot is copied, a slot whose listener is gone
 * or no longer TLS is removed. A listener whose secret has a problem keeps the slot it has
 * (Envoy keeps serving the last good certificate) and the problem is reported. `read` are the
 * secrets readListenerSecrets already read for this spec (a declare checks them before it
 * writes), else they are read here. Expired stored certificates are reported too.
 */
export async function copyGatewayCertificates(
  store: Pick<CertificateRepository, 'getServiceSecrets' | 'putGatewayCertificate' | 'removeGatewayCertificates'>,
  copier: GatewayCertificateCopier,
  spec: ServiceSpec,
  read?: readonly ListenerSecret[],
): Promise<GatewayCertificateReport> {
  const now = copier.now();
  const listeners = read ?? (await readListenerSecrets(spec, copier.source, now));
  const existing = (await store.getServiceSecrets(spec.name))?.gatewayCertificates ?? [];
  const copied: number[] = [];
  const current: number[] = [];
  const problems: Problem[] = [];
  for (const l of listeners) {
    const slot = existing.find((s) => s.port === l.port);
    const unchanged = slot !== undefined && l.value !== undefined && slot.sourceArn === l.arn && slot.sourceVersion === l.value.versionId;
    if (unchanged && slotOpens(copier.sealer, spec.name, slot)) {
      current.push(l.port);
      if (Date.parse(slot.notAfter) < now.getTime()) {
        problems.push({ path: l.path, message: `the certificate of secret ${l.arn} expired at ${slot.notAfter}; put a renewed one in the secret` });
      }
      continue;
    }
    if (!l.certificate || !l.value) {
      problems.push({ path: l.path, message: l.problem ?? `secret ${l.arn} could not be read` });
      continue;
    }
    const keyPair = { certificatePem: l.certificate.certificateChainPem, privateKeyPem: l.certificate.privateKeyPem };
    await store.putGatewayCertificate(spec.name, {
      port: l.port,
      sourceArn: l.arn,
      sourceVersion: l.value.versionId,
      certificatePem: l.certificate.certificateChainPem,
      sealedPrivateKey: copier.sealer.seal(l.certificate.privateKeyPem, gatewayKeyContext(spec.name, l.port, l.certificate.fingerprint)),
      fingerprint: l.certificate.fingerprint,
      notAfter: l.certificate.notAfter,
      copiedAt: now.toISOString(),
      version: gatewayCertificateVersion(spec.name, l.port, keyPair),
    });
    copied.push(l.port);
  }
  const ports = new Set(listeners.map((l) => l.port));
  const removed = existing.filter((s) => !ports.has(s.port)).map((s) => s.port);
  await store.removeGatewayCertificates(spec.name, removed);
  return { copied, current, removed, problems };
}
