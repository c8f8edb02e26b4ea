import type { ServiceRecord } from '../shared/store/records';
import { ServiceSpec } from '../shared/model/spec';

/** Change is what applying a folder does to one service. */
export type Change =
  | { readonly action: 'create'; readonly service: string; readonly spec: ServiceSpec }
  | { readonly action: 'update'; readonly service: string; readonly spec: ServiceSpec; readonly revision: number; readonly fields: readonly FieldChange[] }
  | { readonly action: 'unchanged'; readonly service: string }
  | { readonly action: 'delete'; readonly service: string; readonly revision: number };

export interface FieldChange {
  readonly path: string;
  readonly before?: unknown;
  readonly after?: unknown;
}

/**
 * planChanges compares the desired specs with the declared records: creates and updates in
 * dependency order (a service after the services it calls, so each PUT finds its dependencies
 * declared), then, with `prune`, deletes of services the folder no longer has, callers first.
 * Specs are compared as parsed (defaults filled in) and canonically, so key order and an
 * omitted `dependencies: []` are no difference: applying twice changes nothing.
 */
export function planChanges(desired: ReadonlyMap<string, ServiceSpec>, declared: readonly ServiceRecord[], prune: boolean): Change[] {
  const current = new Map(declared.map((r) => [r.spec.name, r]));
  const changes: Change[] = dependencyOrder(desired).map((spec): Change => {
    const record = current.get(spec.name);
    if (!record) return { action: 'create', service: spec.name, spec };
    const fields = diffFields(record.spec, spec);
    return fields.length === 0
      ? { action: 'unchanged', service: spec.name }
      : { action: 'update', service: spec.name, spec, revision: record.revision, fields };
  });
  if (prune) {
    const leaving = new Map(declared.filter((r) => !desired.has(r.spec.name)).map((r) => [r.spec.name, r.spec]));
    for (const spec of dependencyOrder(leaving).reverse()) {
      changes.push({ action: 'delete', service: spec.name, revision: current.get(spec.name)!.revision });
    }
  }
  return changes;
}

/**
 * dependencyOrder sorts specs so each comes after the specs (of this set) it depends on, by
 * name among equals. Services in a dependency cycle (allowed by the analysis) come last, by name.
 */
export function dependencyOrder(specs: ReadonlyMap<string, ServiceSpec>): ServiceSpec[] {
  const placed = new Set<string>();
  const order: ServiceSpec[] = [];
  const names = [...specs.keys()].sort();
  for (let progress = true; progress; ) {
    progress = false;
    for (const name of names) {
      if (placed.has(name)) continue;
      const spec = specs.get(name)!;
      if (spec.dependencies.every((d) => placed.has(d.service) || !specs.has(d.service))) {
        placed.add(name);
        order.push(spec);
        progress = true;
      }
    }
  }
  return [...order, ...names.filter((n) => !placed.has(n)).map((n) => specs.get(n)!)];
}

/** diffFields lists the leaf fields that differ between two JSON documents, by dotted path. */
export function diffFields(before: unknown, after: unknown, path = ''): FieldChange[] {
  if (isObject(before) && isObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((k) => diffFields(before[k], after[k], path ? `${path}.${k}` : k));
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    return Array.from({ length: Math.max(before.length, after.length) }, (_, i) => diffFields(before[i], after[i], `${path}.${i}`)).flat();
  }
  if (canonical(before) === canonical(after)) return [];
  return [{ path, ...(before !== undefined ? { before } : {}), ...(after !== undefined ? { after } : {}) }];
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (isObject(v)) return `{${Object.keys(v).sort().filter((k) => v[k] !== undefined).map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(',')}}`;
  return JSON.stringify(v) ?? 'undefined';
}
