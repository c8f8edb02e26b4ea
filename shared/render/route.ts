import { ServiceSpec } from '../model/spec';
import { EnvoyResource, typeUrls } from '../envoy/resources';
import { names } from './names';
import { DependencyPolicy, RetryPolicy, dependencyPolicy, duration, servicePolicy } from './policy';
import { routeHashPolicy } from './affinity';

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

/** routeAction is where a matched request goes and under which timeouts and retries. */
function routeAction(target: Record<string, unknown>, policy: DependencyPolicy): Record<string, unknown> {
  const retries = retryPolicy(policy.retries);
  return {
    ...target,
    timeout: duration(policy.timeoutMs),
    idle_timeout: duration(policy.idleTimeoutMs),
    ...(retries ? { retry_policy: retries } : {}),
    ...(policy.affinity ? { hash_policy: routeHashPolicy(policy.affinity) } : {}),
  };
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
    },
  ]);
}

/**
 * outboundRouteConfiguration routes the payload's calls to one dependency: header routes to
 * a subset first (first match wins), then the default route, split by weight if declared.
 * Every route carries the same timeouts and retries.
 */
export function outboundRouteConfiguration(dependency: ServiceSpec, options: { policy?: DependencyPolicy } = {}): EnvoyResource {
  const policy = options.policy ?? dependencyPolicy({}, dependency.protocol);
  const cluster = names.serviceCluster(dependency.name);
  const headerRoutes = policy.headerRoutes.map((h) => ({
    match: {
      prefix: '/',
      headers: [h.exact === undefined ? { name: h.header, present_match: true } : { name: h.header, string_match: { exact: h.exact } }],
    },
    route: routeAction({ cluster, metadata_match: subsetMatch(h.subset) }, policy),
  }));
  return routeConfiguration(names.outboundRoute(dependency.name), [
    ...headerRoutes,
    { match: { prefix: '/' }, route: routeAction(defaultTarget(cluster, policy), policy) },
  ]);
}
