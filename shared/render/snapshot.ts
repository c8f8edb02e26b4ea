import { NodeWorld } from '../model/node-world';
import { InconsistentSnapshotError } from '../errors';
import { EnvoyResource, RetiringResource, SnapshotResources, TypeVersions, XdsTypeName, byResourceName } from '../envoy/resources';
import { dependencyCluster, localAppCluster } from './cluster';
import { externalListener, outboundListener } from './listener';
import { inboundListenerFor } from './mtls-mode';
import { withCallerPolicy } from './inbound-policy';
import { inboundRouteConfiguration, outboundRouteConfiguration } from './route';
import { isGatewayCertificateOf, servedSecretNames } from './names';
import { dependencyPolicy } from './policy';
import { dependencyTransportSocket, inboundSecurity } from './security';
import { RenderSettings } from './settings';
import { inlineRoutes } from './inline-routes';
import { transparentResources } from './transparent';
import { contentVersion } from '../envoy/version';
import { kindOf } from '../model/service-terms';
import { externalCluster, withHostRewrite } from './external';
import { renderGatewaySnapshot } from './gateway';

/**
 * renderSnapshot turns a node's world into its LDS, RDS and CDS resources, each list sorted
 * by name, so equal worlds give byte-identical snapshots. Under `routeDelivery: 'inline'` the
 * route configurations are in the listeners instead of RDS (inline-routes.ts).
 */
export function renderSnapshot(world: NodeWorld, settings: RenderSettings): SnapshotResources {
  const { spec } = world;
  // A gateway has listeners of its own and no payload; an external service has no Envoy at all.
  if (kindOf(spec) === 'gateway') {
    const gateway = renderGatewaySnapshot(world, settings);
    return settings.routeDelivery === 'inline' ? inlineRoutes(gateway, spec.name) : gateway;
  }
  if (kindOf(spec) === 'external') return { listeners: [], routes: [], clusters: [] };
  const inbound = inboundSecurity(spec, world.callers, settings);
  const external = externalListener(spec, settings, inbound.externalListenerOptions);
  const listeners = [inboundListenerFor(spec, settings, inbound.listenerOptions, inbound.externalListenerOptions), ...(external ? [external] : [])];
  const inboundRoute = (r: EnvoyResource) => (inbound.routeCallerPolicy ? withCallerPolicy(r, inbound.routeCallerPolicy, settings) : r);
  const routes = spec.protocol === 'tcp' ? [] : [inboundRoute(inboundRouteConfiguration(spec))];
  const clusters = [localAppCluster(spec), ...inbound.clusters];
  const policies = new Map<string, ReturnType<typeof dependencyPolicy>>();
  for (const dep of spec.dependencies) {
    const dependency = world.dependencies.get(dep.service);
    if (!dependency) throw new InconsistentSnapshotError(spec.name, [`dependency "${dep.service}" of "${spec.name}" is not declared`]);
    const policy = dependencyPolicy(dep, dependency.protocol);
    policies.set(dep.service, policy);
    listeners.push(outboundListener(spec, dep, dependency, settings, { policy }));
    if (kindOf(dependency) === 'external') {
      if (dependency.protocol !== 'tcp') routes.push(withHostRewrite(outboundRouteConfiguration(dependency, { policy })));
      clusters.push(externalCluster(dependency, dep, policy, settings));
      continue;
    }
    if (dependency.protocol !== 'tcp') routes.push(outboundRouteConfiguration(dependency, { policy }));
    const transportSocket = dependencyTransportSocket(spec, dependency, settings);
    clusters.push(dependencyCluster(dependency, settings, { policy, ...(transportSocket ? { transportSocket } : {}) }));
  }
  const transparent = transparentResources(world, policies, settings);
  listeners.push(...transparent.listeners);
  routes.push(...transparent.routes);
  clusters.push(...transparent.clusters);
  const resources = {
    listeners: listeners.sort(byResourceName),
    routes: routes.sort(byResourceName),
    clusters: clusters.sort(byResourceName),
  };
  return settings.routeDelivery === 'inline' ? inlineRoutes(resources, spec.name) : resources;
}

/** snapshotVersions hashes each type's resources: the version a wildcard poll compares. */
export function snapshotVersions(resources: SnapshotResources): TypeVersions {
  const versions: TypeVersions = {};
  for (const [type, list] of Object.entries(resources) as [XdsTypeName, EnvoyResource[]][]) {
    versions[type] = contentVersion(list);
  }
  return versions;
}

/** RetirementLimits bound how long and how many dropped clusters a snapshot keeps. */
export interface RetirementLimits {
  readonly ttlMs: number;
  readonly max: number;
}

/**
 * retiringClusters lists the clusters a new render keeps as retiring: those the previous
 * snapshot served and this one drops (retired now), and those the previous one was already
 * retiring, while they are younger than `ttlMs`; none a current cluster names; at most `max`,
 * the most recently retired; sorted by name. The xDS core serves them, with the current ones,
 * to a node until it has applied listeners and routes that no longer use them (discovery.ts),
 * so a removed dependency is unreferenced before its cluster goes.
 */
export function retiringClusters(
  previous: { readonly clusters: readonly EnvoyResource[]; readonly retiring: readonly RetiringResource[] } | undefined,
  current: readonly EnvoyResource[],
  nowMs: number,
  limits: RetirementLimits,
): RetiringResource[] {
  if (!previous) return [];
  const kept = new Set(current.map((c) => String(c.name)));
  const at = new Date(nowMs).toISOString();
  const found = new Map<string, RetiringResource>();
  for (const r of previous.retiring) {
    if (Date.parse(r.retiredAt) + limits.ttlMs > nowMs) found.set(String(r.resource.name), r);
  }
  // A cluster the previous snapshot served is retired now, replacing an older retiring body of the same name.
  for (const c of previous.clusters) found.set(String(c.name), { resource: c, version: contentVersion(c), retiredAt: at });
  const newestFirst = [...found.entries()]
    .filter(([name]) => !kept.has(name))
    .sort(([a, x], [b, y]) => (x.retiredAt === y.retiredAt ? (a < b ? -1 : 1) : x.retiredAt > y.retiredAt ? -1 : 1));
  return newestFirst
    .slice(0, Math.max(0, limits.max))
    .map(([, r]) => r)
    .sort((a, b) => byResourceName(a.resource, b.resource));
}

function walk(value: unknown, visit: (key: string, v: unknown) => void): void {
  if (Array.isArray(value)) value.forEach((v) => walk(v, visit));
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      visit(k, v);
      walk(v, visit);
    }
  }
}

/**
 * secretNamesOf lists the SDS secrets a snapshot's listeners and clusters reference (their
 * TLS certificate and validation context configs), sorted: exactly what the nodes of the
 * service will ask `/v3/discovery:secrets` for.
 */
export function secretNamesOf(resources: SnapshotResources): string[] {
  const found = new Set<string>();
  for (const r of [...(resources.listeners ?? []), ...(resources.clusters ?? [])]) {
    walk(r, (k, v) => {
      if (k === 'tls_certificate_sds_secret_configs') for (const c of v as { name: unknown }[]) found.add(String(c.name));
      if (k === 'validation_context_sds_secret_config') found.add(String((v as { name: unknown }).name));
    });
  }
  return [...found].sort();
}

/** routeNamesOf lists the route configurations listeners name over RDS (Envoy's and proxyless API listeners alike), sorted. */
export function routeNamesOf(listeners: readonly EnvoyResource[]): string[] {
  const found = new Set<string>();
  for (const l of listeners) walk(l, (k, v) => k === 'route_config_name' && typeof v === 'string' && found.add(v));
  return [...found].sort();
}

/**
 * checkSnapshotConsistency verifies that every reference resolves within the snapshot (every
 * RDS name a listener uses is in RDS, every cluster a route, TCP proxy or JWKS fetch names is
 * in CDS), as go-control-plane's `Consistent()` does, and, given the service, that every
 * secret referenced is one its nodes are served. EDS names are checked against the catalog elsewhere.
 */
export function checkSnapshotConsistency(resources: SnapshotResources, service?: string): string[] {
  const problems: string[] = [];
  const routeNames = new Set((resources.routes ?? []).map((r) => String(r.name)));
  const clusterNames = new Set((resources.clusters ?? []).map((c) => String(c.name)));
  if (service !== undefined) {
    const served = new Set(servedSecretNames(service));
    for (const name of secretNamesOf(resources).filter((n) => !served.has(n) && !isGatewayCertificateOf(service, n))) {
      problems.push(`secret "${name}" is referenced, but the nodes of "${service}" are not served it`);
    }
  }
  for (const l of resources.listeners ?? []) {
    walk(l, (k, v) => {
      if (k === 'route_config_name' && !routeNames.has(String(v))) {
        problems.push(`listener "${l.name}" uses route configuration "${v}", which is not in RDS`);
      }
      if (k === 'cluster' && !clusterNames.has(String(v))) {
        problems.push(`listener "${l.name}" sends to cluster "${v}", which is not in CDS`);
      }
    });
  }
  // A weighted target names its clusters in `weighted_clusters.clusters[].name`.
  const targets = (k: string, v: unknown): string[] => {
    if (k === 'cluster') return [String(v)];
    if (k === 'weighted_clusters') return ((v as { clusters?: { name?: unknown }[] }).clusters ?? []).map((c) => String(c.name));
    return [];
  };
  for (const l of resources.listeners ?? []) {
    walk(l, (k, v) => {
      if (k !== 'weighted_clusters') return;
      for (const c of targets(k, v).filter((n) => !clusterNames.has(n))) {
        problems.push(`listener "${l.name}" sends to cluster "${c}", which is not in CDS`);
      }
    });
  }
  for (const r of resources.routes ?? []) {
    walk(r, (k, v) => {
      for (const c of targets(k, v).filter((n) => !clusterNames.has(n))) {
        problems.push(`route configuration "${r.name}" sends to cluster "${c}", which is not in CDS`);
      }
    });
  }
  return problems;
}
