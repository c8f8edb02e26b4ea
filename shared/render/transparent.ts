import { InconsistentSnapshotError } from '../errors';
import { dependencyDefaults, interceptionDefaults } from '../model/defaults';
import { NodeWorld } from '../model/node-world';
import { ServiceSpec } from '../model/spec';
import { EnvoyResource, byResourceName, typeUrls } from '../envoy/resources';
import { tcpAccessLog } from './access-log';
import { outboundHttpConnectionManager, outboundTcpProxy } from './listener';
import { names } from './names';
import { DependencyPolicy, duration, servicePolicy } from './policy';
import { outboundRouteConfiguration } from './route';
import { RenderSettings } from './settings';
import { withFilters } from './traffic';
import { transparentTrafficFilters, transparentVirtualHostFilters } from './transparent-traffic';

/**
 * Transparent mode (spec-interception.ts): the payload calls services by name and the host
 * redirects its outbound TCP to Envoy's egress port. One listener there restores each
 * connection's original destination (the original_dst listener filter) and picks a filter
 * chain by destination port: a TCP dependency's port goes to that dependency; a port some HTTP
 * dependency is called at goes through one route configuration whose virtual hosts match the
 * Host header against each dependency's names; anything else passes through to where it was
 * going (an ORIGINAL_DST cluster), or is closed under `unknownDestinations: deny`. Envoy's own
 * traffic is never redirected (its UID is excluded), and a connection addressed to the egress
 * port itself, which would loop, ends in a cluster without hosts. The inbound side needs
 * nothing new: redirected inbound traffic arrives at the inbound listener's own port.
 */

const originalDstType = 'type.googleapis.com/envoy.extensions.filters.listener.original_dst.v3.OriginalDst';
const tcpProxyType = 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy';

/** Interception is a service's `interception` with every gap filled from defaults.ts. */
export interface InterceptionPolicy {
  readonly mode: 'localhost' | 'transparent';
  readonly egressPort: number;
  readonly egressIgnoredIps: readonly string[];
  readonly egressIgnoredPorts: readonly number[];
  readonly unknownDestinations: 'passthrough' | 'deny';
}

/** interceptionPolicy is how the service's own node intercepts (the always-ignored addresses first). */
export function interceptionPolicy(spec: ServiceSpec, settings: Pick<RenderSettings, 'egress'> = {}): InterceptionPolicy {
  const i = spec.interception ?? {};
  // The mesh's egress setting, when the deployment gives one, is every transparent service's default.
  const meshDefault = settings.egress === 'allow-all' ? 'passthrough' : settings.egress === 'allow-declared' ? 'deny' : undefined;
  return {
    mode: i.mode ?? interceptionDefaults.mode,
    egressPort: i.egressPort ?? interceptionDefaults.egressPort,
    egressIgnoredIps: [...new Set([...interceptionDefaults.egressIgnoredIps, ...(i.egressIgnoredIps ?? [])])],
    egressIgnoredPorts: [...new Set(i.egressIgnoredPorts ?? [])],
    unknownDestinations: i.unknownDestinations ?? meshDefault ?? interceptionDefaults.unknownDestinations,
  };
}

/** isTransparent is true for a service whose payload calls its dependencies by name. */
export function isTransparent(spec: ServiceSpec): boolean {
  return interceptionPolicy(spec).mode === 'transparent';
}

/** serviceDomainOf is the domain every service has a name under. */
export function serviceDomainOf(settings: Pick<RenderSettings, 'serviceDomain'>): string {
  return settings.serviceDomain ?? interceptionDefaults.serviceDomain;
}

/** serviceHostnames are the names a service answers to: `<name>.<serviceDomain>`, then what its spec lists. */
export function serviceHostnames(spec: ServiceSpec, settings: Pick<RenderSettings, 'serviceDomain'>): string[] {
  return [...new Set([`${spec.name}.${serviceDomainOf(settings)}`, ...(spec.interception?.hostnames ?? [])])];
}

/** servicePort is the port callers address a service at by name: its appPort unless the spec says otherwise. */
export function servicePort(spec: ServiceSpec): number {
  return spec.interception?.port ?? spec.appPort;
}

/** TransparentDependency is one dependency as the transparent listener sees it. */
export interface TransparentDependency {
  readonly dependency: ServiceSpec;
  readonly policy: DependencyPolicy;
}

/**
 * transparentProblems finds what a transparent caller's dependencies make impossible to route:
 * two dependencies told apart by nothing (a TCP one on a port another dependency also uses;
 * the same name claimed twice), and dependencies whose traffic would never reach Envoy (called
 * at the egress port or at an ignored port). Empty for a service in localhost mode.
 */
export function transparentProblems(
  caller: ServiceSpec,
  deps: readonly Pick<TransparentDependency, 'dependency'>[],
  settings: Pick<RenderSettings, 'serviceDomain' | 'egress'>,
): string[] {
  if (!isTransparent(caller)) return [];
  const own = interceptionPolicy(caller, settings);
  const problems: string[] = [];
  const byPort = new Map<number, ServiceSpec[]>();
  const byName = new Map<string, string>();
  for (const { dependency } of deps) {
    const port = servicePort(dependency);
    byPort.set(port, [...(byPort.get(port) ?? []), dependency]);
    if (port === own.egressPort) problems.push(`dependency "${dependency.name}" is called at port ${port}, the egress port of "${caller.name}"`);
    if (own.egressIgnoredPorts.includes(port)) {
      problems.push(`dependency "${dependency.name}" is called at port ${port}, which "${caller.name}" lists in interception.egressIgnoredPorts`);
    }
    if (dependency.protocol === 'tcp') continue;
    for (const host of serviceHostnames(dependency, settings)) {
      const first = byName.get(host);
      if (first !== undefined) problems.push(`dependencies "${first}" and "${dependency.name}" both answer to ${host}`);
      else byName.set(host, dependency.name);
    }
  }
  for (const [port, sharing] of byPort) {
    const tcp = sharing.filter((d) => d.protocol === 'tcp');
    if (tcp.length > 0 && sharing.length > 1) {
      problems.push(
        `dependencies ${sharing.map((d) => `"${d.name}"`).join(', ')} are all called at port ${port}: ` +
          'a TCP dependency needs a port of its own (interception.port)',
      );
    }
  }
  return problems;
}

function tcpProxyTo(caller: ServiceSpec, statPrefix: string, cluster: string): Record<string, unknown> {
  return {
    name: 'envoy.filters.network.tcp_proxy',
    typed_config: {
      '@type': tcpProxyType,
      stat_prefix: statPrefix,
      cluster,
      ...(servicePolicy(caller).accessLog ? { access_log: [tcpAccessLog(caller.name, 'outbound')] } : {}),
    },
  };
}

/** httpAt are the HTTP dependencies called at `port`: one connection manager serves them all. */
function httpAt(deps: readonly TransparentDependency[], port: number): TransparentDependency[] {
  return deps.filter((d) => d.dependency.protocol !== 'tcp' && servicePort(d.dependency) === port);
}

/** transparentOutboundListener is the listener on the egress port (see the top of this file). */
export function transparentOutboundListener(caller: ServiceSpec, deps: readonly TransparentDependency[], settings: RenderSettings): EnvoyResource {
  const own = interceptionPolicy(caller, settings);
  const tcp = deps.filter((d) => d.dependency.protocol === 'tcp').sort((a, b) => servicePort(a.dependency) - servicePort(b.dependency));
  const httpPorts = [...new Set(deps.filter((d) => d.dependency.protocol !== 'tcp').map((d) => servicePort(d.dependency)))].sort((a, b) => a - b);
  const name = names.transparentOutbound;
  return {
    '@type': typeUrls.listeners,
    name,
    // REDIRECT in the nat OUTPUT chain sends a local process's connection to 127.0.0.1.
    address: { socket_address: { address: '127.0.0.1', port_value: own.egressPort } },
    listener_filters: [{ name: 'envoy.filters.listener.original_dst', typed_config: { '@type': originalDstType } }],
    traffic_direction: 'OUTBOUND',
    filter_chains: [
      {
        name: 'loop_guard',
        filter_chain_match: { destination_port: own.egressPort },
        filters: [tcpProxyTo(caller, `${name}_loop`, names.blackholeCluster)],
      },
      ...tcp.map(({ dependency, policy }) => ({
        name: `tcp_${dependency.name}`,
        filter_chain_match: { destination_port: servicePort(dependency) },
        filters: [outboundTcpProxy(caller, dependency, policy)],
      })),
      ...httpPorts.map((port) => ({
        name: `http_${port}`,
        filter_chain_match: { destination_port: port },
        filters: [
          outboundHttpConnectionManager(
            caller,
            name,
            names.transparentOutbound,
            settings,
            withFilters({}, transparentTrafficFilters(name, httpAt(deps, port).map((d) => d.policy))),
          ),
        ],
      })),
    ],
    ...(own.unknownDestinations === 'passthrough'
      ? { default_filter_chain: { name: 'passthrough', filters: [tcpProxyTo(caller, `${name}_passthrough`, names.passthroughCluster)] } }
      : {}),
  };
}

/**
 * transparentOutboundRouteConfiguration routes the HTTP calls a transparent caller makes by
 * name: one virtual host per HTTP dependency, matching its names with and without its port,
 * carrying the same routes (header routes, split, timeouts, retries, rate limits, mirroring) as
 * its localhost route, and its faults (transparent-traffic.ts); then, under `passthrough`,
 * every other host to where it was going.
 */
export function transparentOutboundRouteConfiguration(
  caller: ServiceSpec,
  deps: readonly TransparentDependency[],
  settings: RenderSettings,
): EnvoyResource {
  const virtualHosts = deps
    .filter((d) => d.dependency.protocol !== 'tcp')
    .map(({ dependency, policy }) => {
      const port = servicePort(dependency);
      const routes = (outboundRouteConfiguration(dependency, { policy }).virtual_hosts as { routes: unknown[] }[])[0]!.routes;
      return {
        name: dependency.name,
        domains: serviceHostnames(dependency, settings).flatMap((h) => [h, `${h}:${port}`]),
        routes,
        ...transparentVirtualHostFilters(policy),
      };
    })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const passthrough =
    interceptionPolicy(caller, settings).unknownDestinations === 'passthrough'
      ? [{ name: names.passthroughCluster, domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: names.passthroughCluster, timeout: '0s' } }] }]
      : [];
  return { '@type': typeUrls.routes, name: names.transparentOutbound, virtual_hosts: [...virtualHosts, ...passthrough] };
}

/** transparentClusters are the egress listener's own: the host-less loop guard, and the passthrough unless denied. */
export function transparentClusters(caller: ServiceSpec, settings: Pick<RenderSettings, 'egress'> = {}): EnvoyResource[] {
  const connectTimeout = duration(dependencyDefaults.connectTimeoutMs);
  const blackhole: EnvoyResource = { '@type': typeUrls.clusters, name: names.blackholeCluster, type: 'STATIC', connect_timeout: connectTimeout };
  if (interceptionPolicy(caller, settings).unknownDestinations === 'deny') return [blackhole];
  const passthrough: EnvoyResource = {
    '@type': typeUrls.clusters,
    name: names.passthroughCluster,
    type: 'ORIGINAL_DST',
    lb_policy: 'CLUSTER_PROVIDED',
    connect_timeout: connectTimeout,
  };
  return [blackhole, passthrough].sort(byResourceName);
}

/** TransparentResources are what transparent mode adds to a snapshot (nothing in localhost mode). */
export interface TransparentResources {
  readonly listeners: EnvoyResource[];
  readonly routes: EnvoyResource[];
  readonly clusters: EnvoyResource[];
}

/**
 * transparentResources renders the egress side of a transparent caller, or refuses a world it
 * cannot route (transparentProblems) with an InconsistentSnapshotError, before anything is stored.
 */
export function transparentResources(
  world: NodeWorld,
  policies: ReadonlyMap<string, DependencyPolicy>,
  settings: RenderSettings,
): TransparentResources {
  const caller = world.spec;
  if (!isTransparent(caller)) return { listeners: [], routes: [], clusters: [] };
  const deps = caller.dependencies.map((d) => ({ dependency: world.dependencies.get(d.service)!, policy: policies.get(d.service)! }));
  const problems = transparentProblems(caller, deps, settings);
  if (problems.length > 0) throw new InconsistentSnapshotError(caller.name, problems);
  const http = deps.some((d) => d.dependency.protocol !== 'tcp');
  return {
    listeners: [transparentOutboundListener(caller, deps, settings)],
    routes: http ? [transparentOutboundRouteConfiguration(caller, deps, settings)] : [],
    clusters: transparentClusters(caller, settings),
  };
}
