import { EndpointChange, endpointChangeTarget } from '../model/endpoint';
import { EndpointRepository, RenderedRepository } from '../store/repositories';
import { StoredEndpoint } from '../store/records';
import { clusterLoadAssignment } from '../render/endpoint';
import { contentVersion } from '../envoy/version';

/** EndpointStore is what applying endpoint changes needs: the endpoints, and the rendered assignments. */
export type EndpointStore = EndpointRepository & Pick<RenderedRepository, 'putEndpointAssignment'>;

export interface EndpointChangeOutcome {
  readonly change: EndpointChange;
  readonly result: 'applied' | 'stale';
}

/**
 * applyEndpointChanges writes each change (stale ones are dropped by the store's ordering
 * condition) and then re-renders the EDS resource of each service that actually changed:
 * one per service, whatever the size of the fleet.
 *
 * A redelivery of the very change that is stored (same source event, same ordering key)
 * counts as applied and re-renders too: the first delivery may have failed between its
 * write and its render, and the retry is what completes it.
 */
export async function applyEndpointChanges(
  store: EndpointStore,
  changes: readonly EndpointChange[],
): Promise<EndpointChangeOutcome[]> {
  const outcomes: EndpointChangeOutcome[] = [];
  const touched = new Set<string>();
  for (const change of changes) {
    let result = await store.applyEndpointChange(change);
    if (result === 'stale' && (await isStoredChange(store, change))) result = 'applied';
    outcomes.push({ change, result });
    if (result === 'applied') touched.add(endpointChangeTarget(change).service);
  }
  for (const service of touched) await refreshEndpointAssignment(store, service);
  return outcomes;
}

/** isStoredChange tells whether the stored state of the change's endpoint was written by this very change. */
async function isStoredChange(store: EndpointStore, change: EndpointChange): Promise<boolean> {
  const { service, id } = endpointChangeTarget(change);
  const source = change.kind === 'upsert' ? change.endpoint.source : change.source;
  const stored = await store.getEndpoint(service, id);
  if (!stored || stored.removed !== (change.kind === 'remove')) return false;
  const storedSource = storedSourceOf(stored);
  return stored.orderingKey === source.orderingKey && storedSource.eventId === source.eventId && storedSource.kind === source.kind;
}

/** storedSourceOf is the source of what is stored: the live endpoint's, or the tombstone's. */
export function storedSourceOf(stored: StoredEndpoint) {
  return stored.removed ? stored.source : stored.endpoint.source;
}

/**
 * refreshEndpointAssignment renders a service's ClusterLoadAssignment from its live endpoints.
 * It takes a revision before reading, so a slower concurrent render of older state can
 * never overwrite a newer one (see EndpointRepository.bumpEndpointRevision).
 */
export async function refreshEndpointAssignment(store: EndpointStore, service: string): Promise<boolean> {
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
