import { dependencyDefaults } from '../../../shared/model/defaults';
import { renderSnapshot } from '../../../shared/render/snapshot';
import { EnvoyResource } from '../../../shared/envoy/resources';
import { fullPolicy, settings, spec, world } from './fixtures';

type Route = { match: Record<string, unknown>; route: Record<string, unknown> };

const http = spec({ name: 'orders', protocol: 'http', inboundPort: 15001 });
const grpc = spec({ name: 'payments', protocol: 'grpc', inboundPort: 15002 });

function routesOf(resources: ReturnType<typeof renderSnapshot>, name: string): Route[] {
  const config = (resources.routes ?? []).find((r) => r.name === name) as EnvoyResource & {
    virtual_hosts: { routes: Route[] }[];
  };
  if (!config) throw new Error(`no route configuration ${name}`);
  return config.virtual_hosts[0]!.routes;
}

describe('outbound routes', () => {
  const caller = spec({ name: 'web', dependencies: [fullPolicy('orders', 'http', 7001), fullPolicy('payments', 'grpc', 7002)] });
  const resources = renderSnapshot(world(caller, [http, grpc]), settings);

  it('carry the declared retry policy on every route that reaches the dependency', () => {
    const routes = routesOf(resources, 'outbound_orders');
    expect(routes).toHaveLength(3);
    for (const r of routes) {
      expect(r.route.retry_policy).toEqual({
        retry_on: '5xx,gateway-error,reset,reset-before-request,connect-failure,retriable-4xx,refused-stream,retriable-status-codes',
        num_retries: 3,
        per_try_timeout: '0.5s',
        retry_back_off: { base_interval: '0.05s', max_interval: '0.4s' },
        retriable_status_codes: [429, 503],
        retry_host_predicate: [
          {
            name: 'envoy.retry_host_predicates.previous_hosts',
            typed_config: { '@type': 'type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate' },
          },
        ],
        host_selection_retry_max_attempts: 3,
      });
      expect(r.route.timeout).toBe('2s');
      expect(r.route.idle_timeout).toBe('60s');
    }
  });

  it('retry a gRPC dependency on the declared gRPC conditions', () => {
    const [first] = routesOf(resources, 'outbound_payments');
    expect((first!.route.retry_policy as { retry_on: string }).retry_on).toBe(
      'connect-failure,cancelled,deadline-exceeded,internal,resource-exhausted,unavailable',
    );
  });

  it('put header routes before the default route, each to its subset', () => {
    const routes = routesOf(resources, 'outbound_orders');
    expect(routes.map((r) => r.match)).toEqual([
      { prefix: '/', headers: [{ name: 'x-canary', string_match: { exact: '1' } }] },
      { prefix: '/', headers: [{ name: 'x-debug', present_match: true }] },
      { prefix: '/' },
    ]);
    expect(routes[0]!.route.cluster).toBe('orders');
    expect(routes[0]!.route.metadata_match).toEqual({ filter_metadata: { 'envoy.lb': { revision: '13' } } });
    expect(routes[1]!.route.metadata_match).toEqual({ filter_metadata: { 'envoy.lb': { revision: '13', track: 'debug' } } });
  });

  it('split the default route between subsets of the one cluster, weights summing to the total', () => {
    const routes = routesOf(resources, 'outbound_orders');
    const weighted = routes[2]!.route.weighted_clusters as { clusters: { name: string; weight: number; metadata_match: unknown }[] };
    expect(weighted.clusters).toEqual([
      { name: 'orders', weight: 90, metadata_match: { filter_metadata: { 'envoy.lb': { revision: '12' } } } },
      { name: 'orders', weight: 10, metadata_match: { filter_metadata: { 'envoy.lb': { revision: '13' } } } },
    ]);
    expect(weighted.clusters.reduce((sum, c) => sum + c.weight, 0)).toBe(100);
    expect(routes[2]!.route.cluster).toBeUndefined();
  });
});

describe('outbound routes with defaults', () => {
  const caller = spec({ name: 'web', dependencies: [{ service: 'orders', localPort: 7001 }, { service: 'payments', localPort: 7002 }] });
  const resources = renderSnapshot(world(caller, [http, grpc]), settings);

  it.each([
    ['an HTTP dependency', 'outbound_orders', dependencyDefaults.retries.retryOn.http],
    ['a gRPC dependency', 'outbound_payments', dependencyDefaults.retries.retryOn.grpc],
  ])('retry %s on the default conditions with the default timeouts', (_what, name, retryOn) => {
    expect(routesOf(resources, name)).toEqual([
      {
        match: { prefix: '/' },
        route: {
          cluster: name.replace('outbound_', ''),
          timeout: '15s',
          idle_timeout: '300s',
          retry_policy: {
            retry_on: retryOn.join(','),
            num_retries: 2,
            retry_back_off: { base_interval: '0.025s', max_interval: '0.25s' },
            retry_host_predicate: [
              {
                name: 'envoy.retry_host_predicates.previous_hosts',
                typed_config: { '@type': 'type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate' },
              },
            ],
            host_selection_retry_max_attempts: 3,
          },
        },
      },
    ]);
  });

  it.each(['outbound_orders', 'outbound_payments'])('never retry by default what the payload may have seen (%s)', (name) => {
    const [route] = routesOf(resources, name);
    const conditions = (route!.route.retry_policy as { retry_on: string }).retry_on.split(',');
    expect(conditions).toContain('connect-failure');
    for (const unsafe of ['5xx', 'gateway-error', 'reset', 'retriable-4xx']) expect(conditions).not.toContain(unsafe);
  });

  it('leave out the retry policy when retries are switched off', () => {
    const off = spec({ name: 'web', dependencies: [{ service: 'orders', localPort: 7001, retries: { numRetries: 0 }, timeoutMs: 0 }] });
    const [route] = routesOf(renderSnapshot(world(off, [http]), settings), 'outbound_orders');
    expect(route!.route).toEqual({ cluster: 'orders', timeout: '0s', idle_timeout: '300s' });
  });

  it('send inbound traffic to the payload with no timeout of its own unless declared', () => {
    expect(routesOf(resources, 'inbound')).toEqual([
      { match: { prefix: '/' }, route: { cluster: 'local_app', timeout: '0s', idle_timeout: '300s' } },
    ]);
    const declared = spec({ name: 'web', inbound: { timeoutMs: 30_000, idleTimeoutMs: 1_500 } });
    expect(routesOf(renderSnapshot(world(declared, []), settings), 'inbound')[0]!.route).toEqual({
      cluster: 'local_app',
      timeout: '30s',
      idle_timeout: '1.5s',
    });
  });
});
