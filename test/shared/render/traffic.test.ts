import { EnvoyResource } from '../../../shared/envoy/resources';
import { dependencyCluster } from '../../../shared/render/cluster';
import { dependencyPolicy } from '../../../shared/render/policy';
import { renderProxylessSnapshot } from '../../../shared/render/proxyless';
import { renderSnapshot } from '../../../shared/render/snapshot';
import { assertConformant } from '../../support/envoy-schema';
import { settings, spec, world } from './fixtures';

/** Rendering of routes[], rate limits, faults and mirroring, for Envoy and for proxyless gRPC clients. */

type Route = Record<string, unknown> & { match: Record<string, unknown>; route: Record<string, unknown> };
type Hcm = { http_filters: { name: string; typed_config: Record<string, unknown> }[] };

const orders = spec({ name: 'orders', protocol: 'http', inboundPort: 15001 });
const audit = spec({ name: 'audit', protocol: 'http', inboundPort: 15002 });
const payments = spec({ name: 'payments', protocol: 'grpc', inboundPort: 15003 });

const localRateLimitType = 'type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit';
const faultType = 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault';
const routerFilter = { name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } };

function routesOf(resources: { routes?: EnvoyResource[] }, name: string): Route[] {
  const config = (resources.routes ?? []).find((r) => r.name === name) as EnvoyResource & { virtual_hosts: { routes: Route[] }[] };
  return config.virtual_hosts[0]!.routes;
}
function hcmOf(listeners: readonly EnvoyResource[] | undefined, name: string): Hcm {
  const l = (listeners ?? []).find((r) => r.name === name) as EnvoyResource & {
    filter_chains?: { filters: { typed_config: Hcm }[] }[];
    api_listener?: { api_listener: Hcm };
  };
  return l.api_listener ? l.api_listener.api_listener : l.filter_chains![0]!.filters.at(-1)!.typed_config;
}

const ordersDep = {
  service: 'orders',
  localPort: 7001,
  timeoutMs: 3_000,
  headerRoutes: [{ header: 'x-canary', subset: { revision: '13' } }],
  split: { subsets: [{ labels: { revision: '12' }, weight: 90 }, { labels: { revision: '13' }, weight: 10 }] },
  routes: [
    {
      match: { pathPrefix: '/api/', method: 'GET' as const, headers: [{ name: 'x-tier', exact: 'gold' }], queryParams: [{ name: 'debug', present: true as const }] },
      subset: { revision: '14' },
      timeoutMs: 500,
      retries: { numRetries: 0 },
      rewritePrefix: '/v2/',
      rateLimit: { requestsPerSecond: 10, burst: 20 },
    },
    { match: { regex: '/a|/b' } },
  ],
  faults: { delay: { percent: 12.5, fixedDelayMs: 250 }, abort: { percent: 1, httpStatus: 503 } },
  mirror: { service: 'audit', percent: 5 },
};
const caller = spec({ name: 'web', rateLimit: { requestsPerSecond: 100 }, dependencies: [ordersDep, { service: 'audit', localPort: 7002 }] });
const resources = renderSnapshot(world(caller, [orders, audit], ['gateway']), settings);

describe('routes[] on a dependency', () => {
  it('come first, in order, then header routes, then the split; each route has its own timeouts, retries, rewrite and bucket, and every route mirrors', () => {
    const routes = routesOf(resources, 'outbound_orders');
    const mirror = { request_mirror_policies: [{ cluster: 'audit', runtime_fraction: { default_value: { numerator: 50_000, denominator: 'MILLION' } } }] };
    expect(routes[0]).toEqual({
      match: {
        prefix: '/api/',
        headers: [
          { name: ':method', string_match: { exact: 'GET' } },
          { name: 'x-tier', string_match: { exact: 'gold' } },
        ],
        query_parameters: [{ name: 'debug', present_match: true }],
      },
      route: {
        cluster: 'orders',
        metadata_match: { filter_metadata: { 'envoy.lb': { revision: '14' } } },
        timeout: '0.5s',
        idle_timeout: '300s',
        ...mirror,
        prefix_rewrite: '/v2/',
      },
      typed_per_filter_config: {
        'envoy.filters.http.local_ratelimit': {
          '@type': localRateLimitType,
          stat_prefix: 'outbound_orders_rate_limit',
          token_bucket: { max_tokens: 20, tokens_per_fill: 10, fill_interval: '1s' },
          filter_enabled: { default_value: { numerator: 100, denominator: 'HUNDRED' }, runtime_key: 'outbound_orders_rate_limit.enabled' },
          filter_enforced: { default_value: { numerator: 100, denominator: 'HUNDRED' }, runtime_key: 'outbound_orders_rate_limit.enforced' },
          response_headers_to_add: [{ header: { key: 'x-local-rate-limit', value: 'true' }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' }],
        },
      },
    });
    // A route with no target of its own takes the dependency's split, timeouts and retries.
    expect(routes[1]!.match).toEqual({ safe_regex: { regex: '/a|/b' } });
    expect(routes[1]!.route).toMatchObject({ weighted_clusters: { clusters: [{ weight: 90 }, { weight: 10 }] }, timeout: '3s', ...mirror });
    expect(routes[1]!.route.retry_policy).toBeDefined();
    expect(routes.map((r) => r.match)).toEqual([
      routes[0]!.match,
      routes[1]!.match,
      { prefix: '/', headers: [{ name: 'x-canary', present_match: true }] },
      { prefix: '/' },
    ]);
    for (const r of routes.slice(2)) expect(r.route).toMatchObject(mirror);
  });

  it("the dependency's cluster selects the subsets routes[] name", () => {
    const cluster = dependencyCluster(orders, settings, { policy: dependencyPolicy(ordersDep, 'http') }) as { lb_subset_config: { subset_selectors: { keys: string[] }[] } };
    expect(cluster.lb_subset_config.subset_selectors).toEqual([{ keys: ['revision'] }]);
  });

  it('adds the fault filter, then the rate limit filter (without a bucket), before the router', () => {
    expect(hcmOf(resources.listeners, 'outbound_orders').http_filters).toEqual([
      {
        name: 'envoy.filters.http.fault',
        typed_config: {
          '@type': faultType,
          delay: { fixed_delay: '0.25s', percentage: { numerator: 125_000, denominator: 'MILLION' } },
          abort: { http_status: 503, percentage: { numerator: 10_000, denominator: 'MILLION' } },
        },
      },
      { name: 'envoy.filters.http.local_ratelimit', typed_config: { '@type': localRateLimitType, stat_prefix: 'outbound_orders_rate_limit' } },
      routerFilter,
    ]);
  });

  it('leave a dependency without them exactly as before: no extra filter, no mirror, the header routes and split alone', () => {
    expect(hcmOf(resources.listeners, 'outbound_audit').http_filters).toEqual([routerFilter]);
    expect(routesOf(resources, 'outbound_audit')).toEqual([
      { match: { prefix: '/' }, route: expect.not.objectContaining({ request_mirror_policies: expect.anything() }) },
    ]);
  });
});

describe('an inbound rate limit', () => {
  it('puts the bucket on the inbound route and the filter after RBAC, before the router', () => {
    expect(routesOf(resources, 'inbound')[0]!.typed_per_filter_config).toMatchObject({
      'envoy.filters.http.local_ratelimit': { stat_prefix: 'inbound_rate_limit', token_bucket: { max_tokens: 100, tokens_per_fill: 100, fill_interval: '1s' } },
    });
    expect(hcmOf(resources.listeners, 'inbound').http_filters.map((f) => f.name)).toEqual([
      'envoy.filters.http.rbac',
      'envoy.filters.http.local_ratelimit',
      'envoy.filters.http.router',
    ]);
  });

  it('answers a gRPC caller RESOURCE_EXHAUSTED rather than the UNAVAILABLE a 429 maps to', () => {
    const grpcService = spec({ name: 'payments', protocol: 'grpc', rateLimit: { requestsPerSecond: 5 } });
    const rendered = renderSnapshot(world(grpcService, [], ['web']), settings);
    expect(routesOf(rendered, 'inbound')[0]!.typed_per_filter_config).toMatchObject({
      'envoy.filters.http.local_ratelimit': { rate_limited_as_resource_exhausted: true },
    });
  });

  it('changes only the route configuration when the numbers change: the listener, and its connections, stay', () => {
    const other = renderSnapshot(world(spec({ ...caller, rateLimit: { requestsPerSecond: 50, burst: 80 } }), [orders, audit], ['gateway']), settings);
    expect(other.listeners).toEqual(resources.listeners);
    expect(other.routes).not.toEqual(resources.routes);
  });

  it('is checked by the strict schema, inside the route: a bucket without tokens is refused', () => {
    const route = (resources.routes ?? []).find((r) => r.name === 'inbound')!;
    expect(() => assertConformant(route)).not.toThrow();
    const broken = JSON.parse(JSON.stringify(route).replace('"max_tokens":100', '"max_tokens":0')) as EnvoyResource;
    expect(() => assertConformant(broken)).toThrow(/max_tokens/);
  });
});

describe('the proxyless forms', () => {
  const grpcCaller = spec({
    name: 'web',
    dependencies: [
      {
        service: 'payments',
        localPort: 7003,
        routes: [
          { match: { pathPrefix: '/pay.v1.Payments/', method: 'POST', headers: [{ name: 'x-tier', regex: 'gold|platinum' }] }, subset: { revision: '2' }, timeoutMs: 700, rateLimit: { requestsPerSecond: 1 } },
          { match: { method: 'GET' }, subset: { revision: '3' } },
          { match: { queryParams: [{ name: 'a', exact: '1' }] }, subset: { revision: '4' } },
          { match: { regex: '/a|/b' }, split: { subsets: [{ labels: { revision: '1' }, weight: 0 }, { labels: { revision: '2' }, weight: 100 }] } },
        ],
        faults: { abort: { percent: 100, grpcStatus: 7 } },
        mirror: { service: 'audit', percent: 5 },
      },
      { service: 'audit', localPort: 7004 },
    ],
  });
  const proxyless = renderProxylessSnapshot(world(grpcCaller, [payments, audit]), settings);

  it('keep the routes a gRPC call can match (POST, no query), group regexes for gRPC\'s ^...$ and leave out rate limits, rewrites and mirrors', () => {
    const hcm = hcmOf(proxyless.listeners, 'payments') as Hcm & { route_config: { virtual_hosts: { routes: Route[] }[] } };
    const routes = hcm.route_config.virtual_hosts[0]!.routes;
    expect(routes).toEqual([
      {
        match: { prefix: '/pay.v1.Payments/', headers: [{ name: 'x-tier', string_match: { safe_regex: { regex: '(?:gold|platinum)' } } }] },
        route: { cluster: 'payments|revision=2', max_stream_duration: { max_stream_duration: '0.7s' }, retry_policy: expect.any(Object) },
      },
      {
        match: { safe_regex: { regex: '(?:/a|/b)' } },
        route: { weighted_clusters: { clusters: [{ name: 'payments|revision=2', weight: 100 }] }, max_stream_duration: { max_stream_duration: '15s' }, retry_policy: expect.any(Object) },
      },
      { match: { prefix: '' }, route: { cluster: 'payments', max_stream_duration: { max_stream_duration: '15s' }, retry_policy: expect.any(Object) } },
    ]);
    expect(hcm.http_filters).toEqual([
      { name: 'envoy.filters.http.fault', typed_config: { '@type': faultType, abort: { grpc_status: 7, percentage: { numerator: 1_000_000, denominator: 'MILLION' } } } },
      routerFilter,
    ]);
    expect((proxyless.clusters ?? []).map((c) => c.name)).toEqual(['audit', 'payments', 'payments|revision=2']);
    for (const r of [...(proxyless.listeners ?? []), ...(proxyless.clusters ?? [])]) expect(() => assertConformant(r)).not.toThrow();
  });
});
