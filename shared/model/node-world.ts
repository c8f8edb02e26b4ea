import { ServiceSpec } from './spec';
import { dependencyNamesOf } from './spec-edges';

/**
 * NodeWorld is everything the Envoys of one service need to know: its own spec, the specs of
 * the services it calls, and the names of the services that call it (the default allow-list
 * of its inbound side). Endpoints are not part of it: they are EDS, rendered per service.
 */
export interface NodeWorld {
  readonly spec: ServiceSpec;
  readonly dependencies: ReadonlyMap<string, ServiceSpec>;
  /** The services that declare this one as a dependency, sorted. */
  readonly callers: readonly string[];
}

/** NodeWorldResult is a service's world, or the dependencies that keep it from being whole. */
export type NodeWorldResult = { readonly world: NodeWorld } | { readonly missingDependencies: readonly string[] };

/**
 * buildNodeWorld assembles one service's world from the catalog as read: `specs` holds every
 * spec at hand (its dependencies' and its callers'), `listedCallers` what the dependents index
 * says. A caller counts only if its current spec still declares the service as a dependency:
 * the index can hold entries a crash left behind (the spec is the commit point), and, being
 * an allow-list, it must not trust them. A dependency missing from `specs` (deleted under our
 * feet) leaves the world incomplete: the caller keeps serving the last good snapshot.
 */
export function buildNodeWorld(spec: ServiceSpec, specs: ReadonlyMap<string, ServiceSpec>, listedCallers: readonly string[]): NodeWorldResult {
  const dependencies = new Map<string, ServiceSpec>();
  const missingDependencies: string[] = [];
  for (const name of dependencyNamesOf(spec)) {
    const found = specs.get(name);
    if (found) dependencies.set(name, found);
    else missingDependencies.push(name);
  }
  if (missingDependencies.length > 0) return { missingDependencies };
  const callers = [...new Set(listedCallers)]
    .filter((caller) => { const c = specs.get(caller); return c !== undefined && dependencyNamesOf(c).includes(spec.name); })
    .sort();
  return { world: { spec, dependencies, callers } };
}
