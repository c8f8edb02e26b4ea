import { faultFilterWithoutFaults, faultPerRoute } from './fault';
import { DependencyPolicy } from './policy';
import { localRateLimitFilter } from './rate-limit';

/**
 * The traffic features of dependencies called by name (transparent mode). One HTTP connection
 * manager per port serves every HTTP dependency called at that port, so, unlike a localhost
 * listener, it cannot carry one dependency's faults in its filter: it carries the fault and
 * local rate limit filters without settings (inactive by themselves), and each dependency's
 * virtual host carries its faults (`typed_per_filter_config`, which Envoy's fault filter
 * prefers to its own), while its routes already carry their rate-limit buckets and mirror
 * policies (route.ts). Changing a dependency's faults or limits is then an RDS update; only
 * the first one on a port adds the filter to that port's filter chain.
 */

/** transparentTrafficFilters are the filters of the connection manager serving `deps` (one port's HTTP dependencies). */
export function transparentTrafficFilters(statPrefix: string, policies: readonly DependencyPolicy[]): Record<string, unknown>[] {
  return [
    ...(policies.some((p) => p.faults) ? [faultFilterWithoutFaults()] : []),
    ...(policies.some((p) => p.routes.some((r) => r.rateLimit)) ? [localRateLimitFilter(statPrefix)] : []),
  ];
}

/** transparentVirtualHostFilters are one dependency's virtual host `typed_per_filter_config` fields: its faults, or nothing. */
export function transparentVirtualHostFilters(policy: DependencyPolicy): Record<string, unknown> {
  return policy.faults ? { typed_per_filter_config: faultPerRoute(policy.faults) } : {};
}
