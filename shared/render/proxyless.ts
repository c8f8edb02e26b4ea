import { NodeWorld } from '../model/node-world';
import { Dependency, ServiceSpec, grpcRetryConditions } from '../model/spec';
import { EnvoyResource, SnapshotResources, typeUrls } from '../envoy/resources';
import { names } from './names';
import { dependencyPolicy, duration } from './policy';
import { adsConfigSource } from './settings';

/**
 * The forms a proxyless gRPC client accepts (../shared/GRPC-XDS.md, gRPC A27/A28), rendered
 * from the same world as the Envoy forms: a gRPC client of service S dialing `xds:///T` asks
 * LDS for the Listener named `T`, follows it to T's cluster, and EDS for its endpoints.
 * Everything points back at the control plane over ADS (the only config source gRPC takes),
 * localities carry weights, and only HEALTHY and UNKNOWN endpoints are listed.
 */

const hcmType = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const routerType = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';

/**
 * proxylessRoute sends every call to the dependency's cluster under the caller's timeout and
 * retries, in the fields gRPC reads (A31: `max_stream_duration`, not `timeout`; A44: retries
 * on gRPC status names only, with a back-off).
 */
function proxylessRoute(dependency: ServiceSpec, dep: Dependency | undefined): Record<string, unknown> {
  const policy = dependencyPolicy(dep ?? {}, dependency.protocol);
  const retryOn = policy.retries.retryOn.filter((c) => (grpcRetryConditions as readonly string[]).includes(c));
  return {
    cluster: names.serviceCluster(dependency.name),
    max_stream_duration: { max_stream_duration: duration(policy.timeoutMs) },
    ...(policy.retries.numRetries > 0 && retryOn.length > 0
      ? {
          retry_policy: {
            retry_on: retryOn.join(','),
            num_retries: policy.retries.numRetries,
            retry_back_off: { base_interval: duration(policy.retries.baseIntervalMs), max_interval: duration(policy.retries.maxIntervalMs) },
          },
        }
      : {}),
  };
}

/**
 * proxylessListener is the API listener named as the dial target (`xds:///<dependency>`),
 * with its route inline (one round trip less than RDS): any call to the dependency's cluster.
 */
export function proxylessListener(dependency: ServiceSpec, dep?: Dependency): EnvoyResource {
  const target = dependency.name;
  return {
    '@type': typeUrls.listeners,
    name: target,
    api_listener: {
      api_listener: {
        '@type': hcmType,
        stat_prefix: names.outboundStatPrefix(target),
        route_config: {
          name: names.outboundRoute(target),
          virtual_hosts: [{ name: target, domains: ['*'], routes: [{ match: { prefix: '' }, route: proxylessRoute(dependency, dep) }] }],
        },
        http_filters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': routerType } }],
      },
    },
  };
}

/** proxylessCluster is the dependency's EDS cluster, its endpoints over ADS, round robin, with the caller's connect timeout. */
export function proxylessCluster(dependency: ServiceSpec, dep?: Dependency): EnvoyResource {
  const policy = dependencyPolicy(dep ?? {}, dependency.protocol);
  return {
    '@type': typeUrls.clusters,
    name: names.serviceCluster(dependency.name),
    type: 'EDS',
    eds_cluster_config: { eds_config: adsConfigSource(), service_name: names.serviceCluster(dependency.name) },
    connect_timeout: duration(policy.connectTimeoutMs),
    lb_policy: 'ROUND_ROBIN',
  };
}

const byName = (a: EnvoyResource, b: EnvoyResource) => (String(a.name) < String(b.name) ? -1 : String(a.name) > String(b.name) ? 1 : 0);

/**
 * renderProxylessSnapshot renders what a gRPC client of the world's service gets: a listener
 * and a cluster per HTTP-family dependency (gRPC cannot speak raw TCP), sorted by name; no
 * RDS (routes are inline) and no SDS.
 */
export function renderProxylessSnapshot(world: NodeWorld): SnapshotResources {
  const deps = world.spec.dependencies.flatMap((dep) => {
    const dependency = world.dependencies.get(dep.service);
    return dependency && dependency.protocol !== 'tcp' ? [{ dep, dependency }] : [];
  });
  return {
    listeners: deps.map((d) => proxylessListener(d.dependency, d.dep)).sort(byName),
    routes: [],
    clusters: deps.map((d) => proxylessCluster(d.dependency, d.dep)).sort(byName),
  };
}

interface LbEndpoint {
  health_status?: string;
  load_balancing_weight?: number;
}

interface Locality {
  locality?: Record<string, unknown>;
  lb_endpoints?: LbEndpoint[];
}

const usable = new Set(['HEALTHY', 'UNKNOWN', undefined]);

/**
 * proxylessLoadAssignment derives a gRPC client's ClusterLoadAssignment from the stored
 * (Envoy) one: endpoints gRPC would drop anyway (DRAINING, UNHEALTHY) are left out, a
 * locality is always present, and each carries a weight (the sum of its endpoints' weights),
 * without which gRPC drops it. Empty localities are left out.
 */
export function proxylessLoadAssignment(assignment: EnvoyResource): EnvoyResource {
  const localities = ((assignment.endpoints as Locality[] | undefined) ?? []).flatMap((l) => {
    const lbEndpoints = (l.lb_endpoints ?? []).filter((e) => usable.has(e.health_status));
    if (lbEndpoints.length === 0) return [];
    const weight = lbEndpoints.reduce((sum, e) => sum + (e.load_balancing_weight ?? 1), 0);
    return [{ locality: l.locality ?? {}, lb_endpoints: lbEndpoints, load_balancing_weight: weight }];
  });
  return { ...assignment, endpoints: localities };
}
