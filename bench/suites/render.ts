import { Endpoint } from '../../shared/model/endpoint';
import { Protocol, ServiceSpec } from '../../shared/model/spec';
import { parseServiceSpec } from '../../shared/model/parse-spec';
import { clusterLoadAssignment } from '../../shared/render/endpoint';
import { RenderSettings, defaultRenderSettings } from '../../shared/render/settings';
import { envoyBootstrap } from '../../shared/bootstrap/envoy-bootstrap';
import { bootstrapTelemetry } from '../../shared/render/stats';
import { ObservabilitySpec } from '../../shared/model/spec-observability';
import { renderSnapshot, snapshotVersions } from '../../shared/render/snapshot';
import { contentVersion } from '../../shared/envoy/version';
import { BenchContext, BenchRow, BenchSuite, percentile, round, timeSamples } from '../harness';

/**
 * Rendering cost, pure CPU (no store): one node's LDS/RDS/CDS with many dependencies and
 * their EDS, and a full rebuild of a whole mesh (every snapshot and every EDS resource,
 * versions included), as after a change of defaults or a redeploy that re-renders all.
 */

const protocols: readonly Protocol[] = ['http', 'http2', 'grpc', 'tcp'];
const zones = ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'];

export function serviceName(i: number): string {
  return `svc-${String(i).padStart(5, '0')}`;
}

/** dependencyEntry sets a realistic policy: retries, timeouts, breakers, a canary split, a header route, zone awareness. */
export function dependencyEntry(service: string, protocol: Protocol, localPort: number): Record<string, unknown> {
  const common = {
    service,
    localPort,
    circuitBreakers: { maxConnections: 512, maxRequests: 1024 },
    outlierDetection: { consecutive5xx: 3 },
    split: { subsets: [{ labels: { revision: '12' }, weight: 90 }, { labels: { revision: '13' }, weight: 10 }] },
    zoneAware: { enabled: true },
  };
  if (protocol === 'tcp') return { ...common, idleTimeoutMs: 600_000 };
  return {
    ...common,
    timeoutMs: 3_000,
    retries: { numRetries: 3, perTryTimeoutMs: 1_000 },
    healthCheck: protocol === 'grpc' ? { grpcServiceName: '' } : { path: '/healthz' },
    headerRoutes: [{ header: 'x-canary', exact: '1', subset: { revision: '13' } }],
  };
}

export function serviceSpec(i: number, dependencies: readonly number[], protocolOf: (j: number) => Protocol): ServiceSpec {
  return parseServiceSpec({
    name: serviceName(i),
    inboundPort: 15000,
    appPort: 8080,
    protocol: protocolOf(i),
    dependencies: dependencies.map((d, k) => dependencyEntry(serviceName(d), protocolOf(d), 20000 + k)),
  });
}

function endpoints(service: string, count: number): Endpoint[] {
  return Array.from({ length: count }, (_, k) => ({
    service,
    id: `arn:aws:ecs:eu-west-1:123456789012:task/prod/${service}-${String(k).padStart(4, '0')}`,
    address: `10.${(k >> 8) & 255}.${k & 255}.${(service.length * 7 + k) % 250}`,
    port: 15000,
    zone: zones[k % zones.length]!,
    health: k % 25 === 0 ? 'draining' : 'healthy',
    labels: { revision: k % 10 === 0 ? '13' : '12' },
    source: { kind: 'ecs-task', eventId: `ev-${k}`, eventTime: '2026-01-01T00:00:00Z', orderingKey: k + 1 },
  }));
}

const bytesOf = (value: unknown) => Buffer.byteLength(JSON.stringify(value));

async function oneNode(ctx: BenchContext, depCount: number, endpointCount: number): Promise<BenchRow[]> {
  const protocolOf = (j: number) => protocols[j % protocols.length]!;
  const deps = Array.from({ length: depCount }, (_, k) => serviceSpec(k + 1, [], protocolOf));
  const caller = serviceSpec(0, deps.map((_, k) => k + 1), () => 'http');
  const world = { spec: caller, dependencies: new Map(deps.map((d) => [d.name, d])), callers: [] };
  const eps = new Map(deps.map((d) => [d.name, endpoints(d.name, endpointCount)]));
  const samples = ctx.scale === 'full' ? 200 : 5;

  const resources = renderSnapshot(world, defaultRenderSettings);
  const snapshotTimes = await timeSamples(samples, () => snapshotVersions(renderSnapshot(world, defaultRenderSettings)));
  const edsTimes = await timeSamples(samples, () => {
    for (const d of deps) contentVersion(clusterLoadAssignment(d.name, eps.get(d.name)!));
  });
  const assignments = deps.map((d) => clusterLoadAssignment(d.name, eps.get(d.name)!));
  ctx.log(`one node: ${depCount} dependencies x ${endpointCount} endpoints`);
  return [
    {
      name: 'render one node LDS/RDS/CDS + versions',
      params: { dependencies: depCount },
      metrics: {
        p50_ms: round(percentile(snapshotTimes, 50)),
        p99_ms: round(percentile(snapshotTimes, 99)),
        bytes: bytesOf(resources),
        listeners: resources.listeners?.length ?? 0,
        routes: resources.routes?.length ?? 0,
        clusters: resources.clusters?.length ?? 0,
      },
    },
    {
      name: 'render its dependencies\u2019 EDS + versions',
      params: { services: depCount, endpoints_per_service: endpointCount },
      metrics: {
        p50_ms: round(percentile(edsTimes, 50)),
        p99_ms: round(percentile(edsTimes, 99)),
        per_service_ms: round(percentile(edsTimes, 50) / depCount, 4),
        bytes: bytesOf(assignments),
        resources: assignments.length,
      },
    },
  ];
}

/**
 * observabilityCost measures what tracing and metrics add (there is no Envoy here to time per
 * request): the bytes of one node's listeners (every HTTP listener carries the tracer), its
 * bootstrap (the sink, the inclusion list and tags, the collector cluster), and the render time.
 */
async function observabilityCost(ctx: BenchContext, depCount: number): Promise<BenchRow[]> {
  const protocolOf = (j: number) => protocols[j % protocols.length]!;
  const deps = Array.from({ length: depCount }, (_, k) => serviceSpec(k + 1, [], protocolOf));
  const caller = serviceSpec(0, deps.map((_, k) => k + 1), () => 'http');
  const world = { spec: caller, dependencies: new Map(deps.map((d) => [d.name, d])), callers: [] };
  const samples = ctx.scale === 'full' ? 200 : 5;
  const variants: [string, ObservabilitySpec | undefined][] = [
    ['none', undefined],
    ['metrics + X-Ray', { metrics: { enabled: true }, tracing: { provider: 'xray' } }],
    ['metrics + OpenTelemetry', { metrics: { enabled: true }, tracing: { provider: 'opentelemetry' } }],
  ];
  const rows: BenchRow[] = [];
  for (const [variant, observability] of variants) {
    const settings: RenderSettings = { ...defaultRenderSettings, ...(observability ? { observability } : {}) };
    const listeners = renderSnapshot(world, settings).listeners ?? [];
    const bootstrap = envoyBootstrap(
      {
        service: caller.name,
        nodeId: 'i-0123456789abcdef0',
        zone: 'eu-west-1a',
        controlPlaneUrl: 'https://abcdefghijklmnopqrstuvwxyz012345.lambda-url.eu-west-1.on.aws',
        signing: { region: 'eu-west-1', serviceName: 'lambda' },
        telemetry: bootstrapTelemetry(caller, settings),
      },
      settings,
    );
    const times = await timeSamples(samples, () => snapshotVersions(renderSnapshot(world, settings)));
    rows.push({
      name: 'observability: one node\u2019s listeners and bootstrap',
      params: { dependencies: depCount, observability: variant },
      metrics: {
        render_p50_ms: round(percentile(times, 50)),
        lds_bytes: bytesOf(listeners),
        http_listeners: listeners.filter((l) => JSON.stringify(l).includes('http_connection_manager')).length,
        bootstrap_bytes: bytesOf(bootstrap),
      },
    });
  }
  ctx.log(`observability: ${rows.map((r) => `${r.params.observability} ${r.metrics.lds_bytes} B LDS, ${r.metrics.bootstrap_bytes} B bootstrap`).join('; ')}`);
  return rows;
}

async function fullRebuild(ctx: BenchContext, serviceCount: number, depsPerService: number, endpointCount: number): Promise<BenchRow> {
  // Each service calls the next depsPerService services (wrapping): every service is called by as many.
  const protocolOf = (j: number) => protocols[j % protocols.length]!;
  const specs = Array.from({ length: serviceCount }, (_, i) =>
    serviceSpec(
      i,
      Array.from({ length: Math.min(depsPerService, serviceCount - 1) }, (_, k) => (i + k + 1) % serviceCount),
      protocolOf,
    ),
  );
  const byName = new Map(specs.map((s) => [s.name, s]));
  const eps = specs.map((s) => endpoints(s.name, endpointCount));

  // As refreshSnapshots does: render, version, hand over, drop. Sizes are summed as we go
  // (outside the timed part); the heap is sampled to see what a rebuild holds at its peak.
  // Each service's callers (its default allow-list), as refreshSnapshots reads them from the dependents index.
  const callersOf = new Map<string, string[]>();
  for (const s of specs) for (const d of s.dependencies) callersOf.set(d.service, [...(callersOf.get(d.service) ?? []), s.name]);
  const heapBefore = process.memoryUsage().heapUsed;
  let heapPeak = heapBefore;
  let elapsed = 0n;
  let bytes = 0;
  let resources = 0;
  const versions: string[] = [];
  for (const [i, spec] of specs.entries()) {
    const start = process.hrtime.bigint();
    const dependencies = new Map(spec.dependencies.map((d) => [d.service, byName.get(d.service)!]));
    const snapshot = renderSnapshot({ spec, dependencies, callers: callersOf.get(spec.name) ?? [] }, defaultRenderSettings);
    const snapshotVersion = snapshotVersions(snapshot);
    const assignment = clusterLoadAssignment(spec.name, eps[i]!);
    const version = contentVersion(assignment);
    elapsed += process.hrtime.bigint() - start;
    versions.push(`${snapshotVersion.clusters}${version}`);
    bytes += bytesOf(snapshot) + bytesOf(assignment);
    resources += (snapshot.listeners?.length ?? 0) + (snapshot.routes?.length ?? 0) + (snapshot.clusters?.length ?? 0) + 1;
    if (i % 500 === 0) heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
  }
  const seconds = Number(elapsed) / 1e9;
  const memory = process.memoryUsage();
  heapPeak = Math.max(heapPeak, memory.heapUsed);
  ctx.log(`full rebuild: ${serviceCount} services in ${seconds.toFixed(2)} s`);
  return {
    name: 'full rebuild: every snapshot and EDS resource, versions included',
    params: { services: serviceCount, dependencies_per_service: depsPerService, endpoints_per_service: endpointCount },
    metrics: {
      total_s: round(seconds),
      per_service_ms: round((seconds * 1000) / serviceCount, 4),
      resources,
      bytes,
      heap_peak_delta_mb: round((heapPeak - heapBefore) / 2 ** 20, 1),
      rss_mb: round(memory.rss / 2 ** 20, 1),
      versions: new Set(versions).size,
    },
  };
}

export const suite: BenchSuite = {
  name: 'render',
  async run(ctx) {
    const full = ctx.scale === 'full';
    return [
      ...(await oneNode(ctx, full ? 100 : 5, full ? 50 : 3)),
      ...(await observabilityCost(ctx, full ? 100 : 5)),
      await fullRebuild(ctx, full ? 10_000 : 20, full ? 10 : 3, full ? 20 : 3),
    ];
  },
};
