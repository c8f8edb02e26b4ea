import { ConflictError, NotFoundError, Problem, ValidationError } from '../errors';
import { ServiceSpec, parseServiceSpec } from '../model/spec';
import { MeshStore } from '../store/mesh-store';
import { ServiceRecord } from '../store/records';
import { refreshEndpointAssignment } from './endpoints';
import { refreshSnapshots } from './snapshots';
import { RenderSettings } from '../render/settings';

/**
 * analyzeSpec checks a spec against the rest of the catalog, as `istioctl analyze` does:
 * every dependency must be a declared service.
 */
export function analyzeSpec(spec: ServiceSpec, declared: ReadonlyMap<string, ServiceSpec>): Problem[] {
  const problems: Problem[] = [];
  spec.dependencies.forEach((dep, i) => {
    if (!declared.has(dep.service)) {
      problems.push({ path: `dependencies.${i}.service`, message: `"${dep.service}" is not a declared service` });
    }
  });
  return problems;
}

export interface DeclareResult {
  readonly record: ServiceRecord;
  readonly created: boolean;
  /** The services whose snapshots were re-rendered: this one and its dependents. */
  readonly rendered: readonly string[];
}

/**
 * declareService validates a spec (on its own and against the catalog), stores it and
 * re-renders what it changes: its own snapshot and those of the services that call it.
 * A rejected spec writes nothing.
 */
export async function declareService(
  store: MeshStore,
  input: unknown,
  settings: RenderSettings,
  options: { expectedName?: string } = {},
): Promise<DeclareResult> {
  const spec = parseServiceSpec(input);
  if (options.expectedName !== undefined && spec.name !== options.expectedName) {
    throw new ValidationError('invalid service spec', [
      { path: 'name', message: `"${spec.name}" does not match the name in the path, "${options.expectedName}"` },
    ]);
  }
  const [previous, deps] = await Promise.all([
    store.getService(spec.name),
    store.getServices(spec.dependencies.map((d) => d.service)),
  ]);
  const problems = analyzeSpec(spec, new Map([...deps].map(([name, r]) => [name, r.spec])));
  if (problems.length > 0) throw new ValidationError(`invalid service spec "${spec.name}"`, problems);

  const record = await store.putService(spec, previous);
  if (!previous) await refreshEndpointAssignment(store, spec.name);
  const rendered = await refreshSnapshots(store, [spec.name, ...(await store.listDependents(spec.name))], settings);
  return { record, created: !previous, rendered };
}

/** removeService deletes a declared service, unless other services still depend on it. */
export async function removeService(store: MeshStore, name: string): Promise<ServiceRecord> {
  const record = await store.getService(name);
  if (!record) throw new NotFoundError(`service "${name}"`);
  const dependents = await store.listDependents(name);
  if (dependents.length > 0) {
    throw new ConflictError(
      `service "${name}" is a dependency of ${dependents.map((d) => `"${d}"`).join(', ')}; remove it from their specs first`,
    );
  }
  await store.deleteService(record);
  return record;
}
