import { secretNamesOf } from '../render/snapshot';
import { EnvoyResource, XdsTypeName, xdsTypeNames } from '../envoy/resources';
import { RenderedRepository } from '../store/repositories';
import { HttpError } from './http';

/** ServiceConfigView is what the nodes of one service are served, per xDS type, with versions. */
export interface ServiceConfigView {
  readonly service: string;
  readonly specRevision: number;
  readonly renderedAt: string;
  readonly changedAt?: string;
  readonly versions: Partial<Record<XdsTypeName, string>>;
  readonly resources: {
    readonly listeners?: readonly EnvoyResource[];
    readonly routes?: readonly EnvoyResource[];
    readonly clusters?: readonly EnvoyResource[];
    /** The ClusterLoadAssignment of each EDS cluster, as the node's EDS subscriptions get them. */
    readonly endpoints?: readonly EnvoyResource[];
    /** SDS secrets by name only: certificates and keys are never part of this view. */
    readonly secrets?: readonly { readonly name: string }[];
  };
}

/**
 * serviceConfig reads what a service's nodes are served from the stored snapshot and endpoint
 * assignments, without polling as a node (which would record status for it): the listeners,
 * routes and clusters of the snapshot, the assignment of each EDS cluster, and the names of
 * the secrets. `type` keeps one type. Every node of a service is served the same resources;
 * a node's listeners wait for it to apply these clusters.
 */
export async function serviceConfig(store: Pick<RenderedRepository, 'getSnapshot' | 'getEndpointAssignments'>, service: string, type?: string): Promise<ServiceConfigView> {
  if (type !== undefined && !(xdsTypeNames as readonly string[]).includes(type)) {
    throw new HttpError(400, `query parameter "type" must be one of ${xdsTypeNames.join(', ')}, got "${type}"`);
  }
  const snapshot = await store.getSnapshot(service);
  if (!snapshot) throw new HttpError(404, `service "${service}" has no rendered configuration: it is not declared`);
  const want = (t: XdsTypeName) => type === undefined || type === t;
  const clusters = snapshot.resources.clusters ?? [];
  const edsNames = clusters
    .filter((c) => c.type === 'EDS')
    .map((c) => (c.eds_cluster_config as { service_name?: string } | undefined)?.service_name || String(c.name));
  const assignments = want('endpoints') && edsNames.length > 0 ? await store.getEndpointAssignments(edsNames) : new Map();
  const endpoints = edsNames.flatMap((n) => (assignments.has(n) ? [assignments.get(n)!.resource] : []));
  return {
    service,
    specRevision: snapshot.specRevision,
    renderedAt: snapshot.renderedAt,
    ...(snapshot.changedAt ? { changedAt: snapshot.changedAt } : {}),
    versions: snapshot.versions,
    resources: {
      ...(want('listeners') ? { listeners: snapshot.resources.listeners ?? [] } : {}),
      ...(want('routes') ? { routes: snapshot.resources.routes ?? [] } : {}),
      ...(want('clusters') ? { clusters } : {}),
      ...(want('endpoints') ? { endpoints } : {}),
      ...(want('secrets') ? { secrets: secretNamesOf(snapshot.resources).map((name) => ({ name })) } : {}),
    },
  };
}
