import { dependencyDefaults, serviceDefaults } from '../model/defaults';
import type { Dependency, Protocol, RetryCondition, ServiceSpec } from '../model/spec';
import { grpcRetryConditions } from '../model/service-terms';
import type { Faults, Mirror, RateLimit, RouteMatch } from '../model/spec-traffic';

/**
 * The effective traffic policy of one dependency or of the service itself: the spec with
 * every gap filled from defaults.ts. Builders read only these, so a default lives in one place
 * and a rendered field can always be traced to a spec field or a named default.
 */

export interface RetryPolicy {
  readonly retryOn: readonly RetryCondition[];
  readonly statusCodes: readonly number[];
  readonly numRetries: number;
  readonly perTryTimeoutMs: number;
  readonly baseIntervalMs: number;
  readonly maxIntervalMs: number;
  readonly hostSelectionRetryMaxAttempts: number;
}

export interface HealthCheckPolicy {
  readonly path: string;
  readonly grpcServiceName: string;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly unhealthyThreshold: number;
  readonly healthyThreshold: number;
}

export interface SubsetWeight {
  readonly labels: Readonly<Record<string, string>>;
  readonly weight: number;
}

export interface HeaderRoute {
  readonly header: string;
  readonly exact: string | undefined;
  readonly subset: Readonly<Record<string, string>>;
}

/** AffinityPolicy is what a dependency's sticky sessions hash on (spec-affinity.ts; rendered by affinity.ts). */
export type AffinityPolicy =
  | { readonly kind: 'header'; readonly header: string }
  | { readonly kind: 'cookie'; readonly name: string; readonly ttlSeconds: number; readonly path: string | undefined }
  | { readonly kind: 'sourceIp' };

/** affinityOf resolves a dependency's affinity spec: exactly one of its three keys is set (the schema sees to it). */
function affinityOf(spec: Dependency['affinity']): AffinityPolicy | undefined {
  if (!spec) return undefined;
  if (spec.header !== undefined) return { kind: 'header', header: spec.header };
  if (spec.cookie !== undefined) return { kind: 'cookie', name: spec.cookie.name, ttlSeconds: spec.cookie.ttlSeconds, path: spec.cookie.path };
  return { kind: 'sourceIp' };
}

/**
 * RoutePolicy is one entry of a dependency's `routes[]`, resolved: where matching requests
 * go (a subset, a split, or the dependency's default when neither) and under which timeouts
 * and retries (the route's own, else the dependency's).
 */
export interface RoutePolicy {
  readonly match: RouteMatch;
  readonly subset: Readonly<Record<string, string>> | undefined;
  readonly split: readonly SubsetWeight[] | undefined;
  readonly timeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly retries: RetryPolicy;
  readonly rewritePrefix: string | undefined;
  readonly rateLimit: RateLimit | undefined;
}

export interface DependencyPolicy {
  readonly protocol: Protocol;
  readonly connectTimeoutMs: number;
  readonly timeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly retries: RetryPolicy;
  readonly circuitBreakers: {
    readonly maxConnections: number;
    readonly maxPendingRequests: number;
    readonly maxRequests: number;
    readonly maxRetries: number;
  };
  readonly outlierDetection:
    | {
        readonly consecutive5xx: number;
        readonly consecutiveGatewayErrors: number;
        readonly intervalMs: number;
        readonly baseEjectionTimeMs: number;
        readonly maxEjectionPercent: number;
      }
    | undefined;
  readonly healthCheck: HealthCheckPolicy | undefined;
  readonly split: readonly SubsetWeight[];
  readonly headerRoutes: readonly HeaderRoute[];
  readonly zoneAware: { readonly minClusterSize: number; readonly routingEnabledPercent: number } | undefined;
  /** Sticky sessions by consistent hashing (affinity.ts); zone-aware routing is then off, as Envoy does not combine them. */
  readonly affinity: AffinityPolicy | undefined;
  /** routes[] (HTTP protocols), matched before headerRoutes and the split. */
  readonly routes: readonly RoutePolicy[];
  readonly faults: Faults | undefined;
  readonly mirror: Mirror | undefined;
}

const grpcOnly: ReadonlySet<string> = new Set(grpcRetryConditions);

/** DependencyPolicyInput is a dependency entry's policy fields: where it listens does not matter here. */
export type DependencyPolicyInput = Omit<Dependency, 'service' | 'localPort'>;

/**
 * dependencyPolicy resolves a dependency's policy for the protocol its service speaks.
 * gRPC retry conditions are dropped for other protocols (write-time analysis rejects them;
 * rendering stays total so a stored spec can never make it throw).
 */
export function dependencyPolicy(dep: DependencyPolicyInput, protocol: Protocol): DependencyPolicy {
  const d = dependencyDefaults;
  const tcp = protocol === 'tcp';
  const r = dep.retries;
  const retryOn = (r?.retryOn ?? (protocol === 'grpc' ? d.retries.retryOn.grpc : d.retries.retryOn.http)).filter(
    (c) => protocol === 'grpc' || !grpcOnly.has(c),
  );
  const baseIntervalMs = r?.backOff?.baseIntervalMs ?? d.retries.backOff.baseIntervalMs;
  const od = dep.outlierDetection;
  const hc = dep.healthCheck;
  const za = dep.zoneAware;
  return {
    protocol,
    connectTimeoutMs: dep.connectTimeoutMs ?? d.connectTimeoutMs,
    timeoutMs: dep.timeoutMs ?? d.timeoutMs,
    idleTimeoutMs: dep.idleTimeoutMs ?? (tcp ? d.idleTimeoutMs.tcp : d.idleTimeoutMs.http),
    retries: {
      retryOn: [...new Set(retryOn)],
      statusCodes: [...new Set(r?.statusCodes ?? [])].sort((a, b) => a - b),
      numRetries: r?.numRetries ?? d.retries.numRetries,
      perTryTimeoutMs: r?.perTryTimeoutMs ?? d.retries.perTryTimeoutMs,
      baseIntervalMs,
      maxIntervalMs: r?.backOff?.maxIntervalMs ?? baseIntervalMs * d.retries.backOff.maxIntervalFactor,
      hostSelectionRetryMaxAttempts: d.retries.hostSelectionRetryMaxAttempts,
    },
    circuitBreakers: { ...d.circuitBreakers, ...dep.circuitBreakers },
    outlierDetection:
      (od?.enabled ?? d.outlierDetection.enabled)
        ? {
            consecutive5xx: od?.consecutive5xx ?? d.outlierDetection.consecutive5xx,
            consecutiveGatewayErrors: od?.consecutiveGatewayErrors ?? d.outlierDetection.consecutiveGatewayErrors,
            intervalMs: od?.intervalMs ?? d.outlierDetection.intervalMs,
            baseEjectionTimeMs: od?.baseEjectionTimeMs ?? d.outlierDetection.baseEjectionTimeMs,
            maxEjectionPercent: od?.maxEjectionPercent ?? d.outlierDetection.maxEjectionPercent,
          }
        : undefined,
    healthCheck: hc
      ? {
          path: hc.path ?? d.healthCheck.path,
          grpcServiceName: hc.grpcServiceName ?? '',
          intervalMs: hc.intervalMs ?? d.healthCheck.intervalMs,
          timeoutMs: hc.timeoutMs ?? d.healthCheck.timeoutMs,
          unhealthyThreshold: hc.unhealthyThreshold ?? d.healthCheck.unhealthyThreshold,
          healthyThreshold: hc.healthyThreshold ?? d.healthCheck.healthyThreshold,
        }
      : undefined,
    split: dep.split?.subsets ?? [],
    headerRoutes: tcp ? [] : (dep.headerRoutes ?? []).map((h) => ({ header: h.header, exact: h.exact, subset: h.subset })),
    affinity: affinityOf(dep.affinity),
    zoneAware:
      (za?.enabled ?? d.zoneAware.enabled) && !dep.affinity
        ? {
            minClusterSize: za?.minClusterSize ?? d.zoneAware.minClusterSize,
            routingEnabledPercent: za?.routingEnabledPercent ?? d.zoneAware.routingEnabledPercent,
          }
        : undefined,
    routes: tcp
      ? []
      : (dep.routes ?? []).map((route) => {
          const own = dependencyPolicy({ timeoutMs: route.timeoutMs ?? dep.timeoutMs, retries: route.retries ?? dep.retries, idleTimeoutMs: dep.idleTimeoutMs }, protocol);
          return {
            match: route.match,
            subset: route.subset,
            split: route.split?.subsets,
            timeoutMs: own.timeoutMs,
            idleTimeoutMs: own.idleTimeoutMs,
            retries: own.retries,
            rewritePrefix: route.rewritePrefix,
            rateLimit: route.rateLimit,
          };
        }),
    faults: tcp ? undefined : dep.faults,
    mirror: tcp ? undefined : dep.mirror,
  };
}

/** subsetsOf lists every label set a dependency's policy sends to: its split, header routes and routes. */
export function subsetsOf(policy: DependencyPolicy): Readonly<Record<string, string>>[] {
  return [
    ...policy.split.map((s) => s.labels),
    ...policy.headerRoutes.map((h) => h.subset),
    ...policy.routes.flatMap((r) => [...(r.subset ? [r.subset] : []), ...(r.split ?? []).map((s) => s.labels)]),
  ];
}

/** subsetKeySets lists the distinct label-key sets a dependency's splits, header routes and routes select on, sorted. */
export function subsetKeySets(policy: DependencyPolicy): string[][] {
  const sets = new Map<string, string[]>();
  for (const labels of subsetsOf(policy)) {
    const keys = Object.keys(labels).sort();
    sets.set(keys.join('\n'), keys);
  }
  // '\n' sorts below any label character, so ['revision'] comes before ['revision', 'track'].
  return [...sets.keys()].sort().map((k) => sets.get(k)!);
}

export interface ServicePolicy {
  readonly accessLog: boolean;
  readonly statsPrefix: string;
  readonly generateRequestId: boolean;
  readonly preserveExternalRequestId: boolean;
  readonly inboundTimeoutMs: number;
  readonly inboundIdleTimeoutMs: number;
}

/** servicePolicy resolves what the service's own sidecar does, for its inbound side and every listener. */
export function servicePolicy(spec: ServiceSpec): ServicePolicy {
  const d = serviceDefaults;
  return {
    accessLog: spec.accessLog?.enabled ?? d.accessLog.enabled,
    statsPrefix: spec.statsPrefix ?? d.statsPrefix,
    generateRequestId: spec.requestId?.generate ?? d.requestId.generate,
    preserveExternalRequestId: spec.requestId?.preserveExternal ?? d.requestId.preserveExternal,
    inboundTimeoutMs: spec.inbound?.timeoutMs ?? d.inbound.timeoutMs,
    inboundIdleTimeoutMs:
      spec.inbound?.idleTimeoutMs ?? (spec.protocol === 'tcp' ? d.inbound.idleTimeoutMs.tcp : d.inbound.idleTimeoutMs.http),
  };
}

/** duration renders whole milliseconds as a proto3 JSON Duration: 2500 → "2.5s", 0 → "0s". */
export function duration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  const rest = ms % 1000;
  return rest === 0 ? `${seconds}s` : `${seconds}.${String(rest).padStart(3, '0').replace(/0+$/, '')}s`;
}

/**
 * fractionalPercent renders a spec percentage (up to four decimals) as an Envoy
 * FractionalPercent per million, which gRPC reads too: 12.5 → 125000 / MILLION.
 */
export function fractionalPercent(percent: number): Record<string, unknown> {
  return { numerator: Math.round(percent * 10_000), denominator: 'MILLION' };
}
