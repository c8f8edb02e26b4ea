import { InconsistentSnapshotError } from '../errors';
import { buildNodeWorld } from '../model/node-world';
import { ServiceSpec } from '../model/spec';
import { dependencyNamesOf } from '../model/service-terms';
import { RenderSettings } from '../render/settings';
import { renderProxylessSnapshot } from '../render/proxyless';
import { RetirementLimits, checkSnapshotConsistency, renderSnapshot, retiringClusters, snapshotVersions } from '../render/snapshot';
import { defaults } from '../config';
import { SnapshotItem } from '../store/records';
import { CatalogRepository, RenderedRepository } from '../store/repositories';

/** SnapshotStore is what rendering snapshots reads (specs, callers) and writes (snapshots). */
export type SnapshotStore = Pick<CatalogRepository, 'getServices' | 'listDependents'> & Pick<RenderedRepository, 'putSnapshot' | 'getRenderedMany'>;

/** PlanOptions are the clock of a render and the bounds of the clusters it keeps retiring. */
export interface PlanOptions {
  readonly now?: () => number;
  readonly retirement?: RetirementLimits;
}

/** PendingSpec is a spec about to be stored: snapshots are planned with it before it is written. */
export interface PendingSpec {
  readonly spec: ServiceSpec;
  readonly revision: number;
}

/** PlannedSnapshot is a rendered snapshot that passed its consistency check, ready to be stored. */
export interface PlannedSnapshot {
  readonly service: string;
  readonly snapshot: SnapshotItem;
}

/**
 * planSnapshots renders the LDS/RDS/CDS snapshot of each named service from its world (see
 * model/node-world.ts) and checks each one, as go-control-plane's `Consistent()` does, writing
 * nothing: an inconsistent snapshot is an InconsistentSnapshotError before anything is stored.
 * With `pending`, that spec stands in for the stored one, so a spec change is checked before
 * it is written. Work is one query of callers per service and three batch reads in all (the
 * specs, the specs they name, and the previous snapshots). A service that has been deleted
 * meanwhile, or whose dependency has, is skipped. The previous snapshots are read because the
 * clusters one served that the new one drops are kept as retiring (render/snapshot.ts
 * `retiringClusters`), for both forms. Two renders of one service racing
 * may lose a retiring cluster (the later write wins): its nodes then lose it at once, as
 * before retiring clusters existed.
 */
export async function planSnapshots(
  store: Omit<SnapshotStore, 'putSnapshot'>,
  services: readonly string[],
  settings: RenderSettings,
  pending?: PendingSpec,
  options: PlanOptions = {},
): Promise<PlannedSnapshot[]> {
  const wanted = [...new Set(services)].sort();
  const [stored, listed, previous] = await Promise.all([
    store.getServices(wanted),
    Promise.all(wanted.map(async (name) => [name, await store.listDependents(name)] as const)),
    store.getRenderedMany(wanted.map((service) => ({ service, item: 'snapshot' as const })), { consistent: true }).then((read) => read.snapshots),
  ]);
  const clock = options.now ?? Date.now;
  const limits = options.retirement ?? { ttlMs: defaults.retiringClusterTtlMs, max: defaults.maxRetiringClusters };
  const records = new Map([...stored].map(([name, r]) => [name, { spec: r.spec, revision: r.revision }]));
  if (pending && wanted.includes(pending.spec.name)) records.set(pending.spec.name, pending);
  // The pending spec's own dependents index entries are written with it: count it as a listed caller.
  const callersOf = new Map(listed.map(([name, callers]) => [name, pending ? [...callers, pending.spec.name] : callers]));
  const depNames = [...records.values()].flatMap((r) => dependencyNamesOf(r.spec));
  const callerNames = [...callersOf.values()].flat();
  const unread = [...new Set([...depNames, ...callerNames])].filter((n) => !records.has(n) && n !== pending?.spec.name);
  const others = await store.getServices(unread);
  const specs = new Map<string, ServiceSpec>();
  for (const [name, r] of [...others, ...records]) specs.set(name, r.spec);
  if (pending) specs.set(pending.spec.name, pending.spec);

  const planned: PlannedSnapshot[] = [];
  for (const name of wanted) {
    const record = records.get(name);
    if (!record) continue;
    const built = buildNodeWorld(record.spec, specs, callersOf.get(name) ?? []);
    if (!('world' in built)) continue; // a dependency deleted under our feet: keep the last good snapshot
    const resources = renderSnapshot(built.world, settings);
    const proxyless = renderProxylessSnapshot(built.world, settings);
    const problems = [...checkSnapshotConsistency(resources, name), ...checkSnapshotConsistency(proxyless, name)];
    if (problems.length > 0) throw new InconsistentSnapshotError(name, problems);
    const before = previous.get(name);
    const nowMs = clock(); // read per snapshot, as renderedAt always was
    const retiring = retiringClusters(
      before && { clusters: before.resources.clusters ?? [], retiring: before.retiringClusters ?? [] },
      resources.clusters ?? [],
      nowMs,
      limits,
    );
    const proxylessRetiring = retiringClusters(
      before?.proxyless && { clusters: before.proxyless.resources.clusters ?? [], retiring: before.proxyless.retiringClusters ?? [] },
      proxyless.clusters ?? [],
      nowMs,
      limits,
    );
    planned.push({
      service: name,
      snapshot: {
        resources,
        versions: snapshotVersions(resources),
        specRevision: record.revision,
        renderedAt: new Date(nowMs).toISOString(),
        // Who may fetch it travels with it: every poll checks it without reading the spec.
        identity: { iamRoleArns: record.spec.identity?.iamRoleArns ?? [] },
        ...(retiring.length > 0 ? { retiringClusters: retiring } : {}),
        proxyless: {
          resources: proxyless,
          versions: snapshotVersions(proxyless),
          ...(proxylessRetiring.length > 0 ? { retiringClusters: proxylessRetiring } : {}),
        },
      },
    });
  }
  return planned;
}

/**
 * storeSnapshots writes planned snapshots, one conditional write each, and names the services
 * written: a snapshot already built from a newer revision of a spec is kept (a concurrent
 * declare got there first, and its render is the newer truth).
 */
export async function storeSnapshots(store: Pick<SnapshotStore, 'putSnapshot'>, planned: readonly PlannedSnapshot[]): Promise<string[]> {
  const stored: string[] = [];
  for (const { service, snapshot } of planned) if (await store.putSnapshot(service, snapshot)) stored.push(service);
  return stored;
}

/** refreshSnapshots re-renders, checks and stores the snapshots of the named services from the stored catalog. */
export async function refreshSnapshots(
  store: SnapshotStore,
  services: readonly string[],
  settings: RenderSettings,
  options: PlanOptions = {},
): Promise<string[]> {
  return storeSnapshots(store, await planSnapshots(store, services, settings, undefined, options));
}
