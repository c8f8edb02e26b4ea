import { ServiceSpec } from '../model/spec';
import { faultFilter } from './fault';
import { names } from './names';
import { DependencyPolicy, servicePolicy } from './policy';
import { localRateLimitFilter } from './rate-limit';

/**
 * The HTTP filters the traffic features add to a listener, before the router: fault injection
 * first (an injected abort costs no rate-limit token), then the local rate limit. A listener
 * only gets them when its spec asks, so specs without them render as before.
 */

/** inboundTrafficFilters are the inbound listeners' extra filters: a rate limit when the service declares one. */
export function inboundTrafficFilters(spec: ServiceSpec): Record<string, unknown>[] {
  return spec.rateLimit && spec.protocol !== 'tcp' ? [localRateLimitFilter(servicePolicy(spec).statsPrefix)] : [];
}

/** outboundTrafficFilters are one dependency's listener's extra filters: its faults, and a rate limit when a route has one. */
export function outboundTrafficFilters(dependency: string, policy: DependencyPolicy): Record<string, unknown>[] {
  return [
    ...(policy.faults ? [faultFilter(policy.faults)] : []),
    ...(policy.routes.some((r) => r.rateLimit) ? [localRateLimitFilter(names.outboundStatPrefix(dependency))] : []),
  ];
}

/** withFilters adds filters after the ones a listener's options already carry (RBAC, JWT). */
export function withFilters<T extends { readonly httpFilters?: readonly Record<string, unknown>[] }>(options: T, filters: readonly Record<string, unknown>[]): T {
  return filters.length === 0 ? options : { ...options, httpFilters: [...(options.httpFilters ?? []), ...filters] };
}
