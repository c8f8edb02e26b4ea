import { MeshStore } from '../store/mesh-store';
import { RenderSettings } from '../render/settings';
import { checkSnapshotConsistency, renderSnapshot, snapshotVersions } from '../render/snapshot';
import { ServiceSpec } from '../model/spec';

/**
 * refreshSnapshots re-renders and stores the LDS/RDS/CDS snapshot of each named service from
 * its spec and its dependencies' specs. Work is one batch read and one write per service.
 * A service that has been deleted meanwhile is skipped.
 */
export async function refreshSnapshots(
  store: MeshStore,
  services: readonly string[],
  settings: RenderSettings,
): Promise<string[]> {
  const records = await store.getServices(services);
  const depNames = [...records.values()].flatMap((r) => r.spec.dependencies.map((d) => d.service));
  const depRecords = await store.getServices(depNames.filter((n) => !records.has(n)));
  const specs = new Map<string, ServiceSpec>();
  for (const [name, r] of [...records, ...depRecords]) specs.set(name, r.spec);

  const rendered: string[] = [];
  for (const name of [...new Set(services)].sort()) {
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
    const resources = renderSnapshot({ spec: record.spec, dependencies }, settings);
    const problems = checkSnapshotConsistency(resources);
    if (problems.length > 0) throw new Error(`inconsistent snapshot for "${name}": ${problems.join('; ')}`);
    await store.putSnapshot(name, {
      resources,
      versions: snapshotVersions(resources),
      specRevision: record.revision,
      renderedAt: new Date().toISOString(),
    });
    rendered.push(name);
  }
  return rendered;
}
