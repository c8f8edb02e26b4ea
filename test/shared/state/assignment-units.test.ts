import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { Endpoint, EndpointChange } from '../../../shared/model/endpoint';
import { applyEndpointChanges, refreshEndpointAssignment } from '../../../shared/state/endpoints';
import { clusterLoadAssignment } from '../../../shared/render/endpoint';
import { keys } from '../../../shared/store/layout';
import { MeshStore } from '../../../shared/store/mesh-store';
import { CapacityMeter } from '../../../bench/capacity-meter';
import { useDynalite } from '../../support/dynamo';

const dynamo = useDynalite();

const zones = ['us-east-1a', 'us-east-1b', 'us-east-1c'];
const endpoint = (service: string, k: number, o: Partial<Endpoint> = {}): Endpoint => ({
  service,
  id: `arn:aws:ecs:us-east-1:111122223333:task/prod/${k.toString(16).padStart(32, '0')}`,
  address: `10.${(k >> 16) & 255}.${(k >> 8) & 255}.${k & 255}`,
  port: 15000,
  zone: zones[k % 3]!,
  health: 'healthy',
  labels: { revision: String(12 + (k % 2)) },
  source: { kind: 'ecs-task', eventId: `e${k}`, eventTime: '2026-11-25T10:00:00Z', orderingKey: 2 },
  ...o,
});

/** seed writes a service's endpoint items 25 to a request, then renders its assignment in full once. */
async function seed(store: MeshStore, service: string, count: number): Promise<Endpoint[]> {
  const endpoints = Array.from({ length: count }, (_, k) => endpoint(service, k));
  const items = endpoints.map((e) => ({ ...keys.endpoint(service, e.id), kind: 'endpoint', endpoint: e, orderingKey: 2, removed: false }));
  for (let i = 0; i < items.length; i += 25) {
    await dynamo.db().doc.send(new BatchWriteCommand({ RequestItems: { [store.tableName]: items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })) } }));
  }
  await refreshEndpointAssignment(store, service);
  return endpoints;
}

describe('the units an endpoint change costs', () => {
  it('are the same whether its service has 1 endpoint or 1,000 (a new endpoint, a drain, a removal)', async () => {
    const store = await dynamo.newStore();
    const meter = new CapacityMeter(dynamo.db().doc);
    await seed(store, 'small', 1);
    const big = await seed(store, 'big', 1000);
    const events = (service: string): EndpointChange[] => {
      const fresh = endpoint(service, 5000, { source: { kind: 'ecs-task', eventId: 'n', eventTime: '2026-11-25T10:01:00Z', orderingKey: 3 } });
      return [
        { kind: 'upsert', endpoint: fresh },
        { kind: 'upsert', endpoint: { ...fresh, health: 'draining', source: { ...fresh.source, eventId: 'd', orderingKey: 4 } } },
        { kind: 'remove', service, id: fresh.id, source: { ...fresh.source, eventId: 'r', orderingKey: 5 } },
      ];
    };
    const unitsOf = async (service: string) => {
      const out = [];
      for (const change of events(service)) {
        meter.reset();
        expect((await applyEndpointChanges(store, [change]))[0]?.result).toBe('applied');
        out.push(meter.read());
      }
      return out;
    };
    const small = await unitsOf('small');
    const large = await unitsOf('big');
    expect(large).toEqual(small);
    // A fold: the head, the shard and the endpoint read, and the endpoint read again after the
    // shard is written (consistently, one unit each); the endpoint, the shard, the head and the
    // change record written (one unit each).
    expect(small[0]).toEqual({ readUnits: 4, writeUnits: 4, reads: 4, writes: 4 });
    const served = (await store.getEndpointAssignments(['big'])).get('big');
    expect(served?.resource).toEqual(clusterLoadAssignment('big', big));
  });
});
