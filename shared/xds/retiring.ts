import { EnvoyResource, RetiringResource, XdsTypeName, byResourceName } from '../envoy/resources';
import { contentVersion } from '../envoy/version';
import { NodeStatus } from '../model/node-status';
import { SnapshotItem } from '../store/records';
import { Selection, selectFromSnapshot } from './selection';
import { routeNamesOf } from '../render/snapshot';

/**
 * Make before break for removals. A render that drops a cluster keeps it in the snapshot as
 * retiring (render/snapshot.ts `retiringClusters`). Until a node has applied listeners and
 * routes of the current snapshot, CDS serves it the current clusters plus the retiring ones: a
 * transitional set with its own version. Applying that set releases the LDS/RDS hold (it holds
 * every cluster the new listeners use), so a change that adds one cluster and removes another
 * cannot deadlock; once the node has applied the current listeners and routes, CDS serves
 * exactly the current clusters and the retiring ones go. A node this process does not know is
 * served the transitional set (an unused cluster kept a while is harmless, a 503 is not); the
 * retiring time bounds it all.
 */

/** liveRetiringClusters are a snapshot's retiring clusters still within their time, none a current cluster names. */
export function liveRetiringClusters(snapshot: SnapshotItem, nowMs: number, ttlMs: number): readonly RetiringResource[] {
  const retiring = snapshot.retiringClusters ?? [];
  if (retiring.length === 0) return retiring;
  const current = new Set((snapshot.resources.clusters ?? []).map((c) => String(c.name)));
  return retiring.filter((r) => Date.parse(r.retiredAt) + ttlMs > nowMs && !current.has(String(r.resource.name)));
}

/**
 * selectTransitionalClusters is the current clusters plus the live retiring ones, sorted by
 * name. Its version hashes the current version and the retiring clusters' own versions, so it
 * is the same in every process and changes when one of them expires.
 */
export function selectTransitionalClusters(current: Selection, live: readonly RetiringResource[]): Selection {
  const resources: EnvoyResource[] = [...current.resources, ...live.map((r) => r.resource)];
  resources.sort(byResourceName);
  return {
    version: contentVersion(['transitional', current.version, ...live.map((r) => [String(r.resource.name), r.version])]),
    resources,
    ...(current.changedAt !== undefined ? { changedAt: current.changedAt } : {}),
  };
}

/**
 * hasLeftRetiringClusters tells whether a node has applied the current snapshot's listeners
 * and, for every route configuration they name, that route's current content: then nothing
 * it holds routes to a retiring cluster. Unknown (no status, no listeners applied here) is no.
 * A stream says which types it subscribes (`streamTypes`): a type it does not subscribe holds
 * nothing. REST polls do not say, so each type must be seen applied.
 */
export function hasLeftRetiringClusters(status: NodeStatus | undefined, snapshot: SnapshotItem, streamTypes?: ReadonlySet<XdsTypeName>): boolean {
  if (!status) return false;
  const subscriptions = Object.values(status.subscriptions);
  const listenersVersion = snapshot.versions.listeners ?? contentVersion(snapshot.resources.listeners ?? []);
  // LDS is wildcard (selection.ts): whatever names a listeners subscription carries, its version is the whole set's.
  if (!streamTypes || streamTypes.has('listeners')) {
    if (!subscriptions.some((s) => s.type === 'listeners' && s.appliedVersion === listenersVersion)) return false;
  }
  if (streamTypes && !streamTypes.has('routes')) return true;
  const routes = subscriptions.filter((s) => s.type === 'routes');
  const currentVersionOf = new Map<string, string>();
  const atCurrent = (names: readonly string[], applied: string) => {
    const key = names.join('\n');
    let version = currentVersionOf.get(key);
    if (version === undefined) currentVersionOf.set(key, (version = selectFromSnapshot(snapshot, 'routes', names).version));
    return applied === version;
  };
  return routeNamesOf(snapshot.resources.listeners ?? []).every((name) =>
    routes.some((s) => s.resourceNames.includes(name) && atCurrent(s.resourceNames, s.appliedVersion)),
  );
}

/**
 * clustersForNode is what CDS serves one node: the current clusters when none are retiring,
 * when the node has already applied them (it never goes back), or when it has left the
 * retiring ones; otherwise the transitional set.
 */
export function clustersForNode(
  current: Selection,
  live: readonly RetiringResource[],
  reported: string,
  leftRetiring: () => boolean,
): { selection: Selection; retiring: readonly string[] } {
  if (live.length === 0 || reported === current.version || leftRetiring()) return { selection: current, retiring: [] };
  return { selection: selectTransitionalClusters(current, live), retiring: live.map((r) => String(r.resource.name)) };
}
