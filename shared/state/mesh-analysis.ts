import { Problem } from '../errors';
import { ServiceSpec, mtlsEnabledOf, serviceSpecSchema, toProblems } from '../model/spec';
import { checkSpecConsistency } from '../model/parse-spec';
import { analyzeSpec } from './catalog';
import { plaintextCallers } from './edges';
import { dependencyNamesOf, kindOf } from '../model/service-terms';

/**
 * Analysis of a whole set of specs at once, as `meshctl analyze` runs it on a folder before
 * anything is written: each spec on its own (the schema and `checkSpecConsistency`, as
 * `parseServiceSpec` does), each against the others (`analyzeSpec`, the API's write-time
 * check), and what only the whole set shows: names declared twice, callers a dependency's
 * allow-list shuts out, and services nothing can reach. Pure: no store, no clock.
 */

/** SpecSource is one spec as read from a file: where it came from and the untrusted document. */
export interface SpecSource {
  readonly file: string;
  /** Its position when the file holds an array of specs. */
  readonly index?: number;
  readonly input: unknown;
}

export type Severity = 'error' | 'warning';

/** Finding is one problem, located by file and field path. */
export interface Finding extends Problem {
  readonly file: string;
  readonly index?: number;
  readonly service?: string;
  readonly severity: Severity;
}

export interface MeshAnalysis {
  readonly findings: readonly Finding[];
  /** The specs that are valid on their own, by name (the first of a duplicated name). */
  readonly specs: ReadonlyMap<string, { readonly spec: ServiceSpec; readonly source: SpecSource }>;
}

/** analyzeMesh checks a set of specs the way the API would accept them, plus what only the whole set shows. */
export function analyzeMesh(sources: readonly SpecSource[]): MeshAnalysis {
  const findings: Finding[] = [];
  const specs = new Map<string, { spec: ServiceSpec; source: SpecSource }>();
  const at = (source: SpecSource, service: string | undefined, severity: Severity, problem: Problem): Finding => ({
    file: source.file,
    ...(source.index !== undefined ? { index: source.index } : {}),
    ...(service ? { service } : {}),
    severity,
    ...problem,
  });

  for (const source of sources) {
    const parsed = serviceSpecSchema.safeParse(source.input);
    if (!parsed.success) {
      const name = (source.input as { name?: unknown } | null)?.name;
      findings.push(...toProblems(parsed.error).map((p) => at(source, typeof name === 'string' ? name : undefined, 'error', p)));
      continue;
    }
    const spec = parsed.data;
    findings.push(...checkSpecConsistency(spec).map((p) => at(source, spec.name, 'error', p)));
    const first = specs.get(spec.name);
    if (first) {
      findings.push(at(source, spec.name, 'error', { path: 'name', message: `"${spec.name}" is already declared in ${where(first.source)}` }));
      continue;
    }
    specs.set(spec.name, { spec, source });
  }

  const declared = new Map([...specs].map(([name, s]) => [name, s.spec]));
  const callers = new Map<string, string[]>();
  for (const { spec, source } of specs.values()) {
    findings.push(...analyzeSpec(spec, declared).map((p) => at(source, spec.name, 'error', p)));
    for (const dep of dependencyNamesOf(spec)) callers.set(dep, [...(callers.get(dep) ?? []), spec.name]);
    spec.dependencies.forEach((dep, i) => {
      const allowed = declared.get(dep.service)?.inbound?.allowedCallers;
      if (allowed && !allowed.includes('*') && !allowed.includes(spec.name)) {
        findings.push(
          at(source, spec.name, 'error', {
            path: `dependencies.${i}.service`,
            message: `"${dep.service}" does not allow this service to call it: its inbound.allowedCallers is [${allowed.join(', ')}]`,
          }),
        );
      }
    });
  }
  for (const { spec, source } of specs.values()) {
    const allowed = spec.inbound?.allowedCallers;
    (allowed ?? []).forEach((caller, i) => {
      if (caller !== '*' && !declared.has(caller)) {
        findings.push(at(source, spec.name, 'warning', { path: `inbound.allowedCallers.${i}`, message: `"${caller}" is not a declared service` }));
      }
    });
    if (!allowed && !callers.has(spec.name) && mtlsEnabledOf(spec) && kindOf(spec) === 'service') {
      findings.push(
        at(source, spec.name, 'warning', {
          path: 'inbound.allowedCallers',
          message: 'is unreachable: no service depends on it and inbound.allowedCallers is not set, so its listener admits no caller',
        }),
      );
    }
  }
  // Permissive mTLS is a step, not a state: name the callers that keep a service from going strict.
  for (const { service, caller } of plaintextCallers(declared)) {
    const { source } = specs.get(service)!;
    findings.push(
      at(source, service, 'warning', {
        path: 'mtls.mode',
        message: `is permissive and "${caller}" still calls it in plaintext (its mTLS is off); turn mTLS on there before going strict`,
      }),
    );
  }
  return { findings: findings.sort(byLocation), specs };
}

/** where names a spec's place for people: `file` or `file[2]`. */
export function where(source: Pick<SpecSource, 'file' | 'index'>): string {
  return source.index === undefined ? source.file : `${source.file}[${source.index}]`;
}

/** byLocation orders findings as a reader scans files: by file, position in it, then field path (numbers as numbers). */
function byLocation(a: Finding, b: Finding): number {
  const key = (f: Finding) => `${f.file}\u0000${String((f.index ?? -1) + 1).padStart(6, '0')}\u0000${f.path.replace(/\d+/g, (n) => n.padStart(6, '0'))}`;
  const [ka, kb] = [key(a), key(b)];
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}
