/**
 * The Envoy vocabulary every layer speaks: the xDS resource types we serve, their type URLs,
 * and the shape of a rendered resource. A leaf: it imports nothing of ours, so the model, the
 * renderers, the store and the xDS core all build on it without importing one another
 * (as go-control-plane's `resource` package does).
 */

export const xdsTypeNames = ['listeners', 'routes', 'clusters', 'endpoints', 'secrets'] as const;
export type XdsTypeName = (typeof xdsTypeNames)[number];

export const typeUrls: Record<XdsTypeName, string> = {
  listeners: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  routes: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
  clusters: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  endpoints: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
  secrets: 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret',
};

/** wildcardTypes are state-of-the-world: the node asks for everything it should have. */
export const wildcardTypes: ReadonlySet<XdsTypeName> = new Set(['listeners', 'clusters']);

/** isXdsTypeName tells whether a string names one of the types we serve. */
export function isXdsTypeName(name: string): name is XdsTypeName {
  return (xdsTypeNames as readonly string[]).includes(name);
}

/** A rendered Envoy resource in proto3 JSON, with its `@type` when served. */
export type EnvoyResource = Record<string, unknown> & { name?: string };

/** SnapshotResources are the per-type resources of one service's nodes, each list sorted by name. */
export type SnapshotResources = Partial<Record<Exclude<XdsTypeName, 'endpoints'>, EnvoyResource[]>>;

/**
 * RetiringResource is a resource a render dropped, kept with its body for a while so nodes that
 * still route to it keep it until their listeners and routes no longer do (make before break).
 */
export interface RetiringResource {
  readonly resource: EnvoyResource;
  /** Its content version (a hash of the resource): what a transitional set's version is made of. */
  readonly version: string;
  /** When the render that dropped it ran (ISO 8601): it is kept for a bounded time from then. */
  readonly retiredAt: string;
}

/** TypeVersions are a content hash per type: what a wildcard poll compares. */
export type TypeVersions = Partial<Record<XdsTypeName, string>>;

/**
 * NamedVersionedResources are resources served one name at a time (as SDS secrets are), sorted
 * by name, with the version of each by name.
 */
export interface NamedVersionedResources {
  readonly resources: readonly EnvoyResource[];
  readonly versions: Readonly<Record<string, string>>;
}

/** byResourceName orders resources by name: how every snapshot and served set is sorted, so versions are stable. */
export const byResourceName = (a: EnvoyResource, b: EnvoyResource): number => {
  const x = String(a.name);
  const y = String(b.name);
  return x < y ? -1 : x > y ? 1 : 0;
};
