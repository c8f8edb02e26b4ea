import { EndpointChange, endpointChangeTarget } from '../model/endpoint';
import { EndpointRepository, RenderedRepository } from '../store/repositories';
import { StoredEndpoint } from '../store/records';
import { clusterLoadAssignment } from '../render/endpoint';
import { contentVersion } from '../envoy/version';
import { defaults } from '../config';
import { Endpoint } from '../model/endpoint';

/** EndpointStore is what applying endpoint changes needs: the endpoints, and the rendered assignments. */
export type EndpointStore = EndpointRepository & Pick<RenderedRepository, 'putEndpointAssignment'>;

export interface EndpointChangeOutcome {
  readonly change: EndpointChange;
  readonly result: 'applied' | 'stale';
  /** Live endpoints of the change's service left out of its assignment: it would be too large to serve. */
  readonly overLimit?: number;
}

/** RefreshResult says whether the rendered assignment was stored, and how many live endpoints it left out. */
export interface RefreshResult {
  readonly written: boolean;
  readonly overLimit: number;
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
  const applied: EndpointChangeOutcome[] = [];
  const touched = new Set<string>();
  for (const change of changes) {
    let result = await store.applyEndpointChange(change);
    if (result === 'stale' && (await isStoredChange(store, change))) result = 'applied';
    applied.push({ change, result });
    if (result === 'applied') touched.add(endpointChangeTarget(change).service);
  }
  const overLimit = new Map<string, number>();
  for (const service of touched) {
    const refreshed = await refreshEndpointAssignment(store, service);
    if (refreshed.overLimit > 0) overLimit.set(service, refreshed.overLimit);
  }
  return applied.map((o) => {
    const left = overLimit.get(endpointChangeTarget(o.change).service);
    return left ? { ...o, overLimit: left } : o;
  });
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
export async function refreshEndpointAssignment(
  store: EndpointStore,
  service: string,
  maxBytes: number = defaults.maxAssignmentBytes,
): Promise<RefreshResult> {
  const revision = await store.bumpEndpointRevision(service);
  const stored = await store.listEndpoints(service);
  const live = stored.flatMap((s) => (s.removed ? [] : [s.endpoint]));
  const { resource, overLimit } = fittingAssignment(service, live, maxBytes);
  const written = await store.putEndpointAssignment(service, {
    resource,
    version: contentVersion(resource),
    revision,
    renderedAt: new Date().toISOString(),
  });
  return { written, overLimit };
}

const healthRank: Record<Endpoint['health'], number> = { healthy: 0, unhealthy: 1, draining: 2 };

/**
 * fittingAssignment renders a service's assignment within `maxBytes` of JSON. When all live
 * endpoints do not fit, it keeps the ones that serve best (healthy, then unhealthy, then
 * draining; by id within each) and says how many it left out: an assignment too large for the
 * front door would leave every caller on its old config, which is worse than fewer endpoints.
 */
export function fittingAssignment(service: string, live: readonly Endpoint[], maxBytes: number): { resource: ReturnType<typeof clusterLoadAssignment>; overLimit: number } {
  const size = (r: unknown) => Buffer.byteLength(JSON.stringify(r));
  const all = clusterLoadAssignment(service, live);
  const bytes = size(all);
  if (bytes <= maxBytes) return { resource: all, overLimit: 0 };
  const ranked = [...live].sort((a, b) => healthRank[a.health] - healthRank[b.health] || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  let keep = Math.floor((live.length * maxBytes) / bytes);
  let resource = clusterLoadAssignment(service, ranked.slice(0, keep));
  while (keep > 0 && size(resource) > maxBytes) {
    keep = Math.floor(keep * 0.98);
    resource = clusterLoadAssignment(service, ranked.slice(0, keep));
  }
  return { resource, overLimit: live.length - keep };
}
