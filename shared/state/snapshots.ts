import { CatalogRepository, RenderedRepository } from '../store/repositories';
import { RenderSettings } from '../render/settings';
import { checkSnapshotConsistency, renderSnapshot, snapshotVersions } from '../render/snapshot';
import { ServiceSpec } from '../model/spec';

/** SnapshotStore is what rendering snapshots reads (specs, callers) and writes (snapshots). */
export type SnapshotStore = Pick<CatalogRepository, 'getServices' | 'listDependents'> & Pick<RenderedRepository, 'putSnapshot'>;

/**
 * refreshSnapshots re-renders and stores the LDS/RDS/CDS snapshot of each named service from
 * its spec, its dependencies' specs and the names of its callers (the default allow-list).
 * Work is one query of callers and one write per service, and two batch reads in all.
 * A service that has been deleted meanwhile is skipped.
 */
export async function refreshSnapshots(
  store: SnapshotStore,
  services: readonly string[],
  settings: RenderSettings,
): Promise<string[]> {
  const wanted = [...new Set(services)].sort();
  const [records, listed] = await Promise.all([
    store.getServices(wanted),
    Promise.all(wanted.map(async (name) => [name, await store.listDependents(name)] as const)),
  ]);
  const dependentsOf = new Map(listed);
  const depNames = [...records.values()].flatMap((r) => r.spec.dependencies.map((d) => d.service));
  const callerNames = listed.flatMap(([, callers]) => callers);
  const others = await store.getServices([...new Set([...depNames, ...callerNames])].filter((n) => !records.has(n)));
  const specs = new Map<string, ServiceSpec>();
  for (const [name, r] of [...records, ...others]) specs.set(name, r.spec);

  const rendered: string[] = [];
  for (const name of wanted) {
    const record = records.get(name);
    if (!record) continue;
    const dependencies = new Map<string, ServiceSpec>();
    let complete = true;
    for (const dep of record.spec.dependencies) {
      const depSpec = specs.get(dep.service);
      if (depSpec) dependencies.set(dep.service, depSpec);
      else complete = false;
    }
    // A dependency deleted under our feet: keep serving the last good snapshot.
    if (!complete) continue;
    const callers = verifiedCallers(name, dependentsOf.get(name) ?? [], specs);
    const resources = renderSnapshot({ spec: record.spec, dependencies, callers }, settings);
    const problems = checkSnapshotConsistency(resources, name);
    if (problems.length > 0) throw new Error(`inconsistent snapshot for "${name}": ${problems.join('; ')}`);
    await store.putSnapshot(name, {
      resources,
      versions: snapshotVersions(resources),
      specRevision: record.revision,
      renderedAt: new Date().toISOString(),
      // Who may fetch it travels with it: every poll checks it without reading the spec.
      identity: { iamRoleArns: record.spec.identity?.iamRoleArns ?? [] },
    });
    rendered.push(name);
  }
  return rendered;
}

/**
 * verifiedCallers keeps the listed callers whose current spec still declares the service as a
 * dependency. The dependents index can hold entries a crash left behind (the spec is the
 * commit point, see CatalogRepository.putService); being an allow-list, it must not trust them.
 */
function verifiedCallers(service: string, listed: readonly string[], specs: ReadonlyMap<string, ServiceSpec>): string[] {
  return listed.filter((caller) => specs.get(caller)?.dependencies.some((d) => d.service === service) ?? false).sort();
}
