import { InconsistentSnapshotError } from '../errors';
import { NodeWorld } from '../model/node-world';
import { ServiceSpec } from '../model/spec';
import type { GatewayListener, GatewayRoute } from '../model/spec-edges';
import { dependencyNamesOf } from '../model/service-terms';
import { EnvoyResource, SnapshotResources, byResourceName, typeUrls } from '../envoy/resources';
import { dependencyCluster } from './cluster';
import { httpConnectionManager } from './listener';
import { gatewayHealthListener } from './gateway-health';
import { names } from './names';
import { dependencyPolicy, duration } from './policy';
import { dependencyTransportSocket } from './security';
import { RenderSettings, configSource } from './settings';

/**
 * Ingress gateways (`kind: "gateway"`): Envoys with no payload that take traffic from outside
 * the mesh on their listeners and route it by host and path to mesh services. Towards those
 * services a gateway is a caller like any other: EDS clusters with mTLS, its own mesh
 * certificate as client certificate, and its routes count as dependencies, so the services
 * admit it by default. A TLS listener terminates with the operator's certificate, fetched
 * over SDS like the mesh certificates (never inline in LDS).
 */

const downstreamTlsContextType = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext';

/** gatewayTlsPorts lists the ports of a gateway's TLS listeners (whose certificates its nodes are served). */
export function gatewayTlsPorts(spec: Pick<ServiceSpec, 'listeners'>): number[] {
  return (spec.listeners ?? []).filter((l) => l.tls).map((l) => l.port);
}

/** gatewayTlsTransportSocket terminates TLS with the operator's certificate for one listener; no client certificate is asked for. */
function gatewayTlsTransportSocket(gateway: string, listener: GatewayListener, settings: RenderSettings): Record<string, unknown> {
  return {
    name: 'envoy.transport_sockets.tls',
    typed_config: {
      '@type': downstreamTlsContextType,
      common_tls_context: {
        alpn_protocols: listener.protocol === 'http' ? ['h2', 'http/1.1'] : ['h2'],
        tls_certificate_sds_secret_configs: [{ name: names.gatewayCertificateSecret(gateway, listener.port), sds_config: configSource(settings) }],
      },
    },
  };
}

/**
 * gatewayListener accepts outside traffic on one port: an HTTP connection manager that is the
 * edge of the mesh (it appends the client's address to X-Forwarded-For, and matches hosts
 * without their port), routing through the gateway's route configuration.
 */
export function gatewayListener(spec: ServiceSpec, listener: GatewayListener, settings: RenderSettings): EnvoyResource {
  const hcm = httpConnectionManager(
    { statPrefix: names.gatewayListener(listener.port), routeName: names.gatewayRoute, direction: 'inbound', spec, preserveExternalRequestId: false },
    settings,
    {},
  );
  const typedConfig = hcm.typed_config as Record<string, unknown>;
  return {
    '@type': typeUrls.listeners,
    name: names.gatewayListener(listener.port),
    address: { socket_address: { address: '0.0.0.0', port_value: listener.port } },
    filter_chains: [
      {
        filters: [{ ...hcm, typed_config: { ...typedConfig, use_remote_address: true, strip_any_host_port: true } }],
        ...(listener.tls ? { transport_socket: gatewayTlsTransportSocket(spec.name, listener, settings) } : {}),
      },
    ],
  };
}

/** gatewayRoute is one route of a virtual host: by path prefix or exact path, to the service's cluster. */
function gatewayRoute(route: GatewayRoute, timeoutMs: number): Record<string, unknown> {
  const match = route.exactPath !== undefined ? { path: route.exactPath } : { prefix: route.pathPrefix };
  return {
    match,
    route: {
      cluster: names.serviceCluster(route.service),
      timeout: duration(timeoutMs),
      ...(route.rewritePrefix !== undefined ? { prefix_rewrite: route.rewritePrefix } : {}),
    },
  };
}

/**
 * gatewayRouteConfiguration groups a gateway's routes into virtual hosts by their host names
 * (routes without host names answer any host, in a `*` virtual host), keeping the declared order
 * within each: the first route that matches a request takes it. Each route carries the
 * dependency defaults' timeout for the service's protocol.
 */
export function gatewayRouteConfiguration(spec: ServiceSpec, world: NodeWorld): EnvoyResource {
  const hosts = new Map<string, { domains: string[]; routes: Record<string, unknown>[] }>();
  for (const route of spec.routes ?? []) {
    const domains = [...new Set(route.hostnames ?? ['*'])].sort();
    const key = domains.join(',');
    const protocol = world.dependencies.get(route.service)?.protocol ?? 'http';
    const host = hosts.get(key) ?? { domains, routes: [] };
    host.routes.push(gatewayRoute(route, dependencyPolicy({}, protocol).timeoutMs));
    hosts.set(key, host);
  }
  // A name in two virtual hosts is a config Envoy rejects; checkEdgeSpec keeps equal sets together.
  const virtualHosts = [...hosts.entries()]
    .sort(([a], [b]) => (a === '*' ? 1 : b === '*' ? -1 : a < b ? -1 : a > b ? 1 : 0))
    .map(([key, h]) => ({ name: key === '*' ? 'any' : key, domains: h.domains, routes: h.routes }));
  return { '@type': typeUrls.routes, name: names.gatewayRoute, virtual_hosts: virtualHosts };
}

/**
 * renderGatewaySnapshot is a gateway's LDS, RDS and CDS: one listener per declared port and the
 * health listener (gateway-health.ts), the shared route configuration, and an mTLS cluster per
 * routed service, each list sorted by name.
 */
export function renderGatewaySnapshot(world: NodeWorld, settings: RenderSettings): SnapshotResources {
  const { spec } = world;
  const clusters = dependencyNamesOf(spec).map((service) => {
    const dependency = world.dependencies.get(service);
    if (!dependency) throw new InconsistentSnapshotError(spec.name, [`routed service "${service}" of gateway "${spec.name}" is not declared`]);
    const transportSocket = dependencyTransportSocket(spec, dependency, settings);
    return dependencyCluster(dependency, settings, { policy: dependencyPolicy({}, dependency.protocol), ...(transportSocket ? { transportSocket } : {}) });
  });
  return {
    listeners: [...(spec.listeners ?? []).map((l) => gatewayListener(spec, l, settings)), gatewayHealthListener()].sort(byResourceName),
    routes: [gatewayRouteConfiguration(spec, world)],
    clusters: clusters.sort(byResourceName),
  };
}
