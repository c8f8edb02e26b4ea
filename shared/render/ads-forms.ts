import { EnvoyResource, SnapshotResources, TypeVersions } from '../envoy/resources';
import { contentVersion } from '../envoy/version';
import { adsConfigSource } from './settings';

/**
 * The ADS forms of an Envoy's resources: what an Envoy on the push tier is served. They differ
 * from the stored REST forms only in their config sources (RDS in a connection manager, EDS in
 * a cluster, SDS in a TLS context), which say `{ ads: {} }` instead of polling the xDS cluster.
 *
 * Why derived when served, not rendered and stored beside the REST forms: the difference is
 * mechanical and small, while storing it would double the listeners and clusters of every
 * snapshot item (DynamoDB caps an item at 400 KB, and a service with hundreds of dependencies
 * is already the largest item), and snapshots stored before would need a re-render. The
 * derivation is pure and deterministic, so every process derives the same bytes and versions.
 */

/** The fields of Envoy's resources whose value is a ConfigSource of a sub-resource. */
const configSourceFields = new Set(['config_source', 'eds_config', 'sds_config']);

function isApiConfigSource(value: unknown): boolean {
  return typeof value === 'object' && value !== null && 'api_config_source' in value;
}

/** rewrite copies a value with every REST (API) config source replaced by the ADS one; untouched parts are shared, not copied. */
function rewrite(value: unknown): unknown {
  if (Array.isArray(value)) {
    const out = value.map(rewrite);
    return out.some((v, i) => v !== value[i]) ? out : value;
  }
  if (typeof value !== 'object' || value === null) return value;
  let changed = false;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const next = configSourceFields.has(k) && isApiConfigSource(v) ? adsConfigSource() : rewrite(v);
    changed ||= next !== v;
    out[k] = next;
  }
  return changed ? out : value;
}

/**
 * adsResource is a resource in its ADS form: the same object when it has no config source to
 * rewrite (a route, an assignment, a secret, a plain TCP listener), a copy otherwise.
 */
export function adsResource(resource: EnvoyResource): EnvoyResource {
  return rewrite(resource) as EnvoyResource;
}

/**
 * adsVersion is the version of a type's ADS forms, given the version of its REST forms: a
 * hash of it, so it differs from the REST version whenever the content does, and is the same
 * in every process (the REST version is a content hash of the stored forms, and the ADS forms
 * are a function of them).
 */
export function adsVersion(restVersion: string): string {
  return contentVersion({ forms: 'ads', of: restVersion });
}

/**
 * adsSnapshotForms derives the ADS forms of a snapshot's resources and their versions. A type
 * whose resources have no config source (routes) keeps its resources and its version.
 */
export function adsSnapshotForms(
  resources: SnapshotResources,
  versions: TypeVersions,
): { readonly resources: SnapshotResources; readonly versions: TypeVersions } {
  const outResources: SnapshotResources = {};
  const outVersions: TypeVersions = { ...versions };
  for (const [type, list] of Object.entries(resources) as [keyof SnapshotResources, EnvoyResource[]][]) {
    const ads = list.map(adsResource);
    const changed = ads.some((r, i) => r !== list[i]);
    outResources[type] = changed ? ads : list;
    const version = versions[type];
    if (changed && version !== undefined) outVersions[type] = adsVersion(version);
  }
  return { resources: outResources, versions: outVersions };
}
