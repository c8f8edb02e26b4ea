import { EnvoyResource } from '../../../shared/envoy/resources';
import { contentVersion } from '../../../shared/envoy/version';
import { renderSnapshot } from '../../../shared/render/snapshot';
import { assertConformant } from '../../support/envoy-schema';
import { settings, spec, world } from './fixtures';

type Filter = { name: string; typed_config: Record<string, unknown> };
type Chain = { name: string; filters: { typed_config: { http_filters?: Filter[] } }[] };
type VirtualHost = { name: string; routes: Record<string, unknown>[]; typed_per_filter_config?: Record<string, unknown> };

const faultType = 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault';
const rateLimitType = 'type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit';

const payments = spec({ name: 'payments', appPort: 8080 });
const paymentsCanary = spec({ name: 'payments-canary', appPort: 8080 });
const inventory = spec({ name: 'inventory', protocol: 'grpc', appPort: 9090 });
const ledger = spec({ name: 'ledger', protocol: 'tcp', appPort: 5432 });
const deps = [payments, paymentsCanary, inventory, ledger];

const faults = { delay: { percent: 10, fixedDelayMs: 250 }, abort: { percent: 5, httpStatus: 503 } };
const orders = (paymentsExtra: Record<string, unknown>, inventoryExtra: Record<string, unknown> = {}) =>
  spec({
    name: 'orders',
    interception: { mode: 'transparent' },
    dependencies: [
      { service: 'payments', localPort: 9001, ...paymentsExtra },
      { service: 'payments-canary', localPort: 9002 },
      { service: 'inventory', localPort: 9003, ...inventoryExtra },
      { service: 'ledger', localPort: 9004 },
    ],
  });
const withEverything = orders({
  faults,
  mirror: { service: 'payments-canary', percent: 20 },
  routes: [{ match: { pathPrefix: '/refunds' }, rateLimit: { requestsPerSecond: 10, burst: 20 } }],
});

const byName = (list: readonly EnvoyResource[] | undefined, name: string) => (list ?? []).find((r) => r.name === name)!;
const render = (caller: ReturnType<typeof spec>) => renderSnapshot(world(caller, deps), settings);
const chainFilters = (rendered: ReturnType<typeof render>, chain: string) =>
  (byName(rendered.listeners, 'transparent_outbound').filter_chains as Chain[]).find((c) => c.name === chain)!.filters[0]!.typed_config.http_filters!;
const virtualHost = (rendered: ReturnType<typeof render>, name: string) =>
  (byName(rendered.routes, 'transparent_outbound').virtual_hosts as VirtualHost[]).find((h) => h.name === name)!;

describe('faults, rate limits and mirroring on dependencies called by name', () => {
  const rendered = render(withEverything);

  it('puts the fault and rate-limit filters, without settings, in the connection manager of the port those dependencies are called at', () => {
    expect(chainFilters(rendered, 'http_8080')).toEqual([
      { name: 'envoy.filters.http.fault', typed_config: { '@type': faultType } },
      { name: 'envoy.filters.http.local_ratelimit', typed_config: { '@type': rateLimitType, stat_prefix: 'transparent_outbound_rate_limit' } },
      { name: 'envoy.filters.http.router', typed_config: expect.objectContaining({}) },
    ]);
    // inventory, alone on its port, asks for neither.
    expect(chainFilters(rendered, 'http_9090').map((f) => f.name)).toEqual(['envoy.filters.http.router']);
  });

  it("carries a dependency's faults on its virtual host, and nothing on the others", () => {
    expect(virtualHost(rendered, 'payments').typed_per_filter_config).toEqual({
      'envoy.filters.http.fault': {
        '@type': faultType,
        delay: { fixed_delay: '0.25s', percentage: { numerator: 100000, denominator: 'MILLION' } },
        abort: { http_status: 503, percentage: { numerator: 50000, denominator: 'MILLION' } },
      },
    });
    expect(virtualHost(rendered, 'payments-canary').typed_per_filter_config).toBeUndefined();
    expect(virtualHost(rendered, 'transparent_passthrough').typed_per_filter_config).toBeUndefined();
  });

  it('injects the same faults by name as on the localhost listener', () => {
    const localhost = (byName(rendered.listeners, 'outbound_payments').filter_chains as Chain[])[0]!.filters[0]!.typed_config.http_filters!;
    const fault = localhost.find((f) => f.name === 'envoy.filters.http.fault')!;
    expect(virtualHost(rendered, 'payments').typed_per_filter_config!['envoy.filters.http.fault']).toEqual(fault.typed_config);
  });

  it('keeps the rate-limit buckets and the mirror policy on the routes, as on the localhost route', () => {
    const routes = virtualHost(rendered, 'payments').routes;
    expect(routes.map((r) => [(r.typed_per_filter_config as Record<string, { token_bucket?: unknown }> | undefined)?.['envoy.filters.http.local_ratelimit']?.token_bucket, (r.route as { request_mirror_policies?: { cluster: string }[] }).request_mirror_policies?.[0]?.cluster])).toEqual([
      [{ max_tokens: 20, tokens_per_fill: 10, fill_interval: '1s' }, 'payments-canary'],
      [undefined, 'payments-canary'],
    ]);
    expect(routes).toEqual((byName(rendered.routes, 'outbound_payments').virtual_hosts as VirtualHost[])[0]!.routes);
  });

  it('changes only the route configuration when faults or limits change, once the filters are there', () => {
    const changed = render(
      orders({
        faults: { abort: { percent: 50, httpStatus: 429 } },
        mirror: { service: 'payments-canary', percent: 20 },
        routes: [{ match: { pathPrefix: '/refunds' }, rateLimit: { requestsPerSecond: 1 } }],
      }),
    );
    expect(contentVersion(byName(changed.listeners, 'transparent_outbound'))).toBe(contentVersion(byName(rendered.listeners, 'transparent_outbound')));
    expect(contentVersion(byName(changed.routes, 'transparent_outbound'))).not.toBe(contentVersion(byName(rendered.routes, 'transparent_outbound')));
  });

  it('renders as before when no dependency asks for them', () => {
    const plain = render(orders({}));
    expect(chainFilters(plain, 'http_8080').map((f) => f.name)).toEqual(['envoy.filters.http.router']);
    expect(JSON.stringify(byName(plain.routes, 'transparent_outbound'))).not.toContain('typed_per_filter_config');
  });

  it('serves a gRPC dependency its gRPC abort, and the filters on its own port only', () => {
    const grpc = render(orders({}, { faults: { abort: { percent: 100, grpcStatus: 14 } } }));
    expect(chainFilters(grpc, 'http_9090').map((f) => f.name)).toEqual(['envoy.filters.http.fault', 'envoy.filters.http.router']);
    expect(chainFilters(grpc, 'http_8080').map((f) => f.name)).toEqual(['envoy.filters.http.router']);
    expect(virtualHost(grpc, 'inventory').typed_per_filter_config).toEqual({
      'envoy.filters.http.fault': { '@type': faultType, abort: { grpc_status: 14, percentage: { numerator: 1000000, denominator: 'MILLION' } } },
    });
  });

  it('decodes strictly against Envoy’s protos', () => {
    for (const resource of [...rendered.listeners!, ...rendered.routes!]) assertConformant(resource);
  });
});
