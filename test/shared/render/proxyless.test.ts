import { proxylessCluster, proxylessListener, proxylessLoadAssignment, renderProxylessSnapshot } from '../../../shared/render/proxyless';
import { clusterLoadAssignment } from '../../../shared/render/endpoint';
import { checkSnapshotConsistency } from '../../../shared/render/snapshot';
import { typeUrls } from '../../../shared/envoy/resources';
import { assertConformant } from '../../support/envoy-schema';
import { endpoint, spec, world } from './fixtures';

const payments = spec({ name: 'payments', protocol: 'grpc' });
const audit = spec({ name: 'audit', protocol: 'tcp' });
const orders = spec({
  name: 'orders',
  dependencies: [
    { service: 'payments', localPort: 9001, connectTimeoutMs: 2000 },
    { service: 'audit', localPort: 9002 },
  ],
});

describe('proxyless gRPC rendering', () => {
  it('renders the API listener named as the dial target, routing any path inline to the cluster', () => {
    const listener = proxylessListener(payments);
    expect(listener).toEqual({
      '@type': typeUrls.listeners,
      name: 'payments',
      api_listener: {
        api_listener: {
          '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
          stat_prefix: 'outbound_payments',
          route_config: {
            name: 'outbound_payments',
            virtual_hosts: [
              {
                name: 'payments',
                domains: ['*'],
                routes: [
                  {
                    match: { prefix: '' },
                    route: {
                      cluster: 'payments',
                      max_stream_duration: { max_stream_duration: '15s' },
                      // The defaults for a gRPC dependency: its gRPC conditions only (connect-failure and the like are Envoy's).
                      retry_policy: { retry_on: 'unavailable,cancelled', num_retries: 2, retry_back_off: { base_interval: '0.025s', max_interval: '0.25s' } },
                    },
                  },
                ],
              },
            ],
          },
          http_filters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } }],
        },
      },
    });
    assertConformant(listener);
  });

  it("carries the caller's timeout as max_stream_duration and its gRPC retry conditions with a back-off (gRPC A31, A44)", () => {
    const dep = spec({ name: 'orders', dependencies: [{ service: 'payments', localPort: 9001, timeoutMs: 2500, retries: { numRetries: 3, retryOn: ['unavailable', 'cancelled'] } }] }).dependencies[0]!;
    const listener = proxylessListener(payments, dep);
    const route = JSON.parse(JSON.stringify(listener)).api_listener.api_listener.route_config.virtual_hosts[0].routes[0].route;
    expect(route).toEqual({
      cluster: 'payments',
      max_stream_duration: { max_stream_duration: '2.5s' },
      retry_policy: { retry_on: 'unavailable,cancelled', num_retries: 3, retry_back_off: { base_interval: route.retry_policy.retry_back_off.base_interval, max_interval: route.retry_policy.retry_back_off.max_interval } },
    });
    assertConformant(listener);
  });

  it("renders an EDS cluster whose endpoints come over ADS, with the caller's connect timeout", () => {
    const cluster = proxylessCluster(payments, orders.dependencies[0]);
    expect(cluster).toEqual({
      '@type': typeUrls.clusters,
      name: 'payments',
      type: 'EDS',
      eds_cluster_config: { eds_config: { ads: {}, resource_api_version: 'V3' }, service_name: 'payments' },
      connect_timeout: '2s',
      lb_policy: 'ROUND_ROBIN',
    });
    assertConformant(cluster);
  });

  it('renders a listener and a cluster per HTTP-family dependency, none for TCP ones, and the snapshot is consistent', () => {
    const snapshot = renderProxylessSnapshot(world(orders, [payments, audit]));
    expect(snapshot.listeners?.map((l) => l.name)).toEqual(['payments']);
    expect(snapshot.clusters?.map((c) => c.name)).toEqual(['payments']);
    expect(snapshot.routes).toEqual([]);
    expect(checkSnapshotConsistency(snapshot, 'orders')).toEqual([]);
  });

  it('lists only HEALTHY endpoints in weighted localities, an empty locality where the zone is unknown', () => {
    const stored = clusterLoadAssignment('payments', [
      endpoint('payments', 'a', { zone: 'us-east-1a', address: '10.0.0.1' }),
      endpoint('payments', 'b', { zone: 'us-east-1a', address: '10.0.0.2', labels: { weight: '3' } }),
      endpoint('payments', 'c', { zone: 'us-east-1b', address: '10.0.0.3', health: 'draining' }),
      endpoint('payments', 'd', { address: '127.0.0.1', health: 'unhealthy' }),
      endpoint('payments', 'e', { address: '127.0.0.1' }),
    ]);
    const cla = proxylessLoadAssignment(stored);
    const localities = cla.endpoints as { locality: unknown; load_balancing_weight: number; lb_endpoints: { endpoint: { address: { socket_address: { address: string } } } }[] }[];
    expect(localities.map((l) => [l.locality, l.load_balancing_weight, l.lb_endpoints.map((e) => e.endpoint.address.socket_address.address)])).toEqual([
      [{}, 1, ['127.0.0.1']],
      [{ zone: 'us-east-1a' }, 4, ['10.0.0.1', '10.0.0.2']],
    ]);
    assertConformant(cla);
  });
});
