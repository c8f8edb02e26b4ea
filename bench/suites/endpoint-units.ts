import { randomUUID } from 'node:crypto';
import { BatchWriteCommand, DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { gzipSync } from 'node:zlib';
import { BenchContext, BenchRow, BenchSuite, percentile, round, timeSamples } from '../harness';
import { CapacityMeter } from '../capacity-meter';
import { startEmbeddedDynamoDb } from '../../local/embedded-dynamodb';
import { ensureTable } from '../../shared/store/dynamodb';
import { MeshStore } from '../../shared/store/mesh-store';
import { keys } from '../../shared/store/layout';
import { itemBytes, readUnits } from '../../shared/store/capacity';
import { Endpoint } from '../../shared/model/endpoint';
import { declareService } from '../../shared/state/catalog';
import { refreshEndpointAssignment } from '../../shared/state/endpoints';
import { defaultRenderSettings } from '../../shared/render/settings';
import { clusterLoadAssignment } from '../../shared/render/endpoint';
import { handleLifecycleEvent } from '../../shared/lifecycle/handle';

/**
 * What one endpoint change costs in DynamoDB units (ReturnConsumedCapacity, bench/capacity-meter.ts)
 * when its service has 1, 100 or 10,000 endpoints: ECS task events through the lifecycle
 * handler (the alias and spec reads included), on embedded DynamoDB. The change is folded into
 * the one shard of the stored assignment its endpoint lives in (store/dynamo/assignments.ts),
 * so the units must be the same at every size. A row per size also shows the other side of the
 * trade: what an EDS poll reads (one Query of the head and its shards), next to what the one
 * whole item it replaced would read, and what the re-listing it replaced read per event (all
 * the service's endpoint items, consistently): both computed from item sizes by DynamoDB's
 * rules (shared/store/capacity.ts).
 */
export const suite: BenchSuite = {
  name: 'endpoint-units',
  async run(ctx: BenchContext): Promise<BenchRow[]> {
    const sizes = ctx.scale === 'full' ? [1, 100, 10_000] : [1, 20];
    const events = ctx.scale === 'full' ? 50 : 5;
    const db = await startEmbeddedDynamoDb({ tableName: 'bench-endpoint-units' });
    const meter = new CapacityMeter(db.doc);
    const rows: BenchRow[] = [];
    try {
      for (const size of sizes) {
        const tableName = `units-${size}-${randomUUID().slice(0, 8)}`;
        await ensureTable(db.doc, tableName);
        const store = new MeshStore(db.doc, tableName);
        await declareService(store, { name: service, inboundPort: 15000, appPort: 8080, protocol: 'http' }, defaultRenderSettings);
        const seeded = await seedEndpoints(db.doc, tableName, size);
        await refreshEndpointAssignment(store, service);
        ctx.log(`${size} endpoints seeded and rendered`);
        const measure = async (name: string, event: (i: number) => Record<string, unknown>) => {
          meter.reset();
          const samples = await timeSamples(events, (i) => handleLifecycleEvent({ store }, event(i)));
          const m = meter.read();
          rows.push({
            name,
            params: { endpoints_per_service: size },
            metrics: {
              read_units_per_event: round(m.readUnits / events, 2),
              write_units_per_event: round(m.writeUnits / events, 2),
              reads_per_event: round(m.reads / events, 2),
              writes_per_event: round(m.writes / events, 2),
              p50_ms: round(percentile(samples, 50)),
            },
          });
        };
        // New tasks numbered past the seeded ones, so each service size sees the same events.
        await measure('endpoint change: task RUNNING (new endpoint)', (i) => ecsEvent(size + i, 2, 'RUNNING'));
        await measure('endpoint change: task UNHEALTHY (update)', (i) => ecsEvent(size + i, 3, 'RUNNING', 'UNHEALTHY'));
        await measure('endpoint change: task STOPPED (removal)', (i) => ecsEvent(size + i, 5, 'STOPPED'));
        rows.push(await storedForm(db.doc, tableName, seeded));
      }
    } finally {
      await db.close();
    }
    return rows;
  },
};

const service = 'orders';
const zones = ['us-east-1a', 'us-east-1b', 'us-east-1c'];
const taskArn = (k: number) => `arn:aws:ecs:us-east-1:111122223333:task/prod/${k.toString(16).padStart(32, '0')}`;
const ipOf = (k: number) => `10.${(k >> 16) & 255}.${(k >> 8) & 255}.${k & 255}`;

/** seedEndpoints writes a service's endpoint items (as a task's RUNNING event stores them), 25 to a request. */
async function seedEndpoints(doc: DynamoDBDocumentClient, tableName: string, count: number): Promise<Endpoint[]> {
  const endpoints: Endpoint[] = Array.from({ length: count }, (_, k) => ({
    service,
    id: taskArn(k),
    address: ipOf(k),
    port: 15000,
    zone: zones[k % 3]!,
    health: 'healthy',
    labels: { family: service, revision: '12', capacityProvider: 'FARGATE' },
    source: { kind: 'ecs-task', eventId: `seed-${k}`, eventTime: '2026-11-25T09:00:00Z', orderingKey: 1 },
  }));
  const items = endpoints.map((e) => ({ ...keys.endpoint(service, e.id), kind: 'endpoint', endpoint: e, orderingKey: 1, removed: false }));
  for (let i = 0; i < items.length; i += 25) {
    let pending: Record<string, unknown>[] = items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
    while (pending.length > 0) {
      const out = await doc.send(new BatchWriteCommand({ RequestItems: { [tableName]: pending } }));
      pending = (out.UnprocessedItems?.[tableName] ?? []) as Record<string, unknown>[];
    }
  }
  return endpoints;
}

/** storedForm sizes what a service's assignment is stored as, what a poll of it reads, and what the designs before read. */
async function storedForm(doc: DynamoDBDocumentClient, tableName: string, seeded: readonly Endpoint[]): Promise<BenchRow> {
  const query = async (from: string, to: string) => {
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await doc.send(
        new QueryCommand({
          TableName: tableName,
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
          ExpressionAttributeValues: { ':pk': `SVC#${service}`, ':from': from, ':to': to },
          ExclusiveStartKey: start,
        }),
      );
      items.push(...(out.Items ?? []));
      start = out.LastEvaluatedKey;
    } while (start);
    return items;
  };
  const assignment = await query('EDS', 'EDS$');
  const head = assignment.find((i) => i.sk === 'EDS')!;
  const shards = assignment.filter((i) => i.sk !== 'EDS');
  const shardBytes = shards.reduce((s, i) => s + itemBytes(i), 0);
  const endpointBytes = (await query('EP#', 'EP$')).reduce((s, i) => s + itemBytes(i), 0);
  // The one whole item the shards replaced: the assignment gzipped, with its head's attributes.
  const whole = gzipSync(Buffer.from(JSON.stringify(clusterLoadAssignment(service, seeded))), { level: 6 }).byteLength + itemBytes(head);
  return {
    name: 'stored assignment: shards, and what an EDS poll reads',
    params: { endpoints_per_service: seeded.length },
    metrics: {
      shards: shards.length,
      stored_bytes: itemBytes(head) + shardBytes,
      poll_read_units: readUnits(itemBytes(head) + shardBytes, false),
      whole_item_bytes: whole,
      whole_poll_read_units: readUnits(whole, false),
      relist_read_units_per_event: readUnits(endpointBytes, true),
    },
  };
}

function ecsEvent(k: number, version: number, lastStatus: string, healthStatus?: string) {
  const arn = taskArn(k);
  return {
    version: '0',
    id: `units-${k}-${version}`,
    'detail-type': 'ECS Task State Change',
    source: 'aws.ecs',
    account: '111122223333',
    time: '2026-11-25T10:00:00Z',
    region: 'us-east-1',
    resources: [arn],
    detail: {
      attachments: [{ type: 'eni', status: 'ATTACHED', details: [{ name: 'privateIPv4Address', value: ipOf(k) }] }],
      availabilityZone: zones[k % 3],
      clusterArn: 'arn:aws:ecs:us-east-1:111122223333:cluster/prod',
      containers: [{ name: 'envoy', lastStatus, networkInterfaces: [{ privateIpv4Address: ipOf(k) }] }],
      desiredStatus: lastStatus === 'STOPPED' ? 'STOPPED' : 'RUNNING',
      group: `service:${service}`,
      lastStatus,
      ...(healthStatus ? { healthStatus } : {}),
      launchType: 'FARGATE',
      taskArn: arn,
      taskDefinitionArn: `arn:aws:ecs:us-east-1:111122223333:task-definition/${service}:12`,
      version,
    },
  };
}
