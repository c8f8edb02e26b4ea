import fc from 'fast-check';
import { Endpoint, EndpointChange } from '../../../shared/model/endpoint';
import { applyEndpointChanges, refreshEndpointAssignment } from '../../../shared/state/endpoints';
import { clusterLoadAssignment } from '../../../shared/render/endpoint';
import { assignmentVersion, digestOf, entryOf } from '../../../shared/store/assignment-shards';
import { MeshStore } from '../../../shared/store/mesh-store';
import { useDynalite } from '../../support/dynamo';
import { faultyDynamoDb } from '../../support/dynamo-faults';

/**
 * Folding endpoint changes into a stored assignment one at a time must end where rendering
 * it in full from the endpoints ends, whatever the interleaving: several writers fold at once
 * (each event its own fold, as concurrent lifecycle invocations do), full renders run among
 * them (a new generation of shards switched in under their feet), writes are throttled at
 * random moments (the SDK's retries reorder the writers) and a replica lags (folds read
 * consistently, so it must not matter). Afterwards the served assignment is the full render
 * of the stored endpoints, its version the one their digest makes, and the head's digest, the
 * shards' and the endpoints' agree, with no shard of another generation left behind.
 */
const dynamo = useDynalite();
const service = 'web';
const ids = 60;
const zones = ['us-east-1a', 'us-east-1b', 'us-east-1c'];

type Op = 'up' | 'unhealthy' | 'drain' | 'remove' | 'relabel';
interface Step {
  readonly id: number;
  readonly op: Op;
}

const idOf = (n: number) => `arn:aws:ecs:us-east-1:111122223333:task/prod/${n.toString(16).padStart(32, '0')}`;

function changeOf(step: Step, orderingKey: number): EndpointChange {
  const source = { kind: 'ecs-task' as const, eventId: `ev-${orderingKey}`, eventTime: '2026-11-25T10:00:00Z', orderingKey };
  if (step.op === 'remove') return { kind: 'remove', service, id: idOf(step.id), source };
  const endpoint: Endpoint = {
    service,
    id: idOf(step.id),
    address: `10.0.${step.id >> 8}.${step.id & 255}`,
    port: 15000,
    zone: zones[step.id % 3]!,
    health: step.op === 'unhealthy' ? 'unhealthy' : step.op === 'drain' ? 'draining' : 'healthy',
    labels: step.op === 'relabel' ? { revision: String(orderingKey) } : { revision: '12' },
    source,
  };
  return { kind: 'upsert', endpoint };
}

const stepArb = fc.record({ id: fc.nat(ids - 1), op: fc.constantFrom<Op>('up', 'up', 'unhealthy', 'drain', 'remove', 'relabel') });
const scenarioArb = fc.record({
  seeded: fc.nat(40),
  steps: fc.array(stepArb, { minLength: 20, maxLength: 70 }),
  writers: fc.integer({ min: 2, max: 5 }),
  renders: fc.array(fc.nat(69), { maxLength: 3 }),
  throttles: fc.array(fc.record({ at: fc.nat(69), requests: fc.integer({ min: 1, max: 2 }) }), { maxLength: 2 }),
  lagAt: fc.option(fc.nat(69), { nil: undefined }),
});

describe('folding endpoint changes into the stored assignment', () => {
  it('ends where a full render of the endpoints ends, with concurrent writers, renders, throttling and a lagging replica', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb, async (scenario) => {
        const table = (await dynamo.newStore()).tableName;
        const faults = faultyDynamoDb(dynamo.db().endpoint, table, { maxAttempts: 10 });
        const store = new MeshStore(faults.doc, table);
        // A service with some endpoints, rendered in full once, as a declare leaves it.
        await applyEndpointChanges(
          store,
          Array.from({ length: scenario.seeded }, (_, n) => changeOf({ id: n, op: 'up' }, 1)),
        );
        const lanes: Promise<void>[] = [];
        for (let w = 0; w < scenario.writers; w++) {
          lanes.push(
            (async () => {
              for (let i = w; i < scenario.steps.length; i += scenario.writers) {
                if (scenario.throttles.some((t) => t.at === i)) faults.throttle(scenario.throttles.find((t) => t.at === i)!.requests, ['PutItem', 'UpdateItem']);
                if (scenario.lagAt === i) await faults.lag();
                if (scenario.renders.includes(i)) await refreshEndpointAssignment(store, service);
                await applyEndpointChanges(store, [changeOf(scenario.steps[i]!, 10 + i)]);
              }
            })(),
          );
        }
        await Promise.all(lanes);
        faults.catchUp();

        const stored = await store.readEndpointState(service);
        const live = stored.endpoints.flatMap((s) => (s.removed ? [] : [s.endpoint]));
        const served = (await store.getRenderedMany([{ service, item: 'eds' }], { consistent: true })).assignments.get(service);
        expect(served?.resource).toEqual(clusterLoadAssignment(service, live));
        const digest = digestOf(live.map(entryOf));
        expect(served?.version).toBe(assignmentVersion(service, digest));
        const layout = stored.head?.layout;
        expect(layout?.digest).toEqual(digest);
        expect(stored.shards.map((s) => s.generation)).toEqual(stored.shards.map(() => layout?.generation));
        expect(stored.shards.length).toBe(layout?.shards);
        // Folds read what they fold consistently: never from the lagging replica.
        expect(faults.calls.filter((c) => c.served === 'replica')).toEqual([]);
      }),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 12) },
    );
  }, 240_000);
});
