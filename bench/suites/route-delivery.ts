import { Protocol, ServiceSpec, ServiceSpecInput } from '../../shared/model/spec';
import { parseServiceSpec } from '../../shared/model/parse-spec';
import { buildNodeWorld } from '../../shared/model/node-world';
import { RenderSettings, RouteDelivery, defaultRenderSettings } from '../../shared/render/settings';
import { renderSnapshot } from '../../shared/render/snapshot';
import { EnvoyResource, SnapshotResources } from '../../shared/envoy/resources';
import { contentVersion } from '../../shared/envoy/version';
import { BenchContext, BenchRow, BenchSuite, round } from '../harness';
import { dependencyEntry, serviceName } from './render';

/**
 * Route delivery under spec churn: how often an Envoy's listeners change when routes are
 * served over RDS and when they are inline in LDS (`routeDelivery`, render/settings.ts). A
 * listener change drains the listener's connections on every Envoy of the service, so inline
 * routes trade RDS polls (docs/cost.md) for drains. Pure computation on a generated mesh: a
 * seeded sequence of typical spec changes (the mix below) is applied one at a time, and for
 * each, the snapshots of the services it touches are rendered before and after in both modes
 * and compared resource by resource. Not timed.
 */

/** The changes operators make to specs, and how often each, of all spec changes. */
export const churnMix = [
  { kind: 'canary step (split weights)', share: 0.3 },
  { kind: 'timeout or retries of a dependency', share: 0.25 },
  { kind: 'circuit breakers or outlier detection', share: 0.2 },
  { kind: 'dependency added or removed', share: 0.15 },
  { kind: 'inbound timeout', share: 0.1 },
] as const;
export type ChurnKind = (typeof churnMix)[number]['kind'];

/** mulberry32: a small seeded PRNG, so every run applies the same changes. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Input = Omit<ServiceSpecInput, 'dependencies'> & { dependencies: Record<string, unknown>[] };

/** What one change did to the Envoys of the services it touched, in one delivery mode. */
export interface ChangeEffect {
  /** Listeners whose content changed, summed over the touched services (each drains on their Envoys). */
  readonly listenersChanged: number;
  /** Whether any touched service's LDS / RDS version changed. */
  readonly ldsUpdated: boolean;
  readonly rdsUpdated: boolean;
}

export interface ChurnResult {
  readonly kind: ChurnKind;
  readonly effects: Readonly<Record<RouteDelivery, ChangeEffect>>;
}

export interface ChurnOptions {
  readonly services: number;
  readonly dependenciesPerService: number;
  readonly changes: number;
  readonly seed: number;
}

const protocols: readonly Protocol[] = ['http', 'http2', 'grpc', 'tcp'];
const protocolOf = (j: number) => protocols[j % protocols.length]!;

/** simulateChurn applies `changes` random changes of the mix to a generated mesh and reports each one's effect in both modes. */
export function simulateChurn(options: ChurnOptions): ChurnResult[] {
  const random = prng(options.seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const inputs = new Map<string, Input>();
  for (let i = 0; i < options.services; i++) {
    const deps = Array.from({ length: Math.min(options.dependenciesPerService, options.services - 1) }, (_, k) => (i + k + 1) % options.services);
    inputs.set(serviceName(i), {
      name: serviceName(i),
      inboundPort: 15000,
      appPort: 8080,
      protocol: protocolOf(i),
      dependencies: deps.map((d, k) => dependencyEntry(serviceName(d), protocolOf(d), 20000 + k)),
    });
  }
  const specs = new Map([...inputs].map(([name, input]) => [name, parseServiceSpec(input)]));
  const settingsOf = (routeDelivery: RouteDelivery): RenderSettings => ({ ...defaultRenderSettings, routeDelivery });
  const render = (name: string, routeDelivery: RouteDelivery): SnapshotResources => {
    const callers = [...specs.values()].filter((s) => s.dependencies.some((d) => d.service === name)).map((s) => s.name);
    const built = buildNodeWorld(specs.get(name)!, specs, callers);
    if (!('world' in built)) throw new Error(`${name} lacks ${built.missingDependencies.join(', ')}`);
    return renderSnapshot(built.world, settingsOf(routeDelivery));
  };
  const protocolOfService = (name: string) => specs.get(name)!.protocol;

  const results: ChurnResult[] = [];
  const cumulative = churnMix.reduce<number[]>((acc, m) => [...acc, (acc[acc.length - 1] ?? 0) + m.share], []);
  for (let n = 0; n < options.changes; n++) {
    const r = random();
    const kind = churnMix[cumulative.findIndex((c) => r < c)]?.kind ?? churnMix[churnMix.length - 1]!.kind;
    const name = pick([...inputs.keys()]);
    const input = structuredClone(inputs.get(name)!);
    const touched = new Set([name]);
    const dep = input.dependencies.length > 0 ? pick(input.dependencies) : undefined;
    switch (kind) {
      case 'canary step (split weights)': {
        if (!dep) continue;
        const canary = pick([0, 5, 10, 25, 50, 75, 100]);
        dep.split = { subsets: [{ labels: { revision: '12' }, weight: 100 - canary }, { labels: { revision: '13' }, weight: canary }] };
        break;
      }
      case 'timeout or retries of a dependency':
        if (!dep) continue;
        if (protocolOfService(String(dep.service)) === 'tcp') dep.idleTimeoutMs = pick([300_000, 600_000, 900_000]);
        else if (random() < 0.5) dep.timeoutMs = pick([1_000, 2_000, 3_000, 5_000]);
        else dep.retries = { numRetries: pick([1, 2, 3]), perTryTimeoutMs: pick([500, 1_000]) };
        break;
      case 'circuit breakers or outlier detection':
        if (!dep) continue;
        if (random() < 0.5) dep.circuitBreakers = { maxConnections: 512, maxRequests: pick([512, 1024, 2048]) };
        else dep.outlierDetection = { consecutive5xx: pick([3, 5, 7]) };
        break;
      case 'dependency added or removed': {
        const current = new Set(input.dependencies.map((d) => String(d.service)));
        const candidates = [...inputs.keys()].filter((s) => s !== name && !current.has(s));
        if (random() < 0.5 && input.dependencies.length > 1) {
          const removed = input.dependencies.splice(input.dependencies.indexOf(dep!), 1)[0]!;
          touched.add(String(removed.service));
        } else if (candidates.length > 0) {
          const added = pick(candidates);
          const ports = new Set(input.dependencies.map((d) => Number(d.localPort)));
          let port = 20000;
          while (ports.has(port)) port++;
          input.dependencies.push(dependencyEntry(added, protocolOfService(added), port));
          touched.add(added);
        } else continue;
        break;
      }
      case 'inbound timeout':
        input.inbound = { timeoutMs: pick([10_000, 15_000, 30_000, 60_000]) };
        break;
    }
    const changed = parseServiceSpec(input);
    if (JSON.stringify(changed) === JSON.stringify(specs.get(name))) continue; // a step to where it already was: no change
    const modes: RouteDelivery[] = ['rds', 'inline'];
    const before = new Map(modes.map((m) => [m, [...touched].map((s) => render(s, m))]));
    inputs.set(name, input);
    specs.set(name, changed);
    const effects = Object.fromEntries(
      modes.map((m) => {
        const after = [...touched].map((s) => render(s, m));
        const old = before.get(m)!;
        return [m, effectOf(old, after)];
      }),
    ) as Record<RouteDelivery, ChangeEffect>;
    results.push({ kind, effects });
  }
  return results;
}

function effectOf(before: readonly SnapshotResources[], after: readonly SnapshotResources[]): ChangeEffect {
  let listenersChanged = 0;
  let ldsUpdated = false;
  let rdsUpdated = false;
  for (const [i, a] of after.entries()) {
    const b = before[i]!;
    const versions = (list: readonly EnvoyResource[] | undefined) => new Map((list ?? []).map((r) => [String(r.name), contentVersion(r)]));
    const lb = versions(b.listeners);
    const la = versions(a.listeners);
    // A listener whose content changed (or that was replaced) drains; a new one drains nothing.
    for (const [name, v] of la) if (lb.has(name) && lb.get(name) !== v) listenersChanged++;
    for (const name of lb.keys()) if (!la.has(name)) listenersChanged++;
    if (contentVersion(b.listeners ?? []) !== contentVersion(a.listeners ?? [])) ldsUpdated = true;
    if (contentVersion(b.routes ?? []) !== contentVersion(a.routes ?? [])) rdsUpdated = true;
  }
  return { listenersChanged, ldsUpdated, rdsUpdated };
}

/** summarize turns the effects of many changes into shares and means, per mode and per kind of change. */
export function summarize(results: readonly ChurnResult[], mode: RouteDelivery, kind?: ChurnKind): Record<string, number> {
  const of = results.filter((r) => kind === undefined || r.kind === kind).map((r) => r.effects[mode]);
  const share = (f: (e: ChangeEffect) => boolean) => (of.length === 0 ? 0 : of.filter(f).length / of.length);
  return {
    changes: of.length,
    lds_update_share: round(share((e) => e.ldsUpdated), 3),
    rds_update_share: round(share((e) => e.rdsUpdated), 3),
    listeners_drained_per_change: round(of.reduce((s, e) => s + e.listenersChanged, 0) / Math.max(1, of.length), 3),
  };
}

/** ldsBytes is the mean LDS size of a mesh's services in one mode: what a listener update carries. */
function ldsBytes(services: readonly ServiceSpec[], mode: RouteDelivery): number {
  const specs = new Map(services.map((s) => [s.name, s]));
  let total = 0;
  for (const s of services) {
    const callers = services.filter((c) => c.dependencies.some((d) => d.service === s.name)).map((c) => c.name);
    const built = buildNodeWorld(s, specs, callers);
    if ('world' in built) total += Buffer.byteLength(JSON.stringify(renderSnapshot(built.world, { ...defaultRenderSettings, routeDelivery: mode }).listeners));
  }
  return Math.round(total / services.length);
}

export const suite: BenchSuite = {
  name: 'route-delivery',
  async run(ctx: BenchContext): Promise<BenchRow[]> {
    const full = ctx.scale === 'full';
    const options: ChurnOptions = { services: full ? 200 : 20, dependenciesPerService: full ? 10 : 3, changes: full ? 2_000 : 50, seed: 20 };
    const results = simulateChurn(options);
    const sample = Array.from({ length: options.services }, (_, i) =>
      parseServiceSpec({
        name: serviceName(i),
        inboundPort: 15000,
        appPort: 8080,
        protocol: protocolOf(i),
        dependencies: Array.from({ length: Math.min(options.dependenciesPerService, options.services - 1) }, (_, k) => (i + k + 1) % options.services).map((d, k) =>
          dependencyEntry(serviceName(d), protocolOf(d), 20000 + k),
        ),
      }),
    );
    const rows: BenchRow[] = [];
    for (const mode of ['rds', 'inline'] as const) {
      rows.push({
        name: 'spec churn: listener and route updates per spec change',
        params: { route_delivery: mode, services: options.services, dependencies_per_service: options.dependenciesPerService },
        metrics: { ...summarize(results, mode), lds_bytes_per_service: ldsBytes(sample, mode) },
      });
      for (const { kind } of churnMix) {
        rows.push({ name: 'spec churn by kind of change', params: { route_delivery: mode, kind }, metrics: summarize(results, mode, kind) });
      }
    }
    ctx.log(`route delivery: ${results.length} changes simulated`);
    return rows;
  },
};
