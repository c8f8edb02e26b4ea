import { ServiceSpec } from '../model/spec';
import { EnvoyResource, typeUrls } from '../envoy/resources';
import { names } from './names';
import { DependencyPolicy, RetryPolicy, RoutePolicy, dependencyPolicy, duration, servicePolicy } from './policy';
import { routeHashPolicy } from './affinity';
import { envoyRouteMatch } from './route-match';
import { requestMirror } from './mirror';
import { localRateLimitPerRoute } from './rate-limit';

const previousHostsType = 'type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate';

/** subsetMatch is the route-side half of subset load balancing: labels as `envoy.lb` metadata. */
export function subsetMatch(labels: Readonly<Record<string, string>>): Record<string, unknown> {
  const sorted = Object.fromEntries(Object.keys(labels).sort().map((k) => [k, labels[k]]));
  return { filter_metadata: { 'envoy.lb': sorted } };
}

/**
 * retryPolicy retries on another host (previous_hosts) with jittered back-off. gRPC
 * conditions go in retry_on too: Envoy reads both kinds from that one list.
 */
function retryPolicy(retries: RetryPolicy): Record<string, unknown> | undefined {
  if (retries.numRetries === 0 || retries.retryOn.length === 0) return undefined;
  const codes = retries.retryOn.includes('retriable-status-codes') ? retries.statusCodes : [];
  return {
    retry_on: retries.retryOn.join(','),
    num_retries: retries.numRetries,
    ...(retries.perTryTimeoutMs > 0 ? { per_try_timeout: duration(retries.perTryTimeoutMs) } : {}),
    retry_back_off: { base_interval: duration(retries.baseIntervalMs), max_interval: duration(retries.maxIntervalMs) },
    ...(codes.length > 0 ? { retriable_status_codes: codes } : {}),
    retry_host_predicate: [{ name: 'envoy.retry_host_predicates.previous_hosts', typed_config: { '@type': previousHostsType } }],
    host_selection_retry_max_attempts: retries.hostSelectionRetryMaxAttempts,
  };
}

/** routeAction is where a matched request goes, under which timeouts and retries, and whether it is mirrored. */
function routeAction(target: Record<string, unknown>, timing: Pick<DependencyPolicy, 'timeoutMs' | 'idleTimeoutMs' | 'retries'>, policy: DependencyPolicy): Record<string, unknown> {
  const retries = retryPolicy(timing.retries);
  return {
    ...target,
    timeout: duration(timing.timeoutMs),
    idle_timeout: duration(timing.idleTimeoutMs),
    ...(retries ? { retry_policy: retries } : {}),
    ...(policy.affinity ? { hash_policy: routeHashPolicy(policy.affinity) } : {}),
    ...requestMirror(policy.mirror),
  };
}

/** routeTarget is where one of `routes[]` sends: its subset, its split, or the dependency's default. */
function routeTarget(cluster: string, route: RoutePolicy, policy: DependencyPolicy): Record<string, unknown> {
  if (route.subset) return { cluster, metadata_match: subsetMatch(route.subset) };
  if (route.split) return defaultTarget(cluster, { ...policy, split: route.split });
  return defaultTarget(cluster, policy);
}

/**
 * trafficRoutes are a dependency's `routes[]`, in order: the match, the target, the route's
 * timeouts and retries, a prefix rewrite, and a rate limit bucket (rate-limit.ts).
 */
function trafficRoutes(dependency: string, cluster: string, policy: DependencyPolicy): Record<string, unknown>[] {
  return policy.routes.map((r) => ({
    match: envoyRouteMatch(r.match),
    route: { ...routeAction(routeTarget(cluster, r, policy), r, policy), ...(r.rewritePrefix !== undefined ? { prefix_rewrite: r.rewritePrefix } : {}) },
    ...(r.rateLimit ? { typed_per_filter_config: localRateLimitPerRoute(names.outboundStatPrefix(dependency), r.rateLimit, policy.protocol) } : {}),
  }));
}

/** defaultTarget is the whole cluster, or its subsets by weight when the dependency declares a split. */
function defaultTarget(cluster: string, policy: DependencyPolicy): Record<string, unknown> {
  if (policy.split.length === 0) return { cluster };
  return {
    weighted_clusters: {
      clusters: policy.split.map((s) => ({ name: cluster, weight: s.weight, metadata_match: subsetMatch(s.labels) })),
    },
  };
}

function routeConfiguration(name: string, routes: Record<string, unknown>[]): EnvoyResource {
  return {
    '@type': typeUrls.routes,
    name,
    virtual_hosts: [{ name, domains: ['*'], routes }],
  };
}

/** inboundRouteConfiguration routes mesh traffic arriving at this service to its payload. */
export function inboundRouteConfiguration(spec: ServiceSpec): EnvoyResource {
  const policy = servicePolicy(spec);
  return routeConfiguration(names.inboundRoute, [
    {
      match: { prefix: '/' },
      route: {
        cluster: names.localAppCluster,
        timeout: duration(policy.inboundTimeoutMs),
        idle_timeout: duration(policy.inboundIdleTimeoutMs),
      },
      ...(spec.rateLimit ? { typed_per_filter_config: localRateLimitPerRoute(policy.statsPrefix, spec.rateLimit, spec.protocol) } : {}),
    },
  ]);
}

/**
 * outboundRouteConfiguration routes the payload's calls to one dependency: `routes[]` first,
 * in order, then header routes to a subset (first match wins), then the default route, split
 * by weight if declared. Header routes and the default carry the dependency's timeouts and
 * retries; a `routes[]` entry its own where it sets them. Every route mirrors, when declared.
 */
export function outboundRouteConfiguration(dependency: ServiceSpec, options: { policy?: DependencyPolicy } = {}): EnvoyResource {
  const policy = options.policy ?? dependencyPolicy({}, dependency.protocol);
  const cluster = names.serviceCluster(dependency.name);
  const headerRoutes = policy.headerRoutes.map((h) => ({
    match: {
      prefix: '/',
      headers: [h.exact === undefined ? { name: h.header, present_match: true } : { name: h.header, string_match: { exact: h.exact } }],
    },
    route: routeAction({ cluster, metadata_match: subsetMatch(h.subset) }, policy, policy),
  }));
  return routeConfiguration(names.outboundRoute(dependency.name), [
    ...trafficRoutes(dependency.name, cluster, policy),
    ...headerRoutes,
    { match: { prefix: '/' }, route: routeAction(defaultTarget(cluster, policy), policy, policy) },
  ]);
}
