import { contentVersion } from '../envoy/version';
import { EndpointAssignmentItem, GatewayCertificateItem, ServiceSecretsItem, SnapshotItem } from '../store/records';
import { isGatewayCertificateOf, names as secretNames } from '../render/names';
import { gatewayCertificateSecret } from '../render/gateway-certificate';
import { needsPrivateKey, withPrivateKey } from '../render/secret';
import { proxylessLoadAssignment } from '../render/proxyless';
import { SealedSecretError, SecretSealer, gatewayKeyContext, privateKeyContext } from '../secrets/sealer';
import { XdsRefusal } from './refusal';
import { EnvoyResource, XdsTypeName, wildcardTypes } from '../envoy/resources';

/** Selection is what one subscription should have now: its resources, their version and when they changed. */
export interface Selection {
  readonly version: string;
  readonly resources: readonly EnvoyResource[];
  readonly changedAt?: string;
}

/**
 * selectFromSnapshot picks the resources of one type from a service's snapshot: the whole
 * set for the wildcard types (LDS, CDS), the named ones for RDS and SDS. The version of a
 * named selection hashes exactly what it holds, so an unrelated route's change is no change.
 */
export function selectFromSnapshot(snapshot: SnapshotItem, type: Exclude<XdsTypeName, 'endpoints'>, names: readonly string[]): Selection {
  const all = snapshot.resources[type] ?? [];
  if (wildcardTypes.has(type) || names.length === 0) {
    return { version: snapshot.versions[type] ?? contentVersion(all), resources: all, changedAt: snapshot.changedAt };
  }
  const wanted = new Set(names);
  const resources = all.filter((r) => wanted.has(String(r.name)));
  return { version: contentVersion(resources), resources, changedAt: snapshot.changedAt };
}

/**
 * selectAssignments picks the ClusterLoadAssignments of the named services. Envoy polls each
 * EDS cluster on its own, so this is almost always one name, answered with its stored version.
 */
export function selectAssignments(assignments: ReadonlyMap<string, EndpointAssignmentItem>, names: readonly string[]): Selection {
  const found = names.flatMap((n) => {
    const a = assignments.get(n);
    return a ? [a] : [];
  });
  if (found.length === 1) return { version: found[0]!.version, resources: [found[0]!.resource], changedAt: found[0]!.changedAt };
  const changedAt = found.map((a) => a.changedAt ?? '').sort().pop() || undefined;
  return { version: contentVersion(found.map((a) => a.version)), resources: found.map((a) => a.resource), changedAt };
}

/**
 * checkSecretsRequest refuses, before anything is read, a secrets request this control plane
 * could not or would not answer: SDS off or its key unavailable, no names, or names of
 * another service's secrets.
 */
export function checkSecretsRequest(sealer: SecretSealer | 'unavailable' | undefined, service: string, names: readonly string[]): void {
  if (!sealer) throw new XdsRefusal('not-found', 'this control plane serves no secrets (SDS is not configured)');
  if (sealer === 'unavailable') throw new XdsRefusal('unavailable', 'secrets cannot be opened right now; retry');
  if (names.length === 0) throw new XdsRefusal('bad-request', 'a secrets request must name the secrets it wants in resource_names');
  const allowed = new Set([secretNames.serviceCertificateSecret(service), secretNames.trustBundleSecret]);
  const refused = names.filter((n) => !allowed.has(n) && !isGatewayCertificateOf(service, n));
  if (refused.length > 0) throw new XdsRefusal('refused', `service "${service}" may not fetch ${refused.map((n) => `"${n}"`).join(', ')}`);
}

/**
 * selectProxylessAssignments picks the named ClusterLoadAssignments in the form gRPC clients
 * accept (render/proxyless.ts), versioned by what they hold: a change only to a draining
 * endpoint, which gRPC never sees, is no change for them. A subset cluster's name
 * (names.subsetCluster) is found under its service's assignment (the cache reads it by
 * names.assignmentSource) and answered with that subset's endpoints alone, so one name's
 * version changes only when its own endpoints do: a change in one subset is no change for
 * another.
 */
export function selectProxylessAssignments(assignments: ReadonlyMap<string, EndpointAssignmentItem>, names: readonly string[]): Selection {
  const found = names.flatMap((n) => {
    const a = assignments.get(n);
    return a ? [{ name: n, item: a }] : [];
  });
  const resources = found.map((a) => proxylessLoadAssignment(a.item.resource, a.name));
  const changedAt = found.map((a) => a.item.changedAt ?? '').sort().pop() || undefined;
  return { version: contentVersion(resources.length === 1 ? resources[0] : resources), resources, ...(changedAt ? { changedAt } : {}) };
}

/**
 * selectSecrets serves a service its own certificate and the mesh trust bundle (and a gateway
 * its listeners' certificates), and nothing else. Envoy polls each SDS secret on its own and
 * rejects an answer that does not hold exactly the one it asked for, so the answer is filtered
 * to the names asked. The secrets were rendered and versioned at issuance (a listener's
 * certificate when it was copied); only a private key is opened here, and only when its
 * certificate secret is asked for.
 */
export function selectSecrets(
  sealer: SecretSealer | 'unavailable' | undefined,
  service: string,
  names: readonly string[],
  secrets: ServiceSecretsItem | undefined,
): Selection {
  checkSecretsRequest(sealer, service, names);
  if (!sealer || sealer === 'unavailable') throw new XdsRefusal('unavailable', 'secrets cannot be opened right now; retry');
  const wanted = new Set(names.filter((n) => !isGatewayCertificateOf(service, n)));
  const listeners = [...new Set(names.filter((n) => isGatewayCertificateOf(service, n)))];
  const served: { resource: EnvoyResource; version: string }[] = [];
  if (wanted.size > 0) {
    if (!secrets?.rendered) throw new XdsRefusal('unavailable', `the certificate of "${service}" is not issued yet; retry`);
    const { rendered } = secrets;
    for (const r of rendered.resources.filter((r) => wanted.has(String(r.name)))) {
      served.push({ resource: needsPrivateKey(r) ? withPrivateKey(r, openPrivateKey(sealer, service, secrets)) : r, version: rendered.versions[String(r.name)] ?? '' });
    }
  }
  const slots = listeners.map((name) => {
    const slot = secrets?.gatewayCertificates?.find((c) => secretNames.gatewayCertificateSecret(service, c.port) === name);
    if (!slot) throw new XdsRefusal('unavailable', `the certificate of gateway listener "${name}" is not copied from its secret yet; retry`);
    return slot;
  });
  for (const slot of slots) {
    const keyPair = { certificatePem: slot.certificatePem, privateKeyPem: openGatewayKey(sealer, service, slot) };
    served.push({ resource: gatewayCertificateSecret(service, slot.port, keyPair), version: slot.version });
  }
  served.sort((a, b) => (String(a.resource.name) < String(b.resource.name) ? -1 : String(a.resource.name) > String(b.resource.name) ? 1 : 0));
  const versions = served.map((s) => s.version);
  const version = versions.length === 1 ? versions[0]! : contentVersion(versions);
  const changedAt = wanted.size > 0 ? secrets?.notBefore : slots.map((s) => s.copiedAt).sort().pop();
  return { version, resources: served.map((s) => s.resource), ...(changedAt ? { changedAt } : {}) };
}

/** openGatewayKey opens a gateway listener's sealed key, bound to the gateway, the port and the certificate. */
function openGatewayKey(sealer: SecretSealer, gateway: string, slot: GatewayCertificateItem): string {
  try {
    return sealer.open(slot.sealedPrivateKey, gatewayKeyContext(gateway, slot.port, slot.fingerprint));
  } catch (err) {
    if (!(err instanceof SealedSecretError)) throw err;
    throw new XdsRefusal('unavailable', `the private key stored for listener ${slot.port} of "${gateway}" does not open for it; it is copied again at the next renewal run`, undefined, { cause: err });
  }
}

/**
 * openPrivateKey opens a service's sealed key, bound to that service and its certificate. One
 * that does not open (sealed for another service, or tampered with) is refused as unavailable:
 * Envoy keeps what it has, and the next issuance replaces the item.
 */
function openPrivateKey(sealer: SecretSealer, service: string, secrets: ServiceSecretsItem): string {
  try {
    return sealer.open(secrets.sealedPrivateKey, privateKeyContext(service, secrets.serial));
  } catch (err) {
    if (!(err instanceof SealedSecretError)) throw err;
    throw new XdsRefusal('unavailable', `the private key stored for "${service}" does not open for it and its certificate; it is re-issued at the next rotation`, undefined, { cause: err });
  }
}
