import { Endpoint, EndpointChange } from '../../../shared/model/endpoint';
import { applyEndpointChanges, fittingAssignment, refreshEndpointAssignment } from '../../../shared/state/endpoints';
import { defaults } from '../../../shared/config';
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

describe('assignments within what the front door can answer', () => {
  const fleet = (n: number) =>
    Array.from({ length: n }, (_, i) =>
      endpoint({ key: 1, id: `task-${String(i).padStart(3, '0')}`, address: `10.0.${i >> 8}.${i & 255}`, health: i % 3 === 0 ? 'draining' : i % 3 === 1 ? 'unhealthy' : 'healthy' }),
    );
  const size = (r: unknown) => Buffer.byteLength(JSON.stringify(r));

  it('serves every endpoint while the assignment fits', () => {
    const all = clusterLoadAssignment('web', fleet(30));
    expect(fittingAssignment('web', fleet(30), size(all))).toEqual({ resource: all, overLimit: 0 });
  });

  it('keeps the healthiest endpoints that fit and counts the rest', () => {
    const endpoints = fleet(30);
    const cap = Math.floor(size(clusterLoadAssignment('web', endpoints)) / 2);
    const { resource, overLimit } = fittingAssignment('web', endpoints, cap);
    const served = (resource.endpoints as { lb_endpoints: { health_status: string }[] }[]).flatMap((l) => l.lb_endpoints.map((e) => e.health_status));
    expect(size(resource)).toBeLessThanOrEqual(cap);
    expect(served.length + overLimit).toBe(30);
    expect(served.filter((h) => h === 'HEALTHY').length).toBe(10); // every healthy one, before any other
    expect(served).not.toContain('DRAINING');
  });

  it('counts what was left out when a change makes the assignment too large', async () => {
    const store = await dynamo.newStore();
    const endpoints = fleet(20);
    const cap = Math.floor(size(clusterLoadAssignment('web', endpoints)) * 0.9);
    await applyEndpointChanges(store, endpoints.slice(0, 19).map(upsert));
    const refreshed = await refreshEndpointAssignment(store, 'web', cap);
    expect(refreshed.written).toBe(true);
    await store.applyEndpointChange(upsert(endpoints[19]!));
    const over = await refreshEndpointAssignment(store, 'web', cap);
    expect(over.overLimit).toBeGreaterThan(0);
    const stored = (await store.getEndpointAssignments(['web'])).get('web')!;
    expect(size(stored.resource)).toBeLessThanOrEqual(cap);
  });

  it('holds about 19,000 endpoints of one service at the default cap, below the 6 MB response limit', () => {
    const perEndpoint = size(clusterLoadAssignment('web', fleet(300))) / 300;
    expect(Math.floor(defaults.maxAssignmentBytes / perEndpoint)).toBeGreaterThan(15_000);
    expect(defaults.maxAssignmentBytes).toBeLessThan(6_000_000);
  });
});
