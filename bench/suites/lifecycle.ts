import { mockClient } from 'aws-sdk-client-mock';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { randomUUID } from 'node:crypto';
import { BenchContext, BenchRow, BenchSuite, OperationCounter, percentile, round, timeSamples } from '../harness';
import { startEmbeddedDynamoDb } from '../../local/embedded-dynamodb';
import { ensureTable } from '../../shared/store/dynamodb';
import { MeshStore } from '../../shared/store/mesh-store';
import { keys } from '../../shared/store/layout';
import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { parseServiceSpec } from '../../shared/model/parse-spec';
import { defaults } from '../../shared/config';
import { handleLifecycleEvent, LifecycleDeps } from '../../shared/lifecycle/handle';
import { Ec2Instances } from '../../functions/lifecycle/aws/ec2';
import { reconcileFleet } from '../../shared/reconcile/reconcile';
import { sdkEc2 } from '../../test/support/sdk-ec2';

/**
 * Lifecycle events against fleets of 10, 1,000 and 10,000 declared services (embedded
 * DynamoDB): DynamoDB operations and handler time per event. The work of an event is one
 * service's, so the per-event figures must stay flat as the fleet grows. EC2 lookups are
 * answered by aws-sdk-client-mock, in process, so EC2 times are the handler's own. A last row
 * times one reconciler run over the whole fleet (its cost does grow with the fleet: it reads
 * every service's endpoints once).
 */
export const suite: BenchSuite = {
  name: 'lifecycle',
  async run(ctx: BenchContext): Promise<BenchRow[]> {
    const sizes = ctx.scale === 'full' ? [10, 1_000, 10_000] : [3];
    const eventsPerKind = ctx.scale === 'full' ? 200 : 10;
    const db = await startEmbeddedDynamoDb({ tableName: 'bench-lifecycle' });
    const counter = new OperationCounter(db.doc);
    const ec2 = mockClient(EC2Client);
    const rows: BenchRow[] = [];
    try {
      for (const services of sizes) {
        const tableName = `lifecycle-${services}-${randomUUID().slice(0, 8)}`;
        await ensureTable(db.doc, tableName);
        const store = new MeshStore(db.doc, tableName);
        const seedStart = Date.now();
        await seedServices(db.doc, store, services);
        ctx.log(`seeded ${services} services in ${((Date.now() - seedStart) / 1000).toFixed(1)} s`);
        ec2.reset();
        ec2.on(DescribeInstancesCommand).callsFake((input: { InstanceIds?: string[] }) => {
          // The reconciler's tag listing: every benchmark instance has gone.
          if (!input.InstanceIds) return { Reservations: [] };
          const instanceId = input.InstanceIds[0]!;
          const n = Number.parseInt(instanceId.slice(2), 16);
          return {
            Reservations: [
              {
                Instances: [
                  {
                    InstanceId: instanceId,
                    State: { Name: 'running' },
                    PrivateIpAddress: ipOf(n),
                    Placement: { AvailabilityZone: 'us-east-1a' },
                    InstanceType: 'm7g.large',
                    Tags: [{ Key: defaults.meshTagKey, Value: serviceName(n % services) }],
                  },
                ],
              },
            ],
          };
        });
        const deps: LifecycleDeps = { store, instances: new Ec2Instances(sdkEc2(new EC2Client({ region: 'us-east-1' }))) };
        const measure = async (name: string, event: (i: number) => Record<string, unknown>) => {
          counter.reset();
          const samples = await timeSamples(eventsPerKind, (i) => handleLifecycleEvent(deps, event(i)));
          const { reads, writes } = counter.totals();
          rows.push({
            name,
            params: { services },
            metrics: {
              reads_per_event: round(reads / eventsPerKind, 2),
              writes_per_event: round(writes / eventsPerKind, 2),
              p50_ms: round(percentile(samples, 50)),
              p99_ms: round(percentile(samples, 99)),
            },
          });
        };
        // Events spread over the fleet: task i of service i mod N.
        await measure('ecs task RUNNING (new endpoint)', (i) => ecsEvent(i, services, 2, 'RUNNING'));
        await measure('ecs task UNHEALTHY (update)', (i) => ecsEvent(i, services, 3, 'RUNNING', 'UNHEALTHY'));
        await measure('ecs task late event, older version (stale)', (i) => ecsEvent(i, services, 2, 'RUNNING', undefined, '-late'));
        await measure('ecs task redelivery, same event (re-render)', (i) => ecsEvent(i, services, 3, 'RUNNING', 'UNHEALTHY'));
        await measure('ecs task STOPPED (tombstone)', (i) => ecsEvent(i, services, 5, 'STOPPED'));
        await measure('ecs task of undeclared service (ignored)', (i) => ({
          ...ecsEvent(i, services, 2, 'RUNNING'),
          detail: { ...(ecsEvent(i, services, 2, 'RUNNING').detail as object), group: 'service:not-in-mesh' },
        }));
        await measure('ec2 instance running (new endpoint)', (i) => ec2Event(i, 'running', 0));
        await measure('ec2 instance stopping (drain)', (i) => ec2Event(i, 'stopping', 60));

        // One reconciler run over the whole fleet: it reads every service's endpoints and
        // finds the benchmark's instances gone (their draining endpoints are removed).
        counter.reset();
        const start = process.hrtime.bigint();
        const report = await reconcileFleet(
          // An hour after the benchmark's events, so their drain periods are over.
          { store, instances: new Ec2Instances(sdkEc2(new EC2Client({ region: 'us-east-1' }))), now: () => new Date('2026-11-25T11:00:00Z') },
          { runId: `bench-${services}` },
        );
        const seconds = Number(process.hrtime.bigint() - start) / 1e9;
        const { reads, writes } = counter.totals();
        rows.push({
          name: 'reconcile run (whole fleet)',
          params: { services },
          metrics: { seconds: round(seconds, 2), reads, writes, drift_removed: report.drift.removed, drift_drained: report.drift.drained },
        });
      }
    } finally {
      ec2.restore();
      await db.close();
    }
    return rows;
  },
};

const serviceName = (n: number) => `svc-${n}`;
const ipOf = (n: number) => `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;

/**
 * seedServices writes the declared specs as MeshStore.putService stores them (the spec item
 * and the ECS alias item), 25 to a BatchWriteItem, so seeding 10,000 services takes seconds.
 * It then checks a sample through MeshStore, so a change of the store's layout fails here
 * loudly instead of turning every event into an ignored one.
 */
async function seedServices(doc: DynamoDBDocumentClient, store: MeshStore, count: number): Promise<void> {
  const updatedAt = new Date().toISOString();
  const items = Array.from({ length: count }, (_, n) => {
    const spec = parseServiceSpec({ name: serviceName(n), inboundPort: 15000, appPort: 8080, protocol: 'http' });
    return [
      { ...keys.ecsAlias(spec.name), kind: 'ecs-alias', service: spec.name, ecsService: spec.name },
      { ...keys.service(spec.name), kind: 'service', name: spec.name, spec, revision: 1, updatedAt },
    ];
  }).flat();
  const batches: Record<string, unknown>[][] = [];
  for (let i = 0; i < items.length; i += 25) batches.push(items.slice(i, i + 25));
  let next = 0;
  const worker = async () => {
    while (next < batches.length) {
      let pending: Record<string, unknown>[] = batches[next++]!.map((Item) => ({ PutRequest: { Item } }));
      while (pending.length > 0) {
        const out = await doc.send(new BatchWriteCommand({ RequestItems: { [store.tableName]: pending } }));
        pending = (out.UnprocessedItems?.[store.tableName] ?? []) as Record<string, unknown>[];
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  const sample = serviceName(count - 1);
  if ((await store.getService(sample))?.spec.name !== sample || (await store.serviceForEcsService(sample)) !== sample) {
    throw new Error(`seeded service ${sample} does not read back through MeshStore: the table layout changed`);
  }
}

function ecsEvent(i: number, services: number, version: number, lastStatus: string, healthStatus?: string, idSuffix = '') {
  const service = serviceName(i % services);
  const arn = `arn:aws:ecs:us-east-1:111122223333:task/prod/${i.toString(16).padStart(32, '0')}`;
  return {
    version: '0',
    id: `bench-${i}-${version}${idSuffix}`,
    'detail-type': 'ECS Task State Change',
    source: 'aws.ecs',
    account: '111122223333',
    time: '2026-11-25T10:00:00Z',
    region: 'us-east-1',
    resources: [arn],
    detail: {
      attachments: [{ type: 'eni', status: 'ATTACHED', details: [{ name: 'privateIPv4Address', value: ipOf(i) }] }],
      availabilityZone: 'us-east-1a',
      clusterArn: 'arn:aws:ecs:us-east-1:111122223333:cluster/prod',
      containers: [{ name: 'envoy', lastStatus, networkInterfaces: [{ privateIpv4Address: ipOf(i) }] }],
      desiredStatus: lastStatus === 'STOPPED' ? 'STOPPED' : 'RUNNING',
      group: `service:${service}`,
      lastStatus,
      ...(healthStatus ? { healthStatus } : {}),
      launchType: 'FARGATE',
      taskArn: arn,
      taskDefinitionArn: `arn:aws:ecs:us-east-1:111122223333:task-definition/${service}:1`,
      version,
    },
  };
}

function ec2Event(i: number, state: string, offsetSeconds: number) {
  const instanceId = `i-${i.toString(16).padStart(17, '0')}`;
  return {
    version: '0',
    id: `bench-ec2-${i}-${state}`,
    'detail-type': 'EC2 Instance State-change Notification',
    source: 'aws.ec2',
    account: '111122223333',
    time: new Date(Date.UTC(2026, 10, 25, 10, 0, 0) + offsetSeconds * 1000).toISOString().replace('.000Z', 'Z'),
    region: 'us-east-1',
    resources: [`arn:aws:ec2:us-east-1:111122223333:instance/${instanceId}`],
    detail: { 'instance-id': instanceId, state },
  };
}
