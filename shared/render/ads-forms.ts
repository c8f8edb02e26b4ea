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

/**
 * AdsFormOptions say which config sources move to the stream. `sds: 'rest'` keeps every SDS
 * config source polling the REST tier: the forms of an Envoy on the push tier in AWS, whose
 * stream is mutual TLS with the very certificate SDS delivers (the certificate must come from
 * somewhere other than the stream it opens), and whose push tier opens no private keys (it has
 * no DATA_KEY_ID, so it serves no SDS). Its bootstrap fetches the same secrets with the same
 * REST config source, and Envoy shares one subscription per config source and secret name
 * (SecretManagerImpl), so the listeners' and clusters' TLS contexts add no polls of their own.
 */
export interface AdsFormOptions {
  /** @default 'ads' */
  readonly sds?: 'ads' | 'rest';
}

/** The fields of Envoy's resources whose value is a ConfigSource of a sub-resource. */
const configSourceFields = new Set(['config_source', 'eds_config', 'sds_config']);
const configSourceFieldsButSds = new Set(['config_source', 'eds_config']);

function isApiConfigSource(value: unknown): boolean {
  return typeof value === 'object' && value !== null && 'api_config_source' in value;
}

/**
 * rewrite copies a value with every REST (API) config source in `fields` replaced by the ADS
 * one; untouched parts are shared, not copied.
 */
function rewrite(value: unknown, fields: ReadonlySet<string>): unknown {
  if (Array.isArray(value)) {
    const out = value.map((v) => rewrite(v, fields));
    return out.some((v, i) => v !== value[i]) ? out : value;
  }
  if (typeof value !== 'object' || value === null) return value;
  let changed = false;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const next = fields.has(k) && isApiConfigSource(v) ? adsConfigSource() : rewrite(v, fields);
    changed ||= next !== v;
    out[k] = next;
  }
  return changed ? out : value;
}

/**
 * adsResource is a resource in its ADS form: the same object when it has no config source to
 * rewrite (a route, an assignment, a secret, a plain TCP listener), a copy otherwise.
 */
export function adsResource(resource: EnvoyResource, options: AdsFormOptions = {}): EnvoyResource {
  return rewrite(resource, options.sds === 'rest' ? configSourceFieldsButSds : configSourceFields) as EnvoyResource;
}

/**
 * adsVersion is the version of a type's ADS forms, given the version of its REST forms: a
 * hash of it, so it differs from the REST version whenever the content does, and is the same
 * in every process (the REST version is a content hash of the stored forms, and the ADS forms
 * are a function of them).
 */
export function adsVersion(restVersion: string, options: AdsFormOptions = {}): string {
  return contentVersion(options.sds === 'rest' ? { forms: 'ads', sds: 'rest', of: restVersion } : { forms: 'ads', of: restVersion });
}

/**
 * adsSnapshotForms derives the ADS forms of a snapshot's resources and their versions. A type
 * whose resources have no config source (routes) keeps its resources and its version.
 */
export function adsSnapshotForms(
  resources: SnapshotResources,
  versions: TypeVersions,
  options: AdsFormOptions = {},
): { readonly resources: SnapshotResources; readonly versions: TypeVersions } {
  const outResources: SnapshotResources = {};
  const outVersions: TypeVersions = { ...versions };
  for (const [type, list] of Object.entries(resources) as [keyof SnapshotResources, EnvoyResource[]][]) {
    const ads = list.map((r) => adsResource(r, options));
    const changed = ads.some((r, i) => r !== list[i]);
    outResources[type] = changed ? ads : list;
    const version = versions[type];
    if (changed && version !== undefined) outVersions[type] = adsVersion(version, options);
  }
  return { resources: outResources, versions: outVersions };
}
