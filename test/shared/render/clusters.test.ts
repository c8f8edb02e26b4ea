import { dependencyCluster, localAppCluster, localClusterName, localServiceCluster } from '../../../shared/render/cluster';
import { names } from '../../../shared/render/names';
import { dependencyPolicy } from '../../../shared/render/policy';
import { renderSnapshot } from '../../../shared/render/snapshot';
import { restConfigSource } from '../../../shared/render/settings';
import { fullPolicy, settings, spec, world } from './fixtures';

const clusterType = 'type.googleapis.com/envoy.config.cluster.v3.Cluster';
const http2Options = {
  typed_extension_protocol_options: {
    'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
      '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
      explicit_http_config: { http2_protocol_options: {} },
    },
  },
};

describe('dependency clusters', () => {
  it('are EDS clusters with the default circuit breakers and outlier detection when nothing is declared', () => {
    const orders = spec({ name: 'orders' });
    expect(dependencyCluster(orders, settings)).toEqual({
      '@type': clusterType,
      name: 'orders',
      type: 'EDS',
      eds_cluster_config: { eds_config: restConfigSource(settings), service_name: 'orders' },
      connect_timeout: '1s',
      lb_policy: 'ROUND_ROBIN',
      circuit_breakers: {
        thresholds: [
          { priority: 'DEFAULT', max_connections: 1024, max_pending_requests: 1024, max_requests: 1024, max_retries: 3, track_remaining: true },
        ],
      },
      outlier_detection: {
        consecutive_5xx: 5,
        enforcing_consecutive_5xx: 100,
        consecutive_gateway_failure: 5,
        enforcing_consecutive_gateway_failure: 100,
        interval: '10s',
        base_ejection_time: '30s',
        max_ejection_percent: 50,
      },
    });
  });

  it('carry every declared policy: breakers, ejection, health check, subsets, zone awareness, HTTP/2', () => {
    const orders = spec({ name: 'orders', protocol: 'http2' });
    const policy = dependencyPolicy(spec({ name: 'web', dependencies: [fullPolicy('orders', 'http2', 7000)] }).dependencies[0]!, 'http2');
    expect(dependencyCluster(orders, settings, { policy })).toEqual({
      '@type': clusterType,
      name: 'orders',
      type: 'EDS',
      eds_cluster_config: { eds_config: restConfigSource(settings), service_name: 'orders' },
      connect_timeout: '0.25s',
      lb_policy: 'ROUND_ROBIN',
      circuit_breakers: {
        thresholds: [
          { priority: 'DEFAULT', max_connections: 100, max_pending_requests: 50, max_requests: 200, max_retries: 5, track_remaining: true },
        ],
      },
      outlier_detection: {
        consecutive_5xx: 3,
        enforcing_consecutive_5xx: 100,
        consecutive_gateway_failure: 2,
        enforcing_consecutive_gateway_failure: 100,
        interval: '5s',
        base_ejection_time: '15s',
        max_ejection_percent: 34,
      },
      health_checks: [
        {
          timeout: '1s',
          interval: '5s',
          unhealthy_threshold: 2,
          healthy_threshold: 1,
          http_health_check: { path: '/healthz', codec_client_type: 'HTTP2' },
        },
      ],
      lb_subset_config: { fallback_policy: 'ANY_ENDPOINT', subset_selectors: [{ keys: ['revision'] }, { keys: ['revision', 'track'] }] },
      common_lb_config: { zone_aware_lb_config: { routing_enabled: { value: 80 }, min_cluster_size: 3 } },
      ...http2Options,
    });
  });

  it.each([
    ['grpc', { grpc_health_check: { service_name: 'orders.v1.Orders' } }],
    ['tcp', { tcp_health_check: {} }],
    ['http', { http_health_check: { path: '/healthz' } }],
  ] as const)('probe a %s dependency in its own protocol', (protocol, probe) => {
    const policy = dependencyPolicy(
      spec({ name: 'web', dependencies: [fullPolicy('orders', protocol, 7000)] }).dependencies[0]!,
      protocol,
    );
    const [check] = dependencyCluster(spec({ name: 'orders', protocol }), settings, { policy }).health_checks as Record<string, unknown>[];
    expect(check).toMatchObject(probe);
  });

  it('leave out outlier detection when it is switched off', () => {
    const policy = dependencyPolicy({ outlierDetection: { enabled: false } }, 'http');
    expect(dependencyCluster(spec({ name: 'orders' }), settings, { policy })).not.toHaveProperty('outlier_detection');
  });

  it('take a transport socket from a later layer without knowing what it is', () => {
    const transportSocket = { name: 'envoy.transport_sockets.tls', typed_config: { '@type': 'x' } };
    expect(dependencyCluster(spec({ name: 'orders' }), settings, { transportSocket }).transport_socket).toBe(transportSocket);
    expect(localAppCluster(spec({ name: 'web' }), { transportSocket }).transport_socket).toBe(transportSocket);
  });
});

describe('the local app cluster', () => {
  it.each([
    ['http', false],
    ['http2', true],
    ['grpc', true],
    ['tcp', false],
  ] as const)('for a %s service speaks HTTP/2 to the payload: %s', (protocol, h2) => {
    const cluster = localAppCluster(spec({ name: 'web', protocol, appPort: 8081 }));
    expect(cluster.type).toBe('STATIC');
    expect(cluster.load_assignment).toEqual({
      cluster_name: 'local_app',
      endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: 8081 } } } }] }],
    });
    expect('typed_extension_protocol_options' in cluster).toBe(h2);
  });
});

describe('zone-aware routing', () => {
  const zoned = spec({ name: 'web', dependencies: [{ service: 'orders', localPort: 7000, zoneAware: { enabled: true } }] });
  const plain = spec({ name: 'web', dependencies: [{ service: 'orders', localPort: 7000 }] });

  it('names the service itself as the local cluster when a dependency routes zone-aware', () => {
    expect(localClusterName(zoned)).toBe(names.localServiceCluster('web'));
    expect(localClusterName(zoned)).toBe('web');
    expect(localClusterName(plain)).toBeUndefined();
  });

  it('renders the local cluster for the bootstrap as an EDS cluster of the service itself, never into CDS', () => {
    expect(localServiceCluster(zoned, settings)).toEqual({
      '@type': clusterType,
      name: 'web',
      type: 'EDS',
      eds_cluster_config: { eds_config: restConfigSource(settings), service_name: 'web' },
      connect_timeout: '1s',
      lb_policy: 'ROUND_ROBIN',
    });
    const cds = renderSnapshot(world(zoned, [spec({ name: 'orders' })]), settings).clusters ?? [];
    expect(cds.map((c) => c.name)).toEqual(['local_app', 'orders']);
    expect(cds[1]!.common_lb_config).toEqual({ zone_aware_lb_config: { routing_enabled: { value: 100 }, min_cluster_size: 6 } });
  });
});
