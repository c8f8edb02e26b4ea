// The schema's types only: endpoint.ts's zod schema (an ISO date and IP checks) stays out of bundles that never parse an endpoint.
import type { Endpoint, EndpointChange } from '../model/endpoint';
import { endpointChangeTarget } from '../model/endpoint-terms';
import { AssignmentRepository, AssignmentSelection, EndpointRepository } from '../store/repositories';
import { StoredEndpoint } from '../store/records';
import { clusterLoadAssignment, EndpointView } from '../render/endpoint';
import { defaults } from '../config';

/** EndpointStore is what applying endpoint changes needs: the endpoints, and the rendered assignments. */
export type EndpointStore = EndpointRepository & Pick<AssignmentRepository, 'foldEndpoint' | 'renderAssignment'>;

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
 * condition) and then folds the endpoint's stored state into its service's assignment: one
 * shard and the head rewritten, the same read and write units whether the service has one
 * endpoint or ten thousand. Where a fold cannot apply (nothing rendered yet, a full shard, an
 * assignment cut to size), the service's assignment is rendered in full instead, once.
 *
 * A redelivery of the very change that is stored (same source event, same ordering key)
 * counts as applied and folds too: the first delivery may have failed between its write and
 * its fold, and the retry is what completes it.
 */
export async function applyEndpointChanges(
  store: EndpointStore,
  changes: readonly EndpointChange[],
  maxBytes: number = defaults.maxAssignmentBytes,
): Promise<EndpointChangeOutcome[]> {
  const applied: EndpointChangeOutcome[] = [];
  const toRender = new Set<string>();
  for (const change of changes) {
    let result = await store.applyEndpointChange(change);
    if (result === 'stale' && (await isStoredChange(store, change))) result = 'applied';
    applied.push({ change, result });
    const { service, id } = endpointChangeTarget(change);
    if (result !== 'applied' || toRender.has(service)) continue;
    const folded = await store.foldEndpoint(service, id, { maxBytes });
    if (folded.kind === 'needs-render') toRender.add(service);
  }
  const overLimit = new Map<string, number>();
  for (const service of toRender) {
    const refreshed = await refreshEndpointAssignment(store, service, maxBytes);
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
 * refreshEndpointAssignment renders a service's whole ClusterLoadAssignment from its live
 * endpoints, as a new generation of shards (see store/dynamo/assignments.ts): for a service
 * declared anew, an assignment that a fold cannot change (a full shard, one cut to size, one
 * stored before shards) and the reconciler's repairs of drift.
 */
export async function refreshEndpointAssignment(
  store: Pick<AssignmentRepository, 'renderAssignment'>,
  service: string,
  maxBytes: number = defaults.maxAssignmentBytes,
): Promise<RefreshResult> {
  return store.renderAssignment(service, (live) => fittingEndpoints(service, live, maxBytes));
}

const healthRank: Record<Endpoint['health'], number> = { healthy: 0, unhealthy: 1, draining: 2 };

/**
 * fittingEndpoints picks the live endpoints a service's assignment serves within `maxBytes`
 * of JSON. When all do not fit, it keeps the ones that serve best (healthy, then unhealthy,
 * then draining; by id within each) and says how many it left out: an assignment too large for
 * the front door would leave every caller on its old config, which is worse than fewer endpoints.
 */
export function fittingEndpoints(service: string, live: readonly EndpointView[], maxBytes: number): AssignmentSelection {
  const size = (r: unknown) => Buffer.byteLength(JSON.stringify(r));
  const bytes = size(clusterLoadAssignment(service, live));
  if (bytes <= maxBytes) return { kept: live, overLimit: 0 };
  const ranked = [...live].sort((a, b) => healthRank[a.health] - healthRank[b.health] || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  let keep = Math.floor((live.length * maxBytes) / bytes);
  while (keep > 0 && size(clusterLoadAssignment(service, ranked.slice(0, keep))) > maxBytes) keep = Math.floor(keep * 0.98);
  return { kept: ranked.slice(0, keep), overLimit: live.length - keep };
}

/** fittingAssignment renders what fittingEndpoints keeps. */
export function fittingAssignment(service: string, live: readonly EndpointView[], maxBytes: number): { resource: ReturnType<typeof clusterLoadAssignment>; overLimit: number } {
  const { kept, overLimit } = fittingEndpoints(service, live, maxBytes);
  return { resource: clusterLoadAssignment(service, kept), overLimit };
}
