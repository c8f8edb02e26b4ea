/**
 * findCycle returns a dependency cycle among a template's resources (through Ref, Fn::GetAtt,
 * Fn::Sub and DependsOn), or undefined. CloudFormation rejects such a template at deploy
 * time; `cdk synth` does not notice, so the tests do.
 */
export function findCycle(resources: Record<string, { DependsOn?: string[] | string; Properties?: unknown }>): string[] | undefined {
  const ids = new Set(Object.keys(resources));
  const edges = new Map<string, Set<string>>();
  for (const [id, resource] of Object.entries(resources)) {
    const deps = new Set<string>([resource.DependsOn ?? []].flat());
    collectReferences(resource.Properties, ids, deps);
    edges.set(id, deps);
  }
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (id: string): string[] | undefined => {
    if (state.get(id) === 'done') return undefined;
    if (state.get(id) === 'visiting') return [...stack.slice(stack.indexOf(id)), id];
    state.set(id, 'visiting');
    stack.push(id);
    for (const dep of edges.get(id) ?? []) {
      const cycle = visit(dep);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(id, 'done');
    return undefined;
  };
  for (const id of ids) {
    const cycle = visit(id);
    if (cycle) return cycle;
  }
  return undefined;
}

function collectReferences(value: unknown, ids: ReadonlySet<string>, into: Set<string>): void {
  if (Array.isArray(value)) {
    value.forEach((v) => collectReferences(v, ids, into));
    return;
  }
  if (!value || typeof value !== 'object') return;
  for (const [key, inner] of Object.entries(value)) {
    if (key === 'Ref' && typeof inner === 'string' && ids.has(inner)) into.add(inner);
    else if (key === 'Fn::GetAtt' && Array.isArray(inner) && ids.has(String(inner[0]))) into.add(String(inner[0]));
    else if (key === 'Fn::Sub' && typeof inner === 'string') {
      for (const m of inner.matchAll(/\$\{([A-Za-z0-9]+)/g)) if (ids.has(m[1]!)) into.add(m[1]!);
    } else collectReferences(inner, ids, into);
  }
}
