import { kindOf } from '../model/service-terms';
import { NodeWorld } from '../model/node-world';
import type { Dependency, ServiceSpec } from '../model/spec';
import { grpcRetryConditions } from '../model/service-terms';
import { EnvoyResource, SnapshotResources, byResourceName, typeUrls } from '../envoy/resources';
import { names, subsetCluster, subsetOfCluster } from './names';
import { DependencyPolicy, RoutePolicy, SubsetWeight, dependencyPolicy, duration } from './policy';
import { proxylessHashPolicy, ringHashLb } from './affinity';
import { proxylessRouteMatch } from './route-match';
import { faultFilter } from './fault';
import { RenderSettings, adsConfigSource } from './settings';
import { proxylessServerListener, proxylessServerRoute, servesProxyless } from './proxyless-server';
import { proxylessClusterTransportSocket } from './proxyless-tls';

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
 * proxylessRouteAction is where a matched call goes, under the caller's timeout and retries,
 * in the fields gRPC reads (A31: `max_stream_duration`, not `timeout`; A44: retries on gRPC
 * status names only, with a back-off).
 */
function proxylessRouteAction(
  target: Record<string, unknown>,
  policy: Pick<DependencyPolicy, 'timeoutMs' | 'retries'>,
  affinity: DependencyPolicy['affinity'],
): Record<string, unknown> {
  const retryOn = policy.retries.retryOn.filter((c) => (grpcRetryConditions as readonly string[]).includes(c));
  const hashPolicy = proxylessHashPolicy(affinity);
  return {
    ...target,
    max_stream_duration: { max_stream_duration: duration(policy.timeoutMs) },
    ...(hashPolicy ? { hash_policy: hashPolicy } : {}),
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
 * splitWeights is the split gRPC is given: the subsets with a weight above 0 (a subset at 0
 * gets no calls, and needs no cluster unless a header route names it). Empty: no split.
 */
function splitWeights(policy: Pick<DependencyPolicy, 'split'>): readonly SubsetWeight[] {
  return policy.split.filter((s) => s.weight > 0);
}

/** splitTarget is the whole cluster, or with a split the subsets' clusters by weight. */
function splitTarget(service: string, split: readonly SubsetWeight[]): Record<string, unknown> {
  return split.length === 0
    ? { cluster: names.serviceCluster(service) }
    : { weighted_clusters: { clusters: split.map((s) => ({ name: subsetCluster(service, s.labels), weight: s.weight })) } };
}

/** routeSubsets are the subsets one of `routes[]` sends gRPC calls to: none when it takes the default, or no gRPC call can match it. */
function routeSubsets(route: RoutePolicy): Readonly<Record<string, string>>[] {
  if (!proxylessRouteMatch(route.match)) return [];
  return route.subset ? [route.subset] : splitWeights({ split: route.split ?? [] }).map((s) => s.labels);
}

/**
 * proxylessTrafficRoutes are the dependency's `routes[]` as gRPC takes them: the same matches
 * (routes no gRPC call can match are left out, route-match.ts), each to its subset's cluster,
 * its subsets' clusters by weight, or the default target. gRPC neither rewrites paths, rate
 * limits nor mirrors: those fields are not rendered here.
 */
function proxylessTrafficRoutes(service: string, policy: DependencyPolicy, defaultTarget: Record<string, unknown>): Record<string, unknown>[] {
  return policy.routes.flatMap((r) => {
    const match = proxylessRouteMatch(r.match);
    if (!match) return [];
    const target = r.subset
      ? { cluster: subsetCluster(service, r.subset) }
      : r.split
        ? splitTarget(service, splitWeights({ split: r.split }))
        : defaultTarget;
    return [{ match, route: proxylessRouteAction(target, r, policy.affinity) }];
  });
}

/**
 * proxylessRoutes are the dependency's routes as gRPC takes them (A28): `routes[]` first, then header routes,
 * each to its subset's cluster (an exact value, or the header being present), then every
 * other call to the whole cluster or, with a split, to the subsets' clusters by weight
 * (`weighted_clusters`; gRPC picks by each weight over their sum, so no total is given).
 */
function proxylessRoutes(dependency: ServiceSpec, policy: DependencyPolicy): Record<string, unknown>[] {
  const service = dependency.name;
  const headerRoutes = policy.headerRoutes.map((h) => ({
    match: {
      prefix: '',
      headers: [h.exact === undefined ? { name: h.header, present_match: true } : { name: h.header, string_match: { exact: h.exact } }],
    },
    route: proxylessRouteAction({ cluster: subsetCluster(service, h.subset) }, policy, policy.affinity),
  }));
  const target = splitTarget(service, splitWeights(policy));
  return [...proxylessTrafficRoutes(service, policy, target), ...headerRoutes, { match: { prefix: '' }, route: proxylessRouteAction(target, policy, policy.affinity) }];
}

/**
 * proxylessListener is the API listener named as the dial target (`xds:///<dependency>`),
 * with its routes inline (one round trip less than RDS).
 */
export function proxylessListener(dependency: ServiceSpec, dep?: Dependency): EnvoyResource {
  const target = dependency.name;
  const policy = dependencyPolicy(dep ?? {}, dependency.protocol);
  return {
    '@type': typeUrls.listeners,
    name: target,
    api_listener: {
      api_listener: {
        '@type': hcmType,
        stat_prefix: names.outboundStatPrefix(target),
        route_config: {
          name: names.outboundRoute(target),
          virtual_hosts: [{ name: target, domains: ['*'], routes: proxylessRoutes(dependency, policy) }],
        },
        http_filters: [...(policy.faults ? [faultFilter(policy.faults)] : []), { name: 'envoy.filters.http.router', typed_config: { '@type': routerType } }],
      },
    },
  };
}

/** edsCluster is a cluster whose endpoints come over ADS, named as its EDS resource. */
function edsCluster(name: string, policy: DependencyPolicy, transportSocket?: Record<string, unknown>): EnvoyResource {
  return {
    '@type': typeUrls.clusters,
    name,
    type: 'EDS',
    eds_cluster_config: { eds_config: adsConfigSource(), service_name: name },
    connect_timeout: duration(policy.connectTimeoutMs),
    // A ring where the client has something to hash (not cookies: proxylessHashPolicy).
    ...(proxylessHashPolicy(policy.affinity) ? ringHashLb() : { lb_policy: 'ROUND_ROBIN' }),
    ...(transportSocket ? { transport_socket: transportSocket } : {}),
  };
}

/**
 * proxylessCluster is the dependency's EDS cluster, its endpoints over ADS, round robin, with the
 * caller's connect timeout, and mTLS where proxyless-tls.ts says (given the settings).
 */
export function proxylessCluster(dependency: ServiceSpec, dep?: Dependency, settings?: RenderSettings): EnvoyResource {
  const tls = settings && proxylessClusterTransportSocket(dependency, settings);
  return edsCluster(names.serviceCluster(dependency.name), dependencyPolicy(dep ?? {}, dependency.protocol), tls);
}

/**
 * proxylessClusters are the clusters the dependency's routes name: the whole service's
 * cluster unless a split replaces it, and one cluster per subset that a split or a header
 * route sends to (subsetCluster: its EDS resource holds only that subset's endpoints).
 */
export function proxylessClusters(dependency: ServiceSpec, dep?: Dependency, settings?: RenderSettings): EnvoyResource[] {
  const policy = dependencyPolicy(dep ?? {}, dependency.protocol);
  const tls = settings && proxylessClusterTransportSocket(dependency, settings);
  const split = splitWeights(policy);
  const subsets = new Set(
    [...split.map((s) => s.labels), ...policy.headerRoutes.map((h) => h.subset), ...policy.routes.flatMap(routeSubsets)].map((labels) => subsetCluster(dependency.name, labels)),
  );
  return [...(split.length === 0 ? [edsCluster(names.serviceCluster(dependency.name), policy, tls)] : []), ...[...subsets].map((name) => edsCluster(name, policy, tls))];
}

/**
 * renderProxylessSnapshot renders what a proxyless gRPC node of the world's service gets: as a
 * client, a listener and its clusters (one per subset a split or header route uses) per
 * HTTP-family dependency (gRPC cannot speak raw TCP), routes inline; as a server of a gRPC
 * service, its server listener and that listener's route configuration over RDS
 * (proxyless-server.ts). Sorted by name; no SDS (TLS comes from certificate files, proxyless-tls.ts).
 */
export function renderProxylessSnapshot(world: NodeWorld, settings: RenderSettings): SnapshotResources {
  const deps = world.spec.dependencies.flatMap((dep) => {
    const dependency = world.dependencies.get(dep.service);
    return dependency && dependency.protocol !== 'tcp' && kindOf(dependency) === 'service' ? [{ dep, dependency }] : [];
  });
  const server = servesProxyless(world.spec);
  return {
    listeners: [...deps.map((d) => proxylessListener(d.dependency, d.dep)), ...(server ? [proxylessServerListener(world.spec, settings)] : [])].sort(byResourceName),
    routes: server ? [proxylessServerRoute(world.spec, world.callers, settings)] : [],
    clusters: deps.flatMap((d) => proxylessClusters(d.dependency, d.dep, settings)).sort(byResourceName),
  };
}

interface LbEndpoint {
  health_status?: string;
  load_balancing_weight?: number;
  metadata?: { filter_metadata?: { 'envoy.lb'?: Record<string, unknown> } };
}

interface Locality {
  locality?: Record<string, unknown>;
  lb_endpoints?: LbEndpoint[];
}

const usable = new Set(['HEALTHY', 'UNKNOWN', undefined]);

/** inSubset: the endpoint carries every label of the subset (its `envoy.lb` metadata, as Envoy's subset load balancer reads it). */
const inSubset = (e: LbEndpoint, labels: Readonly<Record<string, string>>) =>
  Object.entries(labels).every(([k, v]) => e.metadata?.filter_metadata?.['envoy.lb']?.[k] === v);

/**
 * proxylessLoadAssignment derives a gRPC client's ClusterLoadAssignment from the stored
 * (Envoy) one: endpoints gRPC would drop anyway (DRAINING, UNHEALTHY) are left out, a
 * locality is always present, and each carries a weight (the sum of its endpoints' weights),
 * without which gRPC drops it. Empty localities are left out.
 *
 * Given a subset cluster's name (names.subsetCluster), it is that cluster's assignment: only
 * the endpoints carrying the subset's labels, under that name. When none of them is usable, it
 * falls back to every usable endpoint, as the Envoy forms' subset load balancer does
 * (`fallback_policy: ANY_ENDPOINT`), so a split toward a revision not yet running does not fail calls.
 */
export function proxylessLoadAssignment(assignment: EnvoyResource, edsName?: string): EnvoyResource {
  const subset = edsName === undefined ? undefined : subsetOfCluster(edsName);
  const localitiesOf = (keep: (e: LbEndpoint) => boolean) =>
    ((assignment.endpoints as Locality[] | undefined) ?? []).flatMap((l) => {
      const lbEndpoints = (l.lb_endpoints ?? []).filter((e) => usable.has(e.health_status) && keep(e));
      if (lbEndpoints.length === 0) return [];
      const weight = lbEndpoints.reduce((sum, e) => sum + (e.load_balancing_weight ?? 1), 0);
      return [{ locality: l.locality ?? {}, lb_endpoints: lbEndpoints, load_balancing_weight: weight }];
    });
  const inIt = subset ? localitiesOf((e) => inSubset(e, subset.labels)) : [];
  const localities = inIt.length > 0 ? inIt : localitiesOf(() => true);
  return { ...assignment, ...(subset ? { cluster_name: edsName } : {}), endpoints: localities };
}
