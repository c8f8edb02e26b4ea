import { Endpoint, EndpointChange } from '../../../shared/model/endpoint';
import { StoredEndpoint } from '../../../shared/store/records';
import { planRepairs, PlanInput } from '../../../shared/reconcile/plan';

const now = new Date('2026-11-25T12:00:00Z');
const minutesAgo = (m: number) => new Date(now.getTime() - m * 60_000).toISOString();

function endpoint(id: string, o: Partial<Endpoint> & { key?: number; at?: string } = {}): Endpoint {
  const { key = 5, at = minutesAgo(10), ...rest } = o;
  return {
    service: 'web',
    id,
    address: '10.0.0.1',
    port: 15000,
    health: 'healthy',
    labels: { zone: 'us-east-1a' },
    source: { kind: 'ecs-task', eventId: `e-${id}`, eventTime: at, orderingKey: key },
    ...rest,
  };
}
const live = (e: Endpoint): StoredEndpoint => ({ removed: false, service: e.service, id: e.id, orderingKey: e.source.orderingKey, endpoint: e });
const tombstone = (id: string, key: number): StoredEndpoint => ({
  removed: true,
  service: 'web',
  id,
  orderingKey: key,
  source: { kind: 'ecs-task', eventId: 'e', eventTime: minutesAgo(10), orderingKey: key },
});
const upsert = (e: Endpoint): EndpointChange => ({ kind: 'upsert', endpoint: e });

function plan(stored: StoredEndpoint[], observed: [string, EndpointChange | undefined][], covers = true) {
  const input: PlanInput = {
    stored,
    observed: new Map(observed),
    covers: () => covers,
    runId: 'run-1',
    now,
    settleMs: 60_000,
    drainMs: 30_000,
  };
  return planRepairs(input).map((r) => `${r.kind} ${r.change.kind === 'upsert' ? r.change.endpoint.id : r.change.id}`);
}

describe('planRepairs', () => {
  const cases: { name: string; stored: StoredEndpoint[]; observed: [string, EndpointChange | undefined][]; covers?: boolean; repairs: string[] }[] = [
    { name: 'adds an endpoint the table misses', stored: [], observed: [['a', upsert(endpoint('a'))]], repairs: ['add a'] },
    { name: 'leaves an endpoint that matches alone', stored: [live(endpoint('a'))], observed: [['a', upsert(endpoint('a', { key: 9 }))]], repairs: [] },
    {
      name: 'updates an endpoint whose health differs, when the observation is newer',
      stored: [live(endpoint('a'))],
      observed: [['a', upsert(endpoint('a', { key: 6, health: 'unhealthy' }))]],
      repairs: ['update a'],
    },
    {
      name: 'keeps state an event wrote after the observation',
      stored: [live(endpoint('a', { key: 7, health: 'draining' }))],
      observed: [['a', upsert(endpoint('a', { key: 6 }))]],
      repairs: [],
    },
    { name: 'never resurrects a tombstone with an older observation', stored: [tombstone('a', 8)], observed: [['a', upsert(endpoint('a', { key: 6 }))]], repairs: [] },
    { name: 're-adds an instance that runs again after its tombstone', stored: [tombstone('a', 3)], observed: [['a', upsert(endpoint('a', { key: 6 }))]], repairs: ['add a'] },
    {
      name: 'removes an endpoint observed as stopped',
      stored: [live(endpoint('a'))],
      observed: [['a', { kind: 'remove', service: 'web', id: 'a', source: { kind: 'reconciler', eventId: 'r', eventTime: now.toISOString(), orderingKey: 6 } }]],
      repairs: ['remove a'],
    },
    { name: 'drains a vanished healthy endpoint', stored: [live(endpoint('a'))], observed: [], repairs: ['drain a'] },
    { name: 'drains a vanished unhealthy endpoint', stored: [live(endpoint('a', { health: 'unhealthy' }))], observed: [], repairs: ['drain a'] },
    {
      name: 'removes a vanished endpoint that has drained for the drain period',
      stored: [live(endpoint('a', { health: 'draining', at: minutesAgo(2) }))],
      observed: [],
      repairs: ['expire a'],
    },
    {
      name: 'waits for a vanished endpoint to finish its drain period',
      stored: [live(endpoint('a', { health: 'draining', at: new Date(now.getTime() - 20_000).toISOString() }))],
      observed: [],
      repairs: [],
    },
    { name: 'leaves a vanished endpoint alone while its state is fresh', stored: [live(endpoint('a', { at: minutesAgo(0.5) }))], observed: [], repairs: [] },
    { name: 'leaves endpoints outside the listed scope alone', stored: [live(endpoint('a'))], observed: [], covers: false, repairs: [] },
    { name: 'does not take a starting instance for vanished', stored: [live(endpoint('a'))], observed: [['a', undefined]], repairs: [] },
    { name: 'leaves tombstones alone', stored: [tombstone('a', 3)], observed: [], repairs: [] },
  ];
  it.each(cases)('$name', ({ stored, observed, covers, repairs }) => {
    expect(plan(stored, observed, covers)).toEqual(repairs);
  });

  it('drains compare-and-set on what it read, keeping the ordering key so newer events win', () => {
    const [repair] = planRepairs({
      stored: [live(endpoint('a', { key: 5 }))],
      observed: new Map(),
      covers: () => true,
      runId: 'run-1',
      now,
      settleMs: 60_000,
      drainMs: 30_000,
    });
    expect(repair).toEqual({
      kind: 'drain',
      expected: { orderingKey: 5, health: 'healthy' },
      change: {
        kind: 'upsert',
        endpoint: { ...endpoint('a'), health: 'draining', source: { kind: 'reconciler', eventId: 'run-1', eventTime: now.toISOString(), orderingKey: 5 } },
      },
    });
  });
});
