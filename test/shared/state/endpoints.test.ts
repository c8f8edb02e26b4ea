import { Endpoint, EndpointChange } from '../../../shared/model/endpoint';
import { applyEndpointChanges } from '../../../shared/state/endpoints';
import { clusterLoadAssignment } from '../../../shared/render/endpoint';
import { useDynalite } from '../../support/dynamo';

const dynamo = useDynalite();

const endpoint = (o: Partial<Endpoint> & { key: number; eventId?: string }): Endpoint => {
  const { key, eventId = `e${key}`, ...rest } = o;
  return {
    service: 'web',
    id: 'task-1',
    address: '10.0.0.1',
    port: 15000,
    health: 'healthy',
    labels: {},
    source: { kind: 'ecs-task', eventId, eventTime: '2026-11-25T10:00:00Z', orderingKey: key },
    ...rest,
  };
};
const upsert = (e: Endpoint): EndpointChange => ({ kind: 'upsert', endpoint: e });

describe('applyEndpointChanges', () => {
  it('renders each touched service once, from its live endpoints', async () => {
    const store = await dynamo.newStore();
    const a = endpoint({ key: 1 });
    const b = endpoint({ key: 1, id: 'task-2', address: '10.0.0.2' });
    const outcomes = await applyEndpointChanges(store, [upsert(a), upsert(b), upsert(endpoint({ key: 1, eventId: 'late' }))]);
    expect(outcomes.map((o) => o.result)).toEqual(['applied', 'applied', 'stale']);
    const eds = (await store.getEndpointAssignments(['web'])).get('web');
    expect(eds?.resource).toEqual(clusterLoadAssignment('web', [a, b]));
    expect(eds?.revision).toBe(1);
  });

  it('counts a redelivery of the stored change as applied and renders again; an older or other change stays stale', async () => {
    const store = await dynamo.newStore();
    await store.applyEndpointChange(upsert(endpoint({ key: 4 })));
    expect((await applyEndpointChanges(store, [upsert(endpoint({ key: 4 }))]))[0]?.result).toBe('applied');
    expect((await store.getEndpointAssignments(['web'])).get('web')?.revision).toBe(1);
    expect((await applyEndpointChanges(store, [upsert(endpoint({ key: 4, eventId: 'other' }))]))[0]?.result).toBe('stale');
    expect((await applyEndpointChanges(store, [upsert(endpoint({ key: 3 }))]))[0]?.result).toBe('stale');
    expect((await store.getEndpointAssignments(['web'])).get('web')?.revision).toBe(1);
  });
});

describe('MeshStore.replaceLiveEndpoint', () => {
  const drain = (key: number): EndpointChange => upsert({ ...endpoint({ key }), health: 'draining' });

  it.each([
    ['the endpoint is as read', async () => undefined, 'applied'],
    ['a newer event changed it since', async (s: Awaited<ReturnType<typeof dynamo.newStore>>) => void (await s.applyEndpointChange(upsert(endpoint({ key: 6, health: 'unhealthy' })))), 'stale'],
    [
      'it was removed since',
      async (s: Awaited<ReturnType<typeof dynamo.newStore>>) =>
        void (await s.applyEndpointChange({ kind: 'remove', service: 'web', id: 'task-1', source: endpoint({ key: 6 }).source })),
      'stale',
    ],
  ])('writes only if %s', async (_name, meanwhile, result) => {
    const store = await dynamo.newStore();
    await store.applyEndpointChange(upsert(endpoint({ key: 5 })));
    await meanwhile(store);
    expect(await store.replaceLiveEndpoint(drain(5), { orderingKey: 5, health: 'healthy' })).toBe(result);
  });

  it('does not write over a tombstone of the same ordering key (a second run read the live endpoint before the first removed it)', async () => {
    const store = await dynamo.newStore();
    await store.applyEndpointChange(upsert(endpoint({ key: 5, health: 'draining' })));
    const removal: EndpointChange = { kind: 'remove', service: 'web', id: 'task-1', source: endpoint({ key: 5 }).source };
    expect(await store.replaceLiveEndpoint(removal, { orderingKey: 5, health: 'draining' })).toBe('applied');
    expect(await store.replaceLiveEndpoint(drain(5), { orderingKey: 5, health: 'draining' })).toBe('stale');
    expect(await store.getEndpoint('web', 'task-1')).toMatchObject({ removed: true });
  });
});
