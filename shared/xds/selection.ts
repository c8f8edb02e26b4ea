import { contentVersion } from '../envoy/version';
import { EndpointAssignmentItem, SnapshotItem } from '../store/records';
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
