import { EndpointChange, endpointChangeTarget } from '../model/endpoint';
import { MeshStore } from '../store/mesh-store';
import { clusterLoadAssignment } from '../render/endpoint';
import { contentVersion } from '../render/version';

export interface EndpointChangeOutcome {
  readonly change: EndpointChange;
  readonly result: 'applied' | 'stale';
}

/**
 * applyEndpointChanges writes each change (stale ones are dropped by the store's ordering
 * condition) and then re-renders the EDS resource of each service that actually changed:
 * one per service, whatever the size of the fleet.
 */
export async function applyEndpointChanges(
  store: MeshStore,
  changes: readonly EndpointChange[],
): Promise<EndpointChangeOutcome[]> {
  const outcomes: EndpointChangeOutcome[] = [];
  const touched = new Set<string>();
  for (const change of changes) {
    const result = await store.applyEndpointChange(change);
    outcomes.push({ change, result });
    if (result === 'applied') touched.add(endpointChangeTarget(change).service);
  }
  for (const service of touched) await refreshEndpointAssignment(store, service);
  return outcomes;
}

/**
 * refreshEndpointAssignment renders a service's ClusterLoadAssignment from its live endpoints.
 * It takes a revision before reading, so a slower concurrent render of older state can
 * never overwrite a newer one (see MeshStore.bumpEndpointRevision).
 */
export async function refreshEndpointAssignment(store: MeshStore, service: string): Promise<boolean> {
  const revision = await store.bumpEndpointRevision(service);
  const stored = await store.listEndpoints(service);
  const live = stored.flatMap((s) => (s.removed ? [] : [s.endpoint]));
  const resource = clusterLoadAssignment(service, live);
  return store.putEndpointAssignment(service, {
    resource,
    version: contentVersion(resource),
    revision,
    renderedAt: new Date().toISOString(),
  });
}
