import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { mockClient } from 'aws-sdk-client-mock';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { BenchContext, BenchRow, BenchSuite, round } from '../harness';
import { createDocumentClient, ensureTable } from '../../shared/store/dynamodb';
import { MeshStore } from '../../shared/store/mesh-store';
import { keys } from '../../shared/store/layout';
import { parseServiceSpec } from '../../shared/model/parse-spec';
import { ServiceSpec } from '../../shared/model/spec';
import { defaults } from '../../shared/config';
import { defaultRenderSettings } from '../../shared/render/settings';
import { InstanceDescription } from '../../shared/lifecycle/ports';
import { instanceObservationChange } from '../../shared/reconcile/observe';
import { reconcileFleet } from '../../shared/reconcile/reconcile';
import { advanceRebuild, requestRebuild } from '../../shared/reconcile/rebuild-driver';
import { renderDigest } from '../../shared/reconcile/render-digest';
import { RebuildRun } from '../../shared/store/rebuilds';
import { rebuildFunctionDefaults } from '../../functions/rebuild/handler';
import { Ec2Instances } from '../../functions/lifecycle/aws/ec2';
import { sdkEc2 } from '../../test/support/sdk-ec2';

/**
 * The whole-fleet jobs at 10,000 services and 100,000 endpoints (10 per service, each service
 * calling 10 others): the full rebuild (every snapshot and every assignment rendered again and
 * stored, shared/reconcile/rebuild.ts) and a reconciler run (every instance listed, every
 * service's endpoints and assignment read and checked, shared/reconcile/reconcile.ts). The
 * rebuild runs as the rebuild function runs it (rebuild-driver.ts): slices of the function's
 * timeout less its reserve (150 s), one after the other; each row gives the slices it took, the
 * longest, and the DynamoDB requests per service (what bounds it against real DynamoDB, where
 * each is a round trip), once with a page's assignments rendered one after the other (as
 * before) and once as deployed, both after an unmeasured warm-up rebuild (so each replaces
 * the assignments a previous one wrote, as in a deployed mesh). Time and peak memory of this
 * process, sampled every 20 ms: DynamoDB (dynalite) runs in a child process so its table is
 * not counted, and EC2 is answered in process by aws-sdk-client-mock (100 pages of 1,000
 * instances). The reconciler function has 1,024 MB and 2 minutes (infra/reconciler.ts), the
 * rebuild function 1,024 MB and 3 minutes (infra/rebuild.ts). dynalite answers one request at
 * a time, so times here are bound by its throughput (a few thousand small requests a second
 * on this machine), not DynamoDB's.
 */
export const suite: BenchSuite = {
  name: 'fleet-scale',
  async run(ctx: BenchContext): Promise<BenchRow[]> {
    const full = ctx.scale === 'full';
    const services = full ? 10_000 : 30;
    const perService = full ? 10 : 3;
    const dependencies = full ? 10 : 2;
    const dynamo = await spawnDynalite();
    const ec2 = mockClient(EC2Client);
    const rows: BenchRow[] = [];
    try {
      const tableName = `fleet-${randomUUID().slice(0, 8)}`;
      await ensureTable(dynamo.doc, tableName);
      const store = new MeshStore(dynamo.doc, tableName);
      const seedStart = Date.now();
      await seed(dynamo.doc, tableName, services, perService, dependencies);
      ctx.log(`seeded ${services} services and ${services * perService} endpoints in ${((Date.now() - seedStart) / 1000).toFixed(1)} s`);
      ec2.on(DescribeInstancesCommand).callsFake((input: { NextToken?: string }) => {
        const start = input.NextToken ? Number(input.NextToken) : 0;
        const total = services * perService;
        const page = Array.from({ length: Math.min(1000, total - start) }, (_, k) => ec2Instance(start + k, perService));
        return { Reservations: [{ Instances: page }], ...(start + 1000 < total ? { NextToken: String(start + 1000) } : {}) };
      });
      const params = { services, endpoints: services * perService, dependencies_per_service: dependencies };

      // The rebuild as the rebuild function runs it (functions/rebuild/handler.ts): slices that
      // stop taking pages at the timeout less the reserve, one after the other, until the run is
      // done; then the same with a page's assignments rendered one after the other, as before.
      const requests = countRequests(dynamo.doc);
      // A warm-up rebuild first, not measured: in a deployed mesh every service already has an
      // assignment, whose shards a rebuild replaces (one more request per service), and both
      // variants must meet the same table.
      const warmup = await slicedRebuild(store, rebuildVariants[1]!);
      ctx.log(`warm-up rebuild: ${warmup.slices.length} slice(s)`);
      for (const variant of rebuildVariants) {
        await requestRebuild(store, new Date());
        requests.reset();
        const rebuilt = await measured(() => slicedRebuild(store, variant));
        const slices = rebuilt.result.slices;
        ctx.log(`rebuild (${variant.label}): ${rebuilt.seconds.toFixed(1)} s in ${slices.length} slice(s), peak RSS ${rebuilt.peakRssMb.toFixed(0)} MB; requests ${JSON.stringify(requests.byCommand())}`);
        const last = rebuilt.result.last;
        rows.push({
          name: `full rebuild in slices of the rebuild function: ${variant.label}`,
          params: { ...params, page_size: variant.pageSize, concurrency: variant.concurrency, assignment_concurrency: variant.assignmentConcurrency, slice_budget_s: sliceBudgetMs / 1000 },
          metrics: {
            seconds: round(rebuilt.seconds, 1),
            slices: slices.length,
            slice_s_max: round(Math.max(...slices), 1),
            slice_s_mean: round(slices.reduce((a, b) => a + b, 0) / slices.length, 1),
            services_per_s: round(last.services / rebuilt.seconds, 1),
            requests_per_service: round(requests.total() / services, 2),
            cpu_s: round(rebuilt.cpuSeconds, 1),
            peak_rss_mb: round(rebuilt.peakRssMb, 0),
            peak_heap_mb: round(rebuilt.peakHeapMb, 0),
            snapshots: last.snapshots,
            assignments: last.assignments,
            errors: last.errorCount,
          },
        });
      }

      const run = await measured(() =>
        reconcileFleet({ store, instances: new Ec2Instances(sdkEc2(new EC2Client({ region: 'us-east-1' }))), now: () => observedAt }, { runId: 'bench-fleet' }),
      );
      ctx.log(`reconcile: ${run.seconds.toFixed(1)} s, peak RSS ${run.peakRssMb.toFixed(0)} MB`);
      const drift = run.result.drift;
      rows.push({
        name: 'reconcile run (whole fleet)',
        params,
        metrics: {
          seconds: round(run.seconds, 1),
          cpu_s: round(run.cpuSeconds, 1),
          peak_rss_mb: round(run.peakRssMb, 0),
          peak_heap_mb: round(run.peakHeapMb, 0),
          drift: drift.added + drift.updated + drift.drained + drift.removed,
          assignment_drift: run.result.assignmentDrift.length,
          errors: run.result.errors.length,
        },
      });
    } finally {
      ec2.restore();
      await dynamo.stop();
    }
    return rows;
  },
};

const observedAt = new Date('2026-11-25T12:00:00Z');

/** A slice's time for pages: the rebuild function's timeout less its reserve (functions/rebuild/handler.ts). */
const sliceBudgetMs = rebuildFunctionDefaults.timeoutSeconds * 1000 - rebuildFunctionDefaults.reserveMs;

interface RebuildVariant {
  readonly label: string;
  readonly pageSize: number;
  readonly concurrency: number;
  readonly assignmentConcurrency: number;
}

const rebuildVariants: readonly RebuildVariant[] = [
  { label: "a page's assignments one after the other (before)", pageSize: 25, concurrency: 4, assignmentConcurrency: 1 },
  { label: 'as deployed', pageSize: rebuildFunctionDefaults.pageSize, concurrency: rebuildFunctionDefaults.concurrency, assignmentConcurrency: 8 },
];

/** slicedRebuild drives a rebuild to its end, a slice at a time as the schedule would, and times each slice. */
async function slicedRebuild(store: MeshStore, variant: RebuildVariant): Promise<{ slices: number[]; last: RebuildRun }> {
  const digest = renderDigest(defaultRenderSettings);
  const slices: number[] = [];
  for (let i = 0; i < 1000; i++) {
    const start = Date.now();
    const step = await advanceRebuild(
      { store, settings: defaultRenderSettings, digest, now: Date.now, owner: `bench-${i}` },
      { deadlineMs: start + sliceBudgetMs, leaseUntilMs: start + sliceBudgetMs + rebuildFunctionDefaults.reserveMs, pageSize: variant.pageSize, concurrency: variant.concurrency, assignmentConcurrency: variant.assignmentConcurrency },
    );
    slices.push((Date.now() - start) / 1000);
    if (step.outcome === 'finished') return { slices, last: step.state!.last! };
    if (step.outcome !== 'advanced') throw new Error(`rebuild slice ${i}: ${step.outcome}`);
  }
  throw new Error('the rebuild did not finish in 1,000 slices');
}

/** countRequests counts the DynamoDB requests a document client sends (each retry is not counted again). */
function countRequests(doc: DynamoDBDocumentClient): { total(): number; reset(): void; byCommand(): Record<string, number> } {
  let count = 0;
  let by: Record<string, number> = {};
  doc.middlewareStack.add(
    (next, context) => async (args) => {
      count++;
      by[context.commandName ?? '?'] = (by[context.commandName ?? '?'] ?? 0) + 1;
      return next(args);
    },
    { step: 'initialize', name: 'benchRequestCounter' },
  );
  return { total: () => count, byCommand: () => by, reset: () => ((count = 0), (by = {})) };
}
const serviceName = (n: number) => `svc-${String(n).padStart(5, '0')}`;
const instanceId = (k: number) => `i-${k.toString(16).padStart(17, '0')}`;
const zones = ['us-east-1a', 'us-east-1b', 'us-east-1c'];

function ec2Instance(k: number, perService: number) {
  return {
    InstanceId: instanceId(k),
    State: { Name: 'running' },
    PrivateIpAddress: `10.${(k >> 16) & 255}.${(k >> 8) & 255}.${k & 255}`,
    Placement: { AvailabilityZone: zones[k % 3] },
    InstanceType: 'm7g.large',
    Tags: [{ Key: defaults.meshTagKey, Value: serviceName(Math.floor(k / perService)) }],
  };
}

function specOf(n: number, services: number, dependencies: number): ServiceSpec {
  return parseServiceSpec({
    name: serviceName(n),
    inboundPort: 15000,
    appPort: 8080,
    protocol: 'http',
    dependencies: Array.from({ length: Math.min(dependencies, services - 1) }, (_, d) => ({
      service: serviceName((n + d + 1) % services),
      localPort: 20000 + d,
      timeoutMs: 3000,
      retries: { numRetries: 3, perTryTimeoutMs: 1000 },
    })),
  });
}

/**
 * seed writes the fleet as MeshStore does (spec, ECS alias and dependents items; each endpoint
 * as the reconciler observes its instance, so a run finds no drift in them), 25 items to a
 * BatchWriteItem, generated a batch at a time, with nothing rendered yet.
 */
async function seed(doc: DynamoDBDocumentClient, tableName: string, services: number, perService: number, dependencies: number): Promise<void> {
  const updatedAt = new Date().toISOString();
  function* items(): Generator<Record<string, unknown>> {
    for (let n = 0; n < services; n++) {
      const spec = specOf(n, services, dependencies);
      yield { ...keys.service(spec.name), kind: 'service', name: spec.name, spec, revision: 1, updatedAt };
      yield { ...keys.ecsAlias(spec.name), kind: 'ecs-alias', service: spec.name, ecsService: spec.name };
      for (const d of spec.dependencies) yield { ...keys.dependent(d.service, spec.name), kind: 'dependent', service: d.service, caller: spec.name };
      for (let e = 0; e < perService; e++) {
        const k = n * perService + e;
        const raw = ec2Instance(k, perService);
        const instance: InstanceDescription = {
          instanceId: raw.InstanceId,
          state: 'running',
          privateIp: raw.PrivateIpAddress,
          zone: raw.Placement.AvailabilityZone!,
          instanceType: raw.InstanceType,
          tags: { [defaults.meshTagKey]: spec.name },
        };
        const change = instanceObservationChange(instance, spec, { runId: 'seed', observedAt: new Date(observedAt.getTime() - 3_600_000), skewMs: 60_000 });
        if (change?.kind !== 'upsert') continue;
        yield { ...keys.endpoint(spec.name, change.endpoint.id), kind: 'endpoint', endpoint: change.endpoint, orderingKey: change.endpoint.source.orderingKey, removed: false };
      }
    }
  }
  const source = items();
  const worker = async () => {
    for (;;) {
      const batch: Record<string, unknown>[] = [];
      for (let i = 0; i < 25; i++) {
        const next = source.next();
        if (next.done) break;
        batch.push({ PutRequest: { Item: next.value } });
      }
      if (batch.length === 0) return;
      let pending = batch;
      while (pending.length > 0) {
        const out = await doc.send(new BatchWriteCommand({ RequestItems: { [tableName]: pending } }));
        pending = (out.UnprocessedItems?.[tableName] ?? []) as Record<string, unknown>[];
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
}

/** measured runs a job after a full GC, sampling this process's RSS and heap every 20 ms. */
async function measured<T>(job: () => Promise<T>): Promise<{ result: T; seconds: number; cpuSeconds: number; peakRssMb: number; peakHeapMb: number }> {
  (globalThis as { gc?: () => void }).gc?.();
  let peakRss = process.memoryUsage().rss;
  let peakHeap = process.memoryUsage().heapUsed;
  const timer = setInterval(() => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
  }, 20);
  const start = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  try {
    const result = await job();
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    const used = process.cpuUsage(cpu);
    const m = process.memoryUsage();
    return { result, seconds, cpuSeconds: (used.user + used.system) / 1e6, peakRssMb: Math.max(peakRss, m.rss) / 2 ** 20, peakHeapMb: Math.max(peakHeap, m.heapUsed) / 2 ** 20 };
  } finally {
    clearInterval(timer);
  }
}

/** spawnDynalite runs dynalite in a child process (its table is not this process's memory) on a free port. */
async function spawnDynalite(): Promise<{ doc: DynamoDBDocumentClient; stop(): Promise<void> }> {
  const port = await new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
  const child = spawn(process.execPath, [join(__dirname, '..', '..', 'node_modules', 'dynalite', 'cli.js'), '--port', String(port), '--host', '127.0.0.1'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('dynalite did not start within 30 s')), 30_000);
    child.stdout.on('data', (chunk: Buffer) => {
      if (/listening/i.test(chunk.toString())) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`dynalite exited with ${code}`)));
  });
  const doc = createDocumentClient({
    endpoint: `http://127.0.0.1:${port}`,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 10,
  });
  return {
    doc,
    stop: () =>
      new Promise<void>((resolve) => {
        doc.destroy();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
