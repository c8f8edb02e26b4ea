import { dependencyDefaults } from '../model/defaults';
import { Protocol, ServiceSpec } from '../model/spec';
import { EnvoyResource, typeUrls } from '../envoy/resources';
import { names } from './names';
import { DependencyPolicy, HealthCheckPolicy, dependencyPolicy, duration, subsetKeySets } from './policy';
import { ringHashLb } from './affinity';
import { RenderSettings, configSource } from './settings';

const httpProtocolOptionsType = 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions';

/** usesHttp2 is true where the upstream speaks HTTP/2 (gRPC is HTTP/2). */
export const usesHttp2 = (protocol: Protocol) => protocol === 'http2' || protocol === 'grpc';

/**
 * ClusterOptions are what a later layer adds to a cluster without this file knowing about
 * it: a transport socket (upstream TLS from the secret builder).
 */
export interface ClusterOptions {
  /** The caller's policy for this dependency; defaults to the dependency entry's defaults. */
  readonly policy?: DependencyPolicy;
  readonly transportSocket?: Record<string, unknown>;
}

/** upstreamProtocolOptions makes a cluster speak HTTP/2 to its hosts where the protocol needs it. */
export function upstreamProtocolOptions(protocol: Protocol): Record<string, unknown> {
  if (!usesHttp2(protocol)) return {};
  return {
    typed_extension_protocol_options: {
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
        '@type': httpProtocolOptionsType,
        explicit_http_config: { http2_protocol_options: {} },
      },
    },
  };
}

/** edsCluster is the common shape of a cluster whose hosts come from this control plane's EDS. */
function edsCluster(service: string, connectTimeoutMs: number, settings: RenderSettings): Record<string, unknown> {
  return {
    '@type': typeUrls.clusters,
    name: names.serviceCluster(service),
    type: 'EDS',
    eds_cluster_config: {
      eds_config: configSource(settings),
      service_name: names.serviceCluster(service),
    },
    connect_timeout: duration(connectTimeoutMs),
    lb_policy: 'ROUND_ROBIN',
  };
}

/** circuitBreakers bounds what one caller may load on a dependency; track_remaining feeds the remaining_* gauges. */
export function circuitBreakers(policy: DependencyPolicy): Record<string, unknown> {
  const cb = policy.circuitBreakers;
  return {
    thresholds: [
      {
        priority: 'DEFAULT',
        max_connections: cb.maxConnections,
        max_pending_requests: cb.maxPendingRequests,
        max_requests: cb.maxRequests,
        max_retries: cb.maxRetries,
        track_remaining: true,
      },
    ],
  };
}

/**
 * outlierDetection ejects hosts that keep failing. Gateway errors are enforced explicitly:
 * Envoy counts them but, by default (enforcing 0 %), never ejects on them.
 */
export function outlierDetection(policy: DependencyPolicy): Record<string, unknown> {
  const od = policy.outlierDetection;
  if (!od) return {};
  return {
    outlier_detection: {
      consecutive_5xx: od.consecutive5xx,
      enforcing_consecutive_5xx: 100,
      consecutive_gateway_failure: od.consecutiveGatewayErrors,
      enforcing_consecutive_gateway_failure: 100,
      interval: duration(od.intervalMs),
      base_ejection_time: duration(od.baseEjectionTimeMs),
      max_ejection_percent: od.maxEjectionPercent,
    },
  };
}

/** healthCheck is an active probe in the dependency's own protocol: HTTP path, gRPC health service, or TCP connect. */
function healthCheck(hc: HealthCheckPolicy, protocol: Protocol): Record<string, unknown> {
  const probe =
    protocol === 'tcp'
      ? { tcp_health_check: {} }
      : protocol === 'grpc'
        ? { grpc_health_check: hc.grpcServiceName ? { service_name: hc.grpcServiceName } : {} }
        : { http_health_check: { path: hc.path, ...(protocol === 'http2' ? { codec_client_type: 'HTTP2' } : {}) } };
  return {
    timeout: duration(hc.timeoutMs),
    interval: duration(hc.intervalMs),
    unhealthy_threshold: hc.unhealthyThreshold,
    healthy_threshold: hc.healthyThreshold,
    ...probe,
  };
}

/**
 * subsetConfig lets routes pick endpoints by label (the `envoy.lb` metadata EDS carries):
 * one selector per label-key set that splits and header routes use; requests whose subset
 * has no endpoint fall back to any endpoint rather than fail.
 */
function subsetConfig(policy: DependencyPolicy): Record<string, unknown> {
  const keySets = subsetKeySets(policy);
  if (keySets.length === 0) return {};
  return {
    lb_subset_config: {
      fallback_policy: 'ANY_ENDPOINT',
      subset_selectors: keySets.map((keys) => ({ keys })),
    },
  };
}

/**
 * zoneAware keeps traffic in the caller's zone while it has capacity. Envoy only applies it
 * when the bootstrap names a local cluster (see localServiceCluster) and the node has a zone.
 */
function zoneAware(policy: DependencyPolicy): Record<string, unknown> {
  if (!policy.zoneAware) return {};
  return {
    common_lb_config: {
      zone_aware_lb_config: {
        routing_enabled: { value: policy.zoneAware.routingEnabledPercent },
        min_cluster_size: policy.zoneAware.minClusterSize,
      },
    },
  };
}

/**
 * dependencyCluster renders the cluster a caller uses to reach a dependency: EDS, so host
 * changes apply in place and keep connections and health state; with the caller's circuit
 * breakers, outlier detection, optional health checks, subsets, and zone awareness or a hash
 * ring (affinity).
 */
export function dependencyCluster(dependency: ServiceSpec, settings: RenderSettings, options: ClusterOptions = {}): EnvoyResource {
  const policy = options.policy ?? dependencyPolicy({}, dependency.protocol);
  return {
    ...edsCluster(dependency.name, policy.connectTimeoutMs, settings),
    circuit_breakers: circuitBreakers(policy),
    ...outlierDetection(policy),
    ...(policy.healthCheck ? { health_checks: [healthCheck(policy.healthCheck, dependency.protocol)] } : {}),
    ...subsetConfig(policy),
    ...zoneAware(policy),
    ...(policy.affinity ? ringHashLb() : {}),
    ...upstreamProtocolOptions(dependency.protocol),
    ...(options.transportSocket ? { transport_socket: options.transportSocket } : {}),
  };
}

/**
 * localServiceCluster renders the service's own EDS cluster: the `local_cluster_name` that
 * zone-aware routing needs to know how the caller's own fleet spreads over zones. Envoy
 * requires that cluster in the bootstrap's static_resources (ClusterManagerImpl checks it
 * right after loading static clusters, before CDS starts), so the bootstrap generator
 * embeds this resource; it is never served in CDS.
 */
export function localServiceCluster(spec: ServiceSpec, settings: RenderSettings): EnvoyResource {
  return edsCluster(spec.name, 1_000, settings);
}

/**
 * localClusterName says what the bootstrap should set as `cluster_manager.local_cluster_name`
 * (with localServiceCluster in its static clusters): the service's own cluster when any of
 * its dependencies routes zone-aware, otherwise nothing.
 */
export function localClusterName(spec: ServiceSpec): string | undefined {
  const zoneAware = spec.dependencies.some((dep) => (dep.zoneAware?.enabled ?? dependencyDefaults.zoneAware.enabled) && !dep.affinity);
  return zoneAware ? names.localServiceCluster(spec.name) : undefined;
}

/** localAppCluster renders the cluster of the payload on this host, where inbound traffic goes. */
export function localAppCluster(spec: ServiceSpec, options: Pick<ClusterOptions, 'transportSocket'> = {}): EnvoyResource {
  return {
    '@type': typeUrls.clusters,
    name: names.localAppCluster,
    type: 'STATIC',
    connect_timeout: '1s',
    load_assignment: {
      cluster_name: names.localAppCluster,
      endpoints: [
        { lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: spec.appPort } } } }] },
      ],
    },
    ...upstreamProtocolOptions(spec.protocol),
    ...(options.transportSocket ? { transport_socket: options.transportSocket } : {}),
  };
}
