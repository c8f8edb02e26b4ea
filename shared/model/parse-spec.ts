import { Problem, ValidationError } from '../errors';
import { dependencyDefaults, interceptionDefaults } from './defaults';
import { checkInterceptionPorts } from './spec-interception';
import { Dependency, ServiceSpec, mtlsEnabledOf, serviceSpecSchema, toProblems } from './spec';
import { RolloutSpec } from './spec-rollout';
import { checkServiceTraffic, checkTrafficPolicy } from './spec-traffic';
import { checkEdgeSpec, kindOf } from './spec-edges';

/**
 * Parsing a spec: the schema (spec.ts) checks each field; the checks here find what a
 * well-typed spec can still get wrong on its own (clashing ports, contradictory policy,
 * inbound security that cannot work). Checks against other services belong to the catalog.
 */

/**
 * checkSpecConsistency finds what a well-typed spec can still get wrong on its own:
 * ports that clash, a dependency on itself, the same dependency twice.
 */
export function checkSpecConsistency(spec: ServiceSpec): Problem[] {
  const problems: Problem[] = checkEdgeSpec(spec);
  if (spec.rollout) problems.push(...checkRollout(spec.rollout, 'rollout'));
  if (spec.inboundPort === spec.appPort && kindOf(spec) === 'service') {
    problems.push({ path: 'appPort', message: `clashes with inboundPort ${spec.inboundPort}` });
  }
  const portOwners = new Map<number, string>([
    [spec.inboundPort, 'inboundPort'],
    [spec.appPort, 'appPort'],
  ]);
  const seen = new Map<string, number>();
  spec.dependencies.forEach((dep, i) => {
    const where = `dependencies.${i}`;
    if (dep.service === spec.name) {
      problems.push({ path: `${where}.service`, message: 'a service cannot depend on itself' });
    }
    const first = seen.get(dep.service);
    if (first !== undefined) {
      problems.push({ path: `${where}.service`, message: `"${dep.service}" is already declared at dependencies.${first}` });
    } else {
      seen.set(dep.service, i);
    }
    const owner = portOwners.get(dep.localPort);
    if (owner !== undefined) {
      problems.push({ path: `${where}.localPort`, message: `${dep.localPort} clashes with ${owner}` });
    } else {
      portOwners.set(dep.localPort, `${where}.localPort`);
    }
    problems.push(...checkDependencyPolicy(dep, where));
    problems.push(...checkTrafficPolicy(dep, where, spec.dependencies.map((d) => d.service)));
  });
  const external = spec.inbound?.external?.port;
  if (external !== undefined && portOwners.has(external)) {
    problems.push({ path: 'inbound.external.port', message: `${external} clashes with ${portOwners.get(external)}` });
  }
  if (external !== undefined && !portOwners.has(external)) portOwners.set(external, 'inbound.external.port');
  problems.push(...checkInterceptionPorts(spec, portOwners, interceptionDefaults.egressPort));
  problems.push(...checkInboundSecurity(spec));
  problems.push(...checkServiceTraffic(spec));
  return problems;
}

/**
 * checkInboundSecurity finds inbound security that cannot work as declared: an allow-list of
 * named callers without the mTLS that identifies them, a JWT check on raw TCP, a list that
 * says "*" and names services too, a caller or audience listed twice.
 */
function checkInboundSecurity(spec: ServiceSpec): Problem[] {
  const problems: Problem[] = [];
  const allowed = spec.inbound?.allowedCallers;
  if (allowed) {
    if (allowed.includes('*') && allowed.length > 1) {
      problems.push({ path: 'inbound.allowedCallers', message: '"*" already allows every mesh service; list it alone' });
    }
    if (!mtlsEnabledOf(spec) && allowed.some((c) => c !== '*')) {
      problems.push({
        path: 'inbound.allowedCallers',
        message: 'naming callers needs mTLS, which proves who they are; mtls.enabled is false (use ["*"] or enable mTLS)',
      });
    }
    problems.push(...duplicates(allowed, 'inbound.allowedCallers'));
  }
  const jwt = spec.inbound?.jwt;
  if (jwt) {
    if (spec.protocol === 'tcp') {
      problems.push({ path: 'inbound.jwt', message: 'a JWT is checked on HTTP requests; this service speaks tcp' });
    }
    problems.push(...duplicates(jwt.audiences, 'inbound.jwt.audiences'));
  }
  return problems;
}

function duplicates(values: readonly string[], path: string): Problem[] {
  const first = new Map<string, number>();
  const problems: Problem[] = [];
  values.forEach((v, i) => {
    const at = first.get(v);
    if (at !== undefined) problems.push({ path: `${path}.${i}`, message: `"${v}" is already listed at ${path}.${at}` });
    else first.set(v, i);
  });
  return problems;
}

/**
 * checkDependencyPolicy finds traffic policy that is well-typed but contradictory: it would
 * render config Envoy rejects (a back-off whose maximum is below its base) or that cannot do
 * what it says (a per-try timeout the whole-call timeout never lets run out, weights that do
 * not add up to the declared total).
 */
function checkDependencyPolicy(dep: Dependency, where: string): Problem[] {
  const problems: Problem[] = [];
  const timeoutMs = dep.timeoutMs ?? dependencyDefaults.timeoutMs;
  const timeoutPath = dep.timeoutMs === undefined ? `${where}.timeoutMs (default)` : `${where}.timeoutMs`;
  const retries = dep.retries;
  if (retries) {
    const perTry = retries.perTryTimeoutMs;
    if (perTry !== undefined && perTry > 0 && timeoutMs > 0 && perTry > timeoutMs) {
      problems.push({
        path: `${where}.retries.perTryTimeoutMs`,
        message: `${perTry} is longer than ${timeoutPath} ${timeoutMs}`,
      });
    }
    const base = retries.backOff?.baseIntervalMs ?? dependencyDefaults.retries.backOff.baseIntervalMs;
    const max = retries.backOff?.maxIntervalMs;
    if (max !== undefined && max < base) {
      problems.push({
        path: `${where}.retries.backOff.maxIntervalMs`,
        message: `${max} is shorter than ${where}.retries.backOff.baseIntervalMs ${base}`,
      });
    }
    const on = retries.retryOn ?? [];
    const seen = new Set<string>();
    on.forEach((condition, j) => {
      if (seen.has(condition)) problems.push({ path: `${where}.retries.retryOn.${j}`, message: `"${condition}" is listed twice` });
      seen.add(condition);
    });
    const wantsCodes = on.includes('retriable-status-codes');
    if (wantsCodes && !retries.statusCodes) {
      problems.push({ path: `${where}.retries.statusCodes`, message: 'is required by retryOn "retriable-status-codes"' });
    }
    if (!wantsCodes && retries.statusCodes) {
      problems.push({
        path: `${where}.retries.statusCodes`,
        message: 'has no effect unless retryOn includes "retriable-status-codes"',
      });
    }
  }
  if (dep.split) {
    const total = dep.split.total ?? dependencyDefaults.splitTotal;
    const sum = dep.split.subsets.reduce((acc, s) => acc + s.weight, 0);
    if (sum !== total) {
      const of = dep.split.total === undefined ? `the default total ${total}` : `${where}.split.total ${total}`;
      problems.push({ path: `${where}.split.subsets`, message: `weights add up to ${sum}, not ${of}` });
    }
    const keys = new Map<string, number>();
    dep.split.subsets.forEach((subset, j) => {
      const key = labelsKey(subset.labels);
      const first = keys.get(key);
      if (first !== undefined) {
        problems.push({
          path: `${where}.split.subsets.${j}.labels`,
          message: `selects the same subset as ${where}.split.subsets.${first}.labels`,
        });
      } else keys.set(key, j);
    });
  }
  if (dep.rollout) problems.push(...checkRollout(dep.rollout, `${where}.rollout`, dep.split, `${where}.split`));
  // Consistent hashing picks by key, not by zone: Envoy applies zone-aware routing only to the
  // round-robin, least-request and random balancers, so asking for both is asking for one of them.
  if (dep.affinity && dep.zoneAware?.enabled === true) {
    problems.push({
      path: `${where}.zoneAware.enabled`,
      message: `zone-aware routing does not combine with ${where}.affinity (consistent hashing chooses by key, not by zone); leave one out`,
    });
  }
  // Header routes match in order: an earlier route on the same header with the same value, or
  // with no value (any value), takes every request a later one would match.
  const matches = new Map<string, number>();
  (dep.headerRoutes ?? []).forEach((route, j) => {
    const same = matches.get(`${route.header}\u0000${route.exact ?? ''}`);
    const any = matches.get(`${route.header}\u0000`);
    const first = same ?? any;
    if (first !== undefined) {
      problems.push({
        path: `${where}.headerRoutes.${j}`,
        message: `matches only requests that ${where}.headerRoutes.${first} already takes, so it is never used`,
      });
    } else matches.set(`${route.header}\u0000${route.exact ?? ''}`, j);
  });
  return problems;
}

/**
 * checkRollout: steps rise and end at 100 %, `from` and `to` are different subsets, and a split
 * declared beside it (which the controller writes) is over exactly those two subsets.
 */
function checkRollout(rollout: RolloutSpec, where: string, split?: Dependency['split'], splitWhere?: string): Problem[] {
  const problems: Problem[] = [];
  rollout.steps.forEach((step, j) => {
    if (j > 0 && step <= rollout.steps[j - 1]!) problems.push({ path: `${where}.steps.${j}`, message: `${step} does not rise above the step before it (${rollout.steps[j - 1]})` });
  });
  if (rollout.steps[rollout.steps.length - 1] !== 100) {
    problems.push({ path: `${where}.steps`, message: 'must end at 100 (all traffic on the new subset)' });
  }
  if (labelsKey(rollout.from) === labelsKey(rollout.to)) problems.push({ path: `${where}.to`, message: `selects the same subset as ${where}.from` });
  if (split && splitWhere) {
    const wanted = new Set([labelsKey(rollout.from), labelsKey(rollout.to)]);
    const have = split.subsets.map((s) => labelsKey(s.labels));
    if (have.length !== 2 || !have.every((k) => wanted.has(k))) {
      problems.push({ path: `${splitWhere}.subsets`, message: `must be over exactly ${where}.from and ${where}.to while a rollout moves it` });
    }
  }
  return problems;
}

/** labelsKey is a canonical form of a label set, to compare subsets. */
export function labelsKey(labels: Readonly<Record<string, string>>): string {
  return JSON.stringify(Object.keys(labels).sort().map((k) => [k, labels[k]]));
}

/**
 * parseServiceSpec validates untrusted input into a spec, collecting every problem with its
 * field path. It checks the spec on its own; checks against other services (unknown
 * dependencies, protocol mismatches) belong to `analyzeSpec` in the catalog.
 */
export function parseServiceSpec(input: unknown): ServiceSpec {
  const parsed = serviceSpecSchema.safeParse(input);
  if (!parsed.success) {
    throw new ValidationError('invalid service spec', toProblems(parsed.error));
  }
  const problems = checkSpecConsistency(parsed.data);
  if (problems.length > 0) {
    throw new ValidationError(`invalid service spec "${parsed.data.name}"`, problems);
  }
  return parsed.data;
}
