/**
 * The xDS resource types we serve, their type URLs and their REST paths, in one place
 * (as go-control-plane's `resource` package does). Envoy's REST client POSTs to the path of
 * the type's `Fetch*` RPC, e.g. `/v3/discovery:clusters`.
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

export const discoveryPathPrefix = '/v3/discovery:';

/** typeNameFromPath returns the type a REST discovery path asks for, or undefined. */
export function typeNameFromPath(path: string): XdsTypeName | undefined {
  if (!path.startsWith(discoveryPathPrefix)) return undefined;
  const name = path.slice(discoveryPathPrefix.length);
  return (xdsTypeNames as readonly string[]).includes(name) ? (name as XdsTypeName) : undefined;
}
