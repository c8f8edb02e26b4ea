import { ConflictError, NotFoundError, Problem, ValidationError } from '../errors';
import { Dependency, ServiceSpec, grpcRetryConditions, mtlsEnabledOf } from '../model/spec';
import { parseServiceSpec } from '../model/parse-spec';
import { analyzeMirrorTarget, analyzeTrafficProtocol } from '../model/spec-traffic';
import { dependencyNamesOf, kindOf, mtlsModeOf } from '../model/service-terms';
import { analyzeEdges } from './edges';
import { CatalogRepository } from '../store/repositories';
import { ServiceRecord, nextRevision } from '../store/records';
import { EndpointStore, refreshEndpointAssignment } from './endpoints';
import { SnapshotStore, planSnapshots, refreshSnapshots, storeSnapshots } from './snapshots';
import { RenderSettings } from '../render/settings';
import { RolloutRepository } from '../store/rollouts';
import { declaredRollouts } from '../model/rollouts';
import { transparentProblems } from '../render/transparent';
import { CertificateRepository } from '../store/repositories';
import { CertificateIssuer, ensureServiceCertificate } from './certificates';
import { GatewayCertificateCopier, copyGatewayCertificates, listenerProblems, readListenerSecrets } from './gateway-certificates';

/**
 * analyzeSpec checks a spec against the rest of the catalog, as `istioctl analyze` does:
 * every dependency must be a declared service, and its traffic policy must make sense for
 * the protocol that service speaks (no HTTP retries on a TCP dependency, no gRPC retry
 * conditions on an HTTP one).
 *
 * Dependency cycles are allowed: every hop is an independent sidecar-to-sidecar call with its
 * own listener, route and cluster, so a cycle renders nothing invalid (whether the payloads
 * loop forever is theirs to decide, and their timeouts bound it).
 */
export function analyzeSpec(spec: ServiceSpec, declared: ReadonlyMap<string, ServiceSpec>): Problem[] {
  const problems: Problem[] = [];
  spec.dependencies.forEach((dep, i) => {
    const target = declared.get(dep.service);
    if (!target) {
      problems.push({ path: `dependencies.${i}.service`, message: `"${dep.service}" is not a declared service` });
      return;
    }
    problems.push(...analyzeDependencyProtocol(dep, i, target));
    problems.push(...analyzeMirrorTarget(dep, `dependencies.${i}`, target, declared));
    problems.push(...analyzeDependencyMtls(spec, i, target));
    problems.push(...analyzeDependencyHealthCheck(dep, i, target));
  });
  // Transparent mode: dependencies its Envoy could not tell apart (the service domain's names cannot clash with each other).
  const targets = spec.dependencies.flatMap((d) => declared.get(d.service) ?? []).map((dependency) => ({ dependency }));
  problems.push(...transparentProblems(spec, targets, {}).map((message) => ({ path: 'interception', message })));
  problems.push(...analyzeEdges(spec, declared));
  return problems;
}

/**
 * analyzeDependencyHealthCheck finds an active HTTP or gRPC health check on a dependency that
 * requires a JWT on every request: the probe carries no token, so every host would be marked
 * unhealthy. A TCP connect check never reaches the JWT filter.
 */
function analyzeDependencyHealthCheck(dep: Dependency, i: number, target: ServiceSpec): Problem[] {
  if (!dep.healthCheck || !target.inbound?.jwt || target.protocol === 'tcp') return [];
  return [
    {
      path: `dependencies.${i}.healthCheck`,
      message: `"${target.name}" requires a JWT on every request, which a health check does not carry; rely on outlier detection`,
    },
  ];
}

/**
 * analyzeDependencyMtls finds a caller that cannot reach its dependency: the dependency's
 * listener requires a mesh certificate, and a caller with mTLS off has no mesh identity.
 */
function analyzeDependencyMtls(caller: ServiceSpec, i: number, target: ServiceSpec): Problem[] {
  // Only a strict listener shuts out plaintext: a permissive one accepts it while callers migrate.
  if (kindOf(target) !== 'service' || mtlsModeOf(target) !== 'strict' || mtlsEnabledOf(caller)) return [];
  return [
    {
      path: `dependencies.${i}.service`,
      message: `"${target.name}" requires mTLS, and this service has mtls.enabled false: it has no certificate to present`,
    },
  ];
}

/** analyzeDependencyProtocol finds policy that the dependency's protocol cannot carry out. */
function analyzeDependencyProtocol(dep: Dependency, i: number, target: ServiceSpec): Problem[] {
  const problems: Problem[] = [];
  const where = `dependencies.${i}`;
  const speaks = `"${target.name}" speaks ${target.protocol}`;
  if (target.protocol === 'tcp') {
    const httpOnly: [keyof Dependency, string][] = [
      ['timeoutMs', 'a request timeout needs'],
      ['retries', 'request retries need'],
      ['headerRoutes', 'header routes need'],
    ];
    for (const [field, what] of httpOnly) {
      if (dep[field] !== undefined) problems.push({ path: `${where}.${field}`, message: `${what} HTTP; ${speaks}` });
    }
    if (dep.healthCheck?.path !== undefined) {
      problems.push({ path: `${where}.healthCheck.path`, message: `TCP dependencies are checked by connecting; ${speaks}` });
    }
    for (const key of ['header', 'cookie'] as const) {
      if (dep.affinity?.[key] !== undefined) {
        problems.push({ path: `${where}.affinity.${key}`, message: `${key} affinity needs HTTP (a TCP proxy can hash only on sourceIp); ${speaks}` });
      }
    }
  }
  problems.push(...analyzeTrafficProtocol(dep, where, target));
  if (target.protocol !== 'grpc') {
    const grpcOnly: ReadonlySet<string> = new Set(grpcRetryConditions);
    (dep.retries?.retryOn ?? []).forEach((condition, j) => {
      if (grpcOnly.has(condition)) {
        problems.push({ path: `${where}.retries.retryOn.${j}`, message: `"${condition}" is a gRPC retry condition; ${speaks}` });
      }
    });
    if (dep.healthCheck?.grpcServiceName !== undefined) {
      problems.push({ path: `${where}.healthCheck.grpcServiceName`, message: `applies to gRPC health checks only; ${speaks}` });
    }
  } else if (dep.healthCheck?.path !== undefined) {
    problems.push({
      path: `${where}.healthCheck.path`,
      message: `gRPC dependencies are checked with grpc.health.v1 (set grpcServiceName); ${speaks}`,
    });
  }
  return problems;
}

/**
 * analyzeDependents checks that a changed spec leaves its callers valid: a service that turns
 * from HTTP to TCP would strand its callers' retries; one that turns mTLS on would shut out
 * callers without a certificate; one that turns a JWT check on would fail their health checks. Problems are reported on the field that changed, naming the
 * caller's field that no longer applies.
 */
export function analyzeDependents(spec: ServiceSpec, dependents: readonly ServiceSpec[]): Problem[] {
  const problems: Problem[] = [];
  for (const caller of [...dependents].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    caller.dependencies.forEach((dep, i) => {
      if (dep.service !== spec.name) return;
      for (const p of analyzeDependencyProtocol(dep, i, spec)) {
        problems.push({ path: 'protocol', message: `service "${caller.name}" calls this one with ${p.path}: ${p.message}` });
      }
      for (const p of analyzeDependencyHealthCheck(dep, i, spec)) {
        problems.push({ path: 'inbound.jwt', message: `service "${caller.name}" calls this one with ${p.path}: ${p.message}` });
      }
      if (analyzeDependencyMtls(caller, i, spec).length > 0) {
        problems.push({
          path: 'mtls.enabled',
          message: `service "${caller.name}" calls this one (dependencies.${i}) and has mtls.enabled false: it has no certificate to present`,
        });
      }
    });
  }
  return problems;
}

/** changedDependencies are the services the new spec started or stopped calling: their allow-lists change. */
function changedDependencies(previous: ServiceSpec | undefined, spec: ServiceSpec): string[] {
  const before = new Set(previous ? dependencyNamesOf(previous) : []);
  const after = new Set(dependencyNamesOf(spec));
  return [...before, ...after].filter((s) => before.has(s) !== after.has(s)).sort();
}

/** CatalogStore is what declaring and removing services reads and writes. */
export type CatalogStore = CatalogRepository & EndpointStore & SnapshotStore & Pick<RolloutRepository, 'registerRollouts'>;

export interface DeclareResult {
  readonly record: ServiceRecord;
  readonly created: boolean;
  /** The services whose snapshots were re-rendered: this one, its dependents, and the dependencies it added or dropped. */
  readonly rendered: readonly string[];
  /** The role ARNs the previous spec bound and this one does not: the service's key was re-issued for them. */
  readonly revokedRoles: readonly string[];
  /** What became of the service's certificate, when certificates are issued here: `reissued` after revoked roles. */
  readonly certificate?: Awaited<ReturnType<typeof ensureServiceCertificate>> | 'reissued';
}

/** DeclareCertificates lets declareService issue the service's certificate once the spec is stored. */
export interface DeclareCertificates {
  readonly issuer: CertificateIssuer;
  readonly store: CertificateRepository;
}

/**
 * revokedRoles are the role ARNs a spec change stops binding: nodes of those roles may have
 * fetched the service's private key, so it is replaced at once (declareService), not at its
 * next renewal. Compared as written: a role re-written with another path counts as revoked
 * too, which costs one early re-issue and never keeps a key that should go.
 */
export function revokedRoles(previous: ServiceSpec | undefined, spec: ServiceSpec): string[] {
  const kept = new Set(spec.identity?.iamRoleArns ?? []);
  return (previous?.identity?.iamRoleArns ?? []).filter((arn) => !kept.has(arn)).sort();
}

/**
 * declareService validates a spec (on its own and against the catalog), stores it and
 * re-renders what it changes: its own snapshot, those of the services that call it, and those
 * of the dependencies it added or dropped (their callers, hence their allow-lists, changed).
 * A protocol change, or mTLS or a JWT check turned on, is also checked against its callers'
 * specs. A rejected spec writes nothing, and neither does one whose snapshots would not be
 * consistent (InconsistentSnapshotError). With `certificates`, the service's certificate is
 * then issued when due, and re-issued at once when the change revoked roles (revokedRoles).
 */
export async function declareService(
  store: CatalogStore,
  input: unknown,
  settings: RenderSettings,
  options: { expectedName?: string; certificates?: DeclareCertificates } = {},
): Promise<DeclareResult> {
  const spec = parseServiceSpec(input);
  if (options.expectedName !== undefined && spec.name !== options.expectedName) {
    throw new ValidationError('invalid service spec', [
      { path: 'name', message: `"${spec.name}" does not match the name in the path, "${options.expectedName}"` },
    ]);
  }
  const [previous, deps] = await Promise.all([
    store.getService(spec.name),
    store.getServices(dependencyNamesOf(spec)),
  ]);
  const problems = analyzeSpec(spec, new Map([...deps].map(([name, r]) => [name, r.spec])));
  const mtlsTurnedOn = previous !== undefined && mtlsModeOf(previous.spec) !== 'strict' && mtlsModeOf(spec) === 'strict';
  const jwtTurnedOn = previous !== undefined && !previous.spec.inbound?.jwt && spec.inbound?.jwt !== undefined;
  if (previous && (previous.spec.protocol !== spec.protocol || mtlsTurnedOn || jwtTurnedOn)) {
    const dependents = await store.getServices(await store.listDependents(spec.name));
    problems.push(...analyzeDependents(spec, [...dependents.values()].map((r) => r.spec)));
  }
  // A gateway's listener certificates are read and checked before anything is written.
  const copier = gatewayCertificateCopier(options.certificates?.issuer);
  const listenerSecrets = copier && problems.length === 0 ? await readListenerSecrets(spec, copier.source, copier.now()) : undefined;
  problems.push(...listenerProblems(listenerSecrets ?? []));
  if (problems.length > 0) throw new ValidationError(`invalid service spec "${spec.name}"`, problems);

  // Every snapshot the change touches is rendered and checked before the spec is stored: an
  // inconsistent one is refused with nothing written.
  const affected = [spec.name, ...(await store.listDependents(spec.name)), ...changedDependencies(previous?.spec, spec)];
  const planned = await planSnapshots(store, affected, settings, { spec, revision: nextRevision(previous) });
  const record = await store.putService(spec, previous);
  // The rollouts the spec declares, for the controller to find (a changed one starts over).
  await store.registerRollouts(declaredRollouts(spec), new Date());
  if (!previous) await refreshEndpointAssignment(store, spec.name);
  const rendered = await storeSnapshots(store, planned);
  // The spec (hence the snapshot's bound roles) is the commit point, then the certificate. When
  // roles were revoked, a new key replaces the one their nodes may hold: from now on SDS serves
  // only the new one. (The old certificate stays valid until it expires: there is no CRL.)
  const revoked = revokedRoles(previous?.spec, spec);
  if (!options.certificates) return { record, created: !previous, rendered, revokedRoles: revoked };
  const { issuer, store: certificateStore } = options.certificates;
  const outcome = await ensureServiceCertificate(certificateStore, issuer, spec.name, {
    force: revoked.length > 0,
    boundRoles: spec.identity?.iamRoleArns ?? [],
  });
  // A gateway's listener certificates (and those of a gateway that is one no longer: dropped).
  if (copier && (kindOf(spec) === 'gateway' || (previous && kindOf(previous.spec) === 'gateway'))) {
    await copyGatewayCertificates(certificateStore, copier, spec, listenerSecrets);
  }
  return { record, created: !previous, rendered, revokedRoles: revoked, certificate: revoked.length > 0 ? 'reissued' : outcome };
}

/** gatewayCertificateCopier is what copying gateway listener certificates needs, when the issuer has a source for them. */
function gatewayCertificateCopier(issuer: CertificateIssuer | undefined): GatewayCertificateCopier | undefined {
  return issuer?.operatorCertificates ? { source: issuer.operatorCertificates, sealer: issuer.sealer, now: issuer.now } : undefined;
}

/**
 * removeService deletes a declared service, unless other services still depend on it, and
 * re-renders the services it called: it is no longer among their allowed callers.
 */
export async function removeService(store: CatalogStore, name: string, settings: RenderSettings): Promise<ServiceRecord> {
  const record = await store.getService(name);
  if (!record) throw new NotFoundError(`service "${name}"`);
  const dependents = await store.listDependents(name);
  if (dependents.length > 0) {
    throw new ConflictError(
      `service "${name}" is a dependency of ${dependents.map((d) => `"${d}"`).join(', ')}; remove it from their specs first`,
    );
  }
  await store.deleteService(record);
  await refreshSnapshots(store, changedDependencies(record.spec, { ...record.spec, dependencies: [] }), settings);
  return record;
}
