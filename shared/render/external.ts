import { edgeDefaults, serviceDefaults } from '../model/defaults';
import { Dependency, ServiceSpec } from '../model/spec';
import { EnvoyResource, typeUrls } from '../envoy/resources';
import { circuitBreakers, outlierDetection, upstreamProtocolOptions, usesHttp2 } from './cluster';
import { names } from './names';
import { DependencyPolicy, duration } from './policy';
import { RenderSettings } from './settings';

/**
 * Services outside the mesh (`kind: "external"`): a dependent reaches one through its local
 * port like any dependency, and its sidecar resolves the hosts by DNS and, with `tls: true`,
 * originates TLS (SNI, the host's certificate verified against the system CA bundle). The
 * payload speaks plaintext to 127.0.0.1; it never handles the external certificate.
 *
 * One host is a LOGICAL_DNS cluster: Envoy connects to the first address the name resolves to
 * and re-resolves in the background, without churning its connection pool when a large
 * provider rotates addresses on every lookup (Envoy's advice for internet hosts). Several
 * hosts are a STRICT_DNS cluster, balancing across every address of every host (LOGICAL_DNS
 * takes exactly one host).
 */

const upstreamTlsContextType = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext';

/** systemCaBundlePath is where the sidecar finds the CAs that public hosts' certificates chain to. */
export function systemCaBundlePath(settings: RenderSettings): string {
  return settings.systemCaBundlePath ?? serviceDefaults.jwt.systemCaBundlePath;
}

/**
 * externalTlsTransportSocket originates TLS to an external service: SNI is its first host, the
 * peer must present a certificate for one of its hosts that chains to the system CAs. ALPN
 * offers h2 where the dependency speaks HTTP/2.
 */
export function externalTlsTransportSocket(external: ServiceSpec, settings: RenderSettings): Record<string, unknown> {
  const hosts = external.hosts ?? [];
  return {
    name: 'envoy.transport_sockets.tls',
    typed_config: {
      '@type': upstreamTlsContextType,
      sni: hosts[0],
      common_tls_context: {
        ...(usesHttp2(external.protocol) ? { alpn_protocols: ['h2'] } : {}),
        validation_context: {
          trusted_ca: { filename: systemCaBundlePath(settings) },
          match_typed_subject_alt_names: hosts.map((h) => ({ san_type: 'DNS', matcher: { exact: h } })),
        },
      },
    },
  };
}

/**
 * externalCluster is a dependent's cluster towards an external service: its hosts by DNS at its
 * port, with the dependent's circuit breakers and outlier detection, and TLS when it says so.
 * The connect timeout is the dependency entry's, else a longer default than inside the VPC.
 */
export function externalCluster(external: ServiceSpec, dep: Pick<Dependency, 'connectTimeoutMs'>, policy: DependencyPolicy, settings: RenderSettings): EnvoyResource {
  const hosts = external.hosts ?? [];
  const name = names.serviceCluster(external.name);
  return {
    '@type': typeUrls.clusters,
    name,
    type: hosts.length === 1 ? 'LOGICAL_DNS' : 'STRICT_DNS',
    dns_lookup_family: 'V4_PREFERRED',
    connect_timeout: duration(dep.connectTimeoutMs ?? edgeDefaults.externalConnectTimeoutMs),
    lb_policy: 'ROUND_ROBIN',
    load_assignment: {
      cluster_name: name,
      endpoints: [{ lb_endpoints: hosts.map((h) => ({ endpoint: { address: { socket_address: { address: h, port_value: external.port } } } })) }],
    },
    circuit_breakers: circuitBreakers(policy),
    ...outlierDetection(policy),
    ...upstreamProtocolOptions(external.protocol),
    ...(external.tls ? { transport_socket: externalTlsTransportSocket(external, settings) } : {}),
  };
}

/**
 * withHostRewrite makes every route of a dependent's outbound route configuration towards an
 * external service set Host / :authority to the host it connects to (auto_host_rewrite, which
 * Envoy applies on DNS clusters): the payload calls 127.0.0.1:<localPort>, the provider sees
 * its own name.
 */
export function withHostRewrite(route: EnvoyResource): EnvoyResource {
  const hosts = (route.virtual_hosts as { routes?: { route?: Record<string, unknown> }[] }[] | undefined) ?? [];
  return {
    ...route,
    virtual_hosts: hosts.map((h) => ({
      ...h,
      routes: (h.routes ?? []).map((r) => (r.route ? { ...r, route: { ...r.route, auto_host_rewrite: true } } : r)),
    })),
  };
}
