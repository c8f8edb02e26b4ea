import { proxylessCluster, proxylessClusters, proxylessListener, proxylessLoadAssignment, renderProxylessSnapshot } from '../../../shared/render/proxyless';
import { assignmentSource, subsetCluster, subsetOfCluster } from '../../../shared/render/names';
import { clusterLoadAssignment } from '../../../shared/render/endpoint';
import { checkSnapshotConsistency } from '../../../shared/render/snapshot';
import { typeUrls } from '../../../shared/envoy/resources';
import { assertConformant } from '../../support/envoy-schema';
import { endpoint, settings, spec, world } from './fixtures';

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
    const snapshot = renderProxylessSnapshot(world(orders, [payments, audit]), settings);
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

  describe('splits and header routes (one cluster per subset: gRPC has no subset load balancer)', () => {
    const canary = spec({
      name: 'orders',
      dependencies: [
        {
          service: 'payments',
          localPort: 9001,
          timeoutMs: 2500,
          split: { subsets: [{ labels: { revision: '1' }, weight: 80 }, { labels: { revision: '2' }, weight: 20 }, { labels: { revision: '3' }, weight: 0 }] },
          headerRoutes: [
            { header: 'x-canary', exact: 'yes', subset: { revision: '2' } },
            { header: 'x-debug', subset: { revision: '2', track: 'debug' } },
          ],
        },
      ],
    });
    const dep = canary.dependencies[0]!;

    it('names a subset cluster after its service and sorted, escaped labels, and reads the name back', () => {
      const labels = { track: 'a,b=c|d', revision: '2' };
      const name = subsetCluster('payments', labels);
      expect(name).toBe('payments|revision=2,track=a%2Cb%3Dc%7Cd');
      expect(subsetOfCluster(name)).toEqual({ service: 'payments', labels });
      expect(assignmentSource(name)).toBe('payments');
      expect(subsetOfCluster('payments')).toBeUndefined();
      expect(assignmentSource('payments')).toBe('payments');
      expect(subsetOfCluster('payments|revision')).toBeUndefined();
      expect(subsetOfCluster('payments|revision=%E0')).toBeUndefined();
    });

    it('routes header matches to their subsets first, then splits the rest by weight over the subsets with a weight', () => {
      const listener = proxylessListener(payments, dep);
      const routes = JSON.parse(JSON.stringify(listener)).api_listener.api_listener.route_config.virtual_hosts[0].routes;
      const action = { max_stream_duration: { max_stream_duration: '2.5s' }, retry_policy: routes[0].route.retry_policy };
      expect(routes).toEqual([
        { match: { prefix: '', headers: [{ name: 'x-canary', string_match: { exact: 'yes' } }] }, route: { cluster: 'payments|revision=2', ...action } },
        { match: { prefix: '', headers: [{ name: 'x-debug', present_match: true }] }, route: { cluster: 'payments|revision=2,track=debug', ...action } },
        {
          match: { prefix: '' },
          route: {
            weighted_clusters: { clusters: [{ name: 'payments|revision=1', weight: 80 }, { name: 'payments|revision=2', weight: 20 }] },
            ...action,
          },
        },
      ]);
      assertConformant(listener);
    });

    it('renders one EDS cluster over ADS per subset a route uses, and none for the whole service once a split replaces it', () => {
      const clusters = proxylessClusters(payments, dep);
      expect(clusters.map((c) => [c.name, (c.eds_cluster_config as { service_name: string }).service_name])).toEqual([
        ['payments|revision=1', 'payments|revision=1'],
        ['payments|revision=2', 'payments|revision=2'],
        ['payments|revision=2,track=debug', 'payments|revision=2,track=debug'],
      ]);
      for (const c of clusters) assertConformant(c);
      const snapshot = renderProxylessSnapshot(world(canary, [payments]), settings);
      expect(checkSnapshotConsistency(snapshot, 'orders')).toEqual([]);
      const headerOnly = spec({ name: 'orders', dependencies: [{ service: 'payments', localPort: 9001, headerRoutes: [{ header: 'x-canary', subset: { revision: '2' } }] }] });
      expect(proxylessClusters(payments, headerOnly.dependencies[0]).map((c) => c.name)).toEqual(['payments', 'payments|revision=2']);
    });

    it("gives a subset cluster only its subset's usable endpoints, under its own name, and every usable endpoint when the subset has none", () => {
      const stored = clusterLoadAssignment('payments', [
        endpoint('payments', 'a', { zone: 'us-east-1a', address: '10.0.0.1', labels: { revision: '1' } }),
        endpoint('payments', 'b', { zone: 'us-east-1b', address: '10.0.0.2', labels: { revision: '2', weight: '3' } }),
        endpoint('payments', 'c', { zone: 'us-east-1b', address: '10.0.0.3', labels: { revision: '2' }, health: 'draining' }),
        endpoint('payments', 'd', { zone: 'us-east-1b', address: '10.0.0.4', labels: { revision: '3' }, health: 'unhealthy' }),
      ]);
      const addresses = (cla: Record<string, unknown>) =>
        (cla.endpoints as { load_balancing_weight: number; lb_endpoints: { endpoint: { address: { socket_address: { address: string } } } }[] }[]).map((l) => [
          l.load_balancing_weight,
          l.lb_endpoints.map((e) => e.endpoint.address.socket_address.address),
        ]);
      const two = proxylessLoadAssignment(stored, 'payments|revision=2');
      expect(two.cluster_name).toBe('payments|revision=2');
      expect(addresses(two)).toEqual([[3, ['10.0.0.2']]]);
      expect(addresses(proxylessLoadAssignment(stored, 'payments|revision=1'))).toEqual([[1, ['10.0.0.1']]]);
      // revision 3 has no usable endpoint: the subset falls back to any (Envoy's ANY_ENDPOINT).
      expect(addresses(proxylessLoadAssignment(stored, 'payments|revision=3'))).toEqual([
        [1, ['10.0.0.1']],
        [3, ['10.0.0.2']],
      ]);
      expect(proxylessLoadAssignment(stored, 'payments').cluster_name).toBe('payments');
      assertConformant(two);
    });
  });
});
