import { observabilityDefaults } from '../model/defaults';
import { ServiceSpec } from '../model/spec';
import { TracingProvider } from '../model/spec-observability';
import { names } from './names';
import { RenderSettings } from './settings';

/**
 * Request tracing: the HTTP connection manager's `tracing` block, with Envoy's X-Ray tracer
 * (segments over UDP to the X-Ray daemon beside Envoy) or its OpenTelemetry tracer (OTLP over
 * gRPC to a collector beside Envoy, through the bootstrap's static cluster). Every HTTP listener
 * of the service traces (inbound, external and each outbound one), so a call shows as the
 * caller's client span and the callee's server span. Proxyless gRPC clients are not traced
 * here: gRPC ignores the HCM's tracing (GRPC-XDS.md), and their forms carry none.
 */

const xrayType = 'type.googleapis.com/envoy.config.trace.v3.XRayConfig';
const openTelemetryType = 'type.googleapis.com/envoy.config.trace.v3.OpenTelemetryConfig';

/** TracingPolicy is a service's effective tracing: the spec over the mesh-wide default, gaps filled from defaults.ts. */
export interface TracingPolicy {
  readonly provider: TracingProvider;
  readonly samplingPercent: number;
  readonly collectorPort: number;
}

/** tracingPolicy resolves whether and how a service's Envoys trace; undefined when no provider is declared. */
export function tracingPolicy(spec: Pick<ServiceSpec, 'observability'>, settings: Pick<RenderSettings, 'observability'>): TracingPolicy | undefined {
  const own = spec.observability?.tracing;
  const mesh = settings.observability?.tracing;
  const provider = own?.provider ?? mesh?.provider;
  if (!provider) return undefined;
  // A service that names another provider than the mesh does not inherit the mesh's port for it.
  const sameProvider = !own?.provider || own.provider === mesh?.provider;
  const d = observabilityDefaults.tracing;
  return {
    provider,
    samplingPercent: own?.samplingPercent ?? mesh?.samplingPercent ?? d.samplingPercent,
    collectorPort: own?.collectorPort ?? (sameProvider ? mesh?.collectorPort : undefined) ?? d.collectorPort[provider],
  };
}

/** tracingProvider is the HCM's tracer: X-Ray's segments named after the service, or OTLP spans of the service. */
function tracingProvider(service: string, policy: TracingPolicy): Record<string, unknown> {
  if (policy.provider === 'xray') {
    return {
      name: 'envoy.tracers.xray',
      typed_config: {
        '@type': xrayType,
        segment_name: service,
        daemon_endpoint: { protocol: 'UDP', address: '127.0.0.1', port_value: policy.collectorPort },
      },
    };
  }
  return {
    name: 'envoy.tracers.opentelemetry',
    typed_config: {
      '@type': openTelemetryType,
      grpc_service: { envoy_grpc: { cluster_name: names.otelCollectorCluster }, timeout: '0.250s' },
      service_name: service,
    },
  };
}

/**
 * hcmTracing is the HTTP connection manager's `tracing` field for a service's listener, or
 * undefined when the service does not trace. `random_sampling` applies to requests that come
 * without a decision; a request whose x-request-id (or trace header) already says "sampled"
 * stays sampled, so the caller's decision carries through every hop.
 */
export function hcmTracing(spec: Pick<ServiceSpec, 'name' | 'observability'>, settings: Pick<RenderSettings, 'observability'>): Record<string, unknown> | undefined {
  const policy = tracingPolicy(spec, settings);
  if (!policy) return undefined;
  return {
    random_sampling: { value: policy.samplingPercent },
    provider: tracingProvider(spec.name, policy),
  };
}

/**
 * otelCollectorCluster is the bootstrap's static cluster to the collector beside Envoy (OTLP
 * over gRPC, so HTTP/2). It lives in the bootstrap, not CDS: a tracer's cluster must exist when
 * the listener that names it is applied, and CDS and LDS polls are independent.
 */
export function otelCollectorCluster(port: number): Record<string, unknown> {
  return {
    name: names.otelCollectorCluster,
    type: 'STATIC',
    connect_timeout: '1s',
    load_assignment: {
      cluster_name: names.otelCollectorCluster,
      endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: port } } } }] }],
    },
    typed_extension_protocol_options: {
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
        '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
        explicit_http_config: { http2_protocol_options: {} },
      },
    },
  };
}
