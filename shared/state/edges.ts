import { Problem } from '../errors';
import { ServiceSpec, mtlsEnabledOf } from '../model/spec';
import { kindOf, mtlsModeOf } from '../model/service-terms';

/**
 * analyzeEdges checks the mesh's edges against the catalog: a gateway routes only to mesh
 * services that speak HTTP (its listeners are HTTP), nothing calls a gateway as a dependency
 * (it has no inbound mesh listener), and a gateway that reaches a strict mTLS service has a
 * certificate to present.
 */
export function analyzeEdges(spec: ServiceSpec, declared: ReadonlyMap<string, ServiceSpec>): Problem[] {
  const problems: Problem[] = [];
  spec.dependencies.forEach((dep, i) => {
    const target = declared.get(dep.service);
    if (target && kindOf(target) === 'gateway') {
      problems.push({ path: `dependencies.${i}.service`, message: `"${dep.service}" is a gateway: it takes traffic from outside the mesh, not from services` });
    }
    if (target && kindOf(target) === 'external') {
      // An external service's hosts come from DNS: no endpoint labels to pick subsets by, no zones, and nobody else's to probe.
      for (const field of ['split', 'headerRoutes', 'zoneAware', 'healthCheck'] as const) {
        if (dep[field] !== undefined) {
          problems.push({ path: `dependencies.${i}.${field}`, message: `"${dep.service}" is an external service, reached by DNS: ${field} needs mesh endpoints` });
        }
      }
    }
  });
  (spec.routes ?? []).forEach((route, i) => {
    const where = `routes.${i}.service`;
    const target = declared.get(route.service);
    if (!target) {
      problems.push({ path: where, message: `"${route.service}" is not a declared service` });
      return;
    }
    if (kindOf(target) !== 'service') {
      problems.push({ path: where, message: `"${route.service}" is kind "${kindOf(target)}": a gateway routes to mesh services` });
      return;
    }
    if (target.protocol === 'tcp') {
      problems.push({ path: where, message: `"${route.service}" speaks tcp; gateway routes are HTTP` });
    }
    if (mtlsModeOf(target) === 'strict' && !mtlsEnabledOf(spec)) {
      problems.push({ path: where, message: `"${route.service}" requires mTLS, and this gateway has mTLS off: it has no certificate to present` });
    }
  });
  return problems;
}

/**
 * PlaintextCaller is a caller that still reaches a permissive service in plaintext: its own
 * mTLS is off, so its cluster towards the service does not originate mTLS.
 */
export interface PlaintextCaller {
  readonly service: string;
  readonly caller: string;
}

/**
 * plaintextCallers lists, for every permissive service, the callers (dependents and gateways)
 * whose mTLS is off: they are why the service cannot go strict yet. Sorted by service, caller.
 */
export function plaintextCallers(specs: ReadonlyMap<string, ServiceSpec>): PlaintextCaller[] {
  const found: PlaintextCaller[] = [];
  for (const caller of specs.values()) {
    if (mtlsEnabledOf(caller)) continue;
    const targets = new Set([...caller.dependencies.map((d) => d.service), ...(caller.routes ?? []).map((r) => r.service)]);
    for (const name of targets) {
      const target = specs.get(name);
      if (target && kindOf(target) === 'service' && mtlsModeOf(target) === 'permissive') found.push({ service: name, caller: caller.name });
    }
  }
  return found.sort((a, b) => (a.service === b.service ? cmp(a.caller, b.caller) : cmp(a.service, b.service)));
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
