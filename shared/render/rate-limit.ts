import { Protocol } from '../model/spec';
import { RateLimit } from '../model/spec-traffic';

/**
 * Local rate limits (Envoy's local_ratelimit HTTP filter): a token bucket per route, refilled
 * every second with `requestsPerSecond` tokens and holding at most `burst`. The listener only
 * carries the filter, without a bucket (which leaves it inactive); the bucket rides on the
 * route (`typed_per_filter_config`), so changing a limit is an RDS update, not a listener
 * change that drains connections. A limited request is answered 429 with `x-local-rate-limit:
 * true`; a gRPC caller gets RESOURCE_EXHAUSTED instead of the UNAVAILABLE a 429 maps to.
 */

const localRateLimitType = 'type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit';
export const localRateLimitFilterName = 'envoy.filters.http.local_ratelimit';
/** The response header that says a request was refused by the local rate limit. */
export const rateLimitedHeader = { key: 'x-local-rate-limit', value: 'true' } as const;

/** localRateLimitFilter is the HTTP filter entry of a listener whose routes carry buckets: inactive by itself. */
export function localRateLimitFilter(statPrefix: string): Record<string, unknown> {
  return { name: localRateLimitFilterName, typed_config: { '@type': localRateLimitType, stat_prefix: `${statPrefix}_rate_limit` } };
}

/** allOf is a runtime fraction of 100 %, under a key an operator can turn down at runtime. */
const allOf = (runtimeKey: string) => ({ default_value: { numerator: 100, denominator: 'HUNDRED' }, runtime_key: runtimeKey });

/** localRateLimitPerRoute is a route's `typed_per_filter_config` with its token bucket. */
export function localRateLimitPerRoute(statPrefix: string, limit: RateLimit, protocol: Protocol): Record<string, unknown> {
  const prefix = `${statPrefix}_rate_limit`;
  return {
    [localRateLimitFilterName]: {
      '@type': localRateLimitType,
      stat_prefix: prefix,
      token_bucket: { max_tokens: limit.burst ?? limit.requestsPerSecond, tokens_per_fill: limit.requestsPerSecond, fill_interval: '1s' },
      filter_enabled: allOf(`${prefix}.enabled`),
      filter_enforced: allOf(`${prefix}.enforced`),
      response_headers_to_add: [{ header: { ...rateLimitedHeader }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' }],
      ...(protocol === 'grpc' ? { rate_limited_as_resource_exhausted: true } : {}),
    },
  };
}
