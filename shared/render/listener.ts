import { Dependency, ServiceSpec } from '../model/spec';
import { EnvoyResource, typeUrls } from '../envoy/resources';
import { httpAccessLog, tcpAccessLog } from './access-log';
import { names } from './names';
import { DependencyPolicy, dependencyPolicy, duration, servicePolicy } from './policy';
import { subsetMatch } from './route';
import { tcpHashPolicy } from './affinity';
import { RenderSettings, configSource } from './settings';
import { hcmTracing } from './tracing';
import { inboundTrafficFilters, outboundTrafficFilters, withFilters } from './traffic';

const hcmType = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const tcpProxyType = 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy';
const routerType = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';
const uuidRequestIdType = 'type.googleapis.com/envoy.extensions.request_id.uuid.v3.UuidRequestIdConfig';

/**
 * ListenerOptions are what later layers add to a listener without this file knowing them:
 * a downstream transport socket (mTLS), HTTP filters that run before the router (JWT, RBAC)
 * and network filters that run before the TCP proxy or HTTP connection manager (RBAC on TCP).
 */
export interface ListenerOptions {
  readonly transportSocket?: Record<string, unknown>;
  readonly httpFilters?: readonly Record<string, unknown>[];
  readonly networkFilters?: readonly Record<string, unknown>[];
}

/** OutboundListenerOptions add the caller's policy for the dependency (its split, for TCP). */
export interface OutboundListenerOptions extends ListenerOptions {
  readonly policy?: DependencyPolicy;
}

export interface HcmParams {
  readonly statPrefix: string;
  readonly routeName: string;
  readonly direction: 'inbound' | 'outbound';
  readonly spec: ServiceSpec;
  readonly preserveExternalRequestId: boolean;
}

export function httpConnectionManager(p: HcmParams, settings: RenderSettings, options: ListenerOptions): Record<string, unknown> {
  const policy = servicePolicy(p.spec);
  const tracing = hcmTracing(p.spec, settings);
  return {
    name: 'envoy.filters.network.http_connection_manager',
    typed_config: {
      '@type': hcmType,
      stat_prefix: p.statPrefix,
      codec_type: 'AUTO',
      rds: { config_source: configSource(settings), route_config_name: p.routeName },
      http_filters: [...(options.httpFilters ?? []), { name: 'envoy.filters.http.router', typed_config: { '@type': routerType } }],
      ...(policy.accessLog ? { access_log: [httpAccessLog(p.spec.name, p.direction)] } : {}),
      generate_request_id: policy.generateRequestId,
      preserve_external_request_id: p.preserveExternalRequestId,
      ...(policy.generateRequestId ? { request_id_extension: { typed_config: { '@type': uuidRequestIdType } } } : {}),
      ...(tracing ? { tracing } : {}),
    },
  };
}

/** tcpTarget is the dependency's cluster, or its subsets by weight (TCP proxy weights must be at least 1), and what it hashes under affinity. */
function tcpTarget(cluster: string, policy: DependencyPolicy): Record<string, unknown> {
  const split = policy.split.filter((s) => s.weight > 0);
  if (split.length === 0) return { cluster, ...tcpHashPolicy(policy.affinity) };
  return {
    weighted_clusters: {
      clusters: split.map((s) => ({ name: cluster, weight: s.weight, metadata_match: subsetMatch(s.labels) })),
    },
    ...tcpHashPolicy(policy.affinity),
  };
}

function tcpProxy(
  statPrefix: string,
  target: Record<string, unknown>,
  idleTimeoutMs: number,
  spec: ServiceSpec,
  direction: 'inbound' | 'outbound',
): Record<string, unknown> {
  return {
    name: 'envoy.filters.network.tcp_proxy',
    typed_config: {
      '@type': tcpProxyType,
      stat_prefix: statPrefix,
      ...target,
      idle_timeout: duration(idleTimeoutMs),
      ...(servicePolicy(spec).accessLog ? { access_log: [tcpAccessLog(spec.name, direction)] } : {}),
    },
  };
}

function listener(
  name: string,
  address: string,
  port: number,
  filter: Record<string, unknown>,
  options: ListenerOptions,
): EnvoyResource {
  return {
    '@type': typeUrls.listeners,
    name,
    address: { socket_address: { address, port_value: port } },
    filter_chains: [
      {
        filters: [...(options.networkFilters ?? []), filter],
        ...(options.transportSocket ? { transport_socket: options.transportSocket } : {}),
      },
    ],
  };
}

/** payloadFilter is the last filter of a listener that serves the payload: a TCP proxy to it, or HTTP through the inbound route. */
export function payloadFilter(spec: ServiceSpec, statPrefix: string, settings: RenderSettings, options: ListenerOptions): Record<string, unknown> {
  const policy = servicePolicy(spec);
  if (spec.protocol === 'tcp') return tcpProxy(statPrefix, { cluster: names.localAppCluster }, policy.inboundIdleTimeoutMs, spec, 'inbound');
  return httpConnectionManager(
    { statPrefix, routeName: names.inboundRoute, direction: 'inbound', spec, preserveExternalRequestId: policy.preserveExternalRequestId },
    settings,
    withFilters(options, inboundTrafficFilters(spec)),
  );
}

/** inboundListener accepts mesh traffic on every interface at the service's inbound port. */
export function inboundListener(spec: ServiceSpec, settings: RenderSettings, options: ListenerOptions = {}): EnvoyResource {
  const filter = payloadFilter(spec, servicePolicy(spec).statsPrefix, settings, options);
  return listener(names.inboundListener, '0.0.0.0', spec.inboundPort, filter, options);
}

/** outboundTcpProxy carries a caller's TCP connections to one dependency: its cluster, or its subsets by weight. */
export function outboundTcpProxy(caller: ServiceSpec, dependency: ServiceSpec, policy: DependencyPolicy): Record<string, unknown> {
  const statPrefix = names.outboundStatPrefix(dependency.name);
  return tcpProxy(statPrefix, tcpTarget(names.serviceCluster(dependency.name), policy), policy.idleTimeoutMs, caller, 'outbound');
}

/**
 * outboundHttpConnectionManager is a caller's HTTP on its way out, routed by `routeName`: the
 * payload's request id is always kept, so a trace follows the call through; the caller's
 * access-log and request-id settings apply.
 */
export function outboundHttpConnectionManager(
  caller: ServiceSpec,
  statPrefix: string,
  routeName: string,
  settings: RenderSettings,
  options: ListenerOptions = {},
): Record<string, unknown> {
  return httpConnectionManager({ statPrefix, routeName, direction: 'outbound', spec: caller, preserveExternalRequestId: true }, settings, options);
}

/**
 * outboundListener is where the caller's payload reaches one dependency: loopback only, at
 * its local port.
 */
export function outboundListener(
  caller: ServiceSpec,
  dep: Dependency,
  dependency: ServiceSpec,
  settings: RenderSettings,
  options: OutboundListenerOptions = {},
): EnvoyResource {
  const policy = options.policy ?? dependencyPolicy(dep, dependency.protocol);
  const filter =
    dependency.protocol === 'tcp'
      ? outboundTcpProxy(caller, dependency, policy)
      : outboundHttpConnectionManager(
          caller,
          names.outboundStatPrefix(dependency.name),
          names.outboundRoute(dependency.name),
          settings,
          withFilters(options, outboundTrafficFilters(dependency.name, policy)),
        );
  return listener(names.outboundListener(dependency.name), '127.0.0.1', dep.localPort, filter, options);
}

/**
 * externalListener accepts traffic from outside the mesh (a load balancer) on its own port:
 * plaintext, no client certificate and no caller allow-list, which only mean something for
 * mesh callers. It routes like the inbound listener (the same route configuration, so the same
 * timeouts); HTTP filters passed in (a JWT check) still apply. Undefined without `inbound.external`.
 */
export function externalListener(spec: ServiceSpec, settings: RenderSettings, options: Pick<ListenerOptions, 'httpFilters'> = {}): EnvoyResource | undefined {
  const port = spec.inbound?.external?.port;
  if (port === undefined) return undefined;
  return listener(names.externalListener, '0.0.0.0', port, payloadFilter(spec, names.externalStatPrefix, settings, options), options);
}
