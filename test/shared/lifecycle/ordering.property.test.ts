import fc from 'fast-check';
import { mockClient } from 'aws-sdk-client-mock';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { handleLifecycleEvent, LifecycleDeps } from '../../../shared/lifecycle/handle';
import { Ec2Instances } from '../../../functions/lifecycle/aws/ec2';
import { instanceStates } from '../../../shared/lifecycle/ec2-instance';
import { MeshStore } from '../../../shared/store/mesh-store';
import { useDynalite } from '../../support/dynamo';
import { declare, ec2Instance, ec2StateEvent, ecsTaskEvent, spec } from './fixtures';
import { sdkEc2 } from '../../support/sdk-ec2';

/**
 * The ordering property: EventBridge delivers at least once and in any order, so the final
 * endpoint set must not depend on the delivery. For generated fleets, each task's and
 * instance's lifecycle is delivered once in order and once shuffled with duplicates, each
 * against a fresh table; the stored endpoints (tombstones included) and the rendered EDS
 * must be the same.
 */

const dynamo = useDynalite();
const ec2 = mockClient(EC2Client);

type TaskStep = { lastStatus: string; desiredStatus?: string; healthStatus?: string };

/** A task's life: it starts, runs (its health may flip), is asked to stop, stops; cut short anywhere. */
const taskLife: fc.Arbitrary<TaskStep[]> = fc
  .tuple(
    fc.array(fc.constantFrom('HEALTHY', 'UNHEALTHY', 'UNKNOWN'), { minLength: 1, maxLength: 3 }),
    fc.constantFrom<TaskStep[]>(
      [],
      [{ lastStatus: 'RUNNING', desiredStatus: 'STOPPED' }],
      [{ lastStatus: 'RUNNING', desiredStatus: 'STOPPED' }, { lastStatus: 'DEACTIVATING', desiredStatus: 'STOPPED' }],
    ),
    fc.boolean(),
    fc.nat(8),
  )
  .map(([healths, stopping, stopped, cut]) => {
    const steps: TaskStep[] = [
      { lastStatus: 'PENDING' },
      ...healths.map((healthStatus) => ({ lastStatus: 'RUNNING', healthStatus })),
      ...stopping,
      ...(stopped ? [{ lastStatus: 'STOPPED' }] : []),
    ];
    return steps.slice(0, Math.max(1, steps.length - cut));
  });

/** An instance's life: pending, running, maybe stopped and started again, then maybe terminated. */
const instanceLife: fc.Arbitrary<{ state: string; gap: number }[]> = fc
  .tuple(fc.nat(2), fc.constantFrom('none', 'stop', 'terminate'), fc.array(fc.nat(3), { minLength: 12, maxLength: 12 }), fc.nat(6))
  .map(([restarts, end, gaps, cut]) => {
    const states = ['pending', 'running'];
    for (let i = 0; i < restarts; i++) states.push('stopping', 'stopped', 'pending', 'running');
    if (end === 'stop') states.push('stopping', 'stopped');
    if (end === 'terminate') states.push('shutting-down', 'terminated');
    return states.slice(0, Math.max(1, states.length - cut)).map((state, i) => ({ state, gap: gaps[i % gaps.length]! }));
  });

const fleetArb = fc.record({
  services: fc.integer({ min: 1, max: 2 }),
  tasks: fc.array(fc.record({ service: fc.nat(1), life: taskLife, versionGaps: fc.array(fc.integer({ min: 1, max: 2 }), { minLength: 12, maxLength: 12 }) }), {
    minLength: 0,
    maxLength: 3,
  }),
  instances: fc.array(fc.record({ service: fc.nat(1), life: instanceLife }), { minLength: 0, maxLength: 2 }),
});

type Fleet = typeof fleetArb extends fc.Arbitrary<infer T> ? T : never;

/** eventsOf builds each task's and instance's events in the order they happen. */
function eventsOf(fleet: Fleet): { events: Record<string, unknown>[]; instances: Map<string, string> } {
  const events: Record<string, unknown>[] = [];
  const instances = new Map<string, string>();
  fleet.tasks.forEach((task, t) => {
    let version = 1;
    task.life.forEach((step, i) => {
      version += task.versionGaps[i % task.versionGaps.length]!;
      events.push(
        ecsTaskEvent({ taskId: `task${t}`, ecsService: `svc${task.service % fleet.services}`, version, ip: `10.0.1.${t + 1}`, ...step }),
      );
    });
  });
  fleet.instances.forEach((instance, n) => {
    const instanceId = `i-0000000000000${String(n).padStart(4, '0')}`;
    instances.set(instanceId, `svc${instance.service % fleet.services}`);
    let second = 0;
    let previousRank = -1;
    for (const { state, gap } of instance.life) {
      const rank = (instanceStates as readonly string[]).indexOf(state);
      // Two events of one second are ordered by lifecycle rank; a state that comes back is a later second.
      second += rank > previousRank ? gap : Math.max(1, gap);
      previousRank = rank;
      events.push(ec2StateEvent({ instanceId, state, time: new Date(Date.UTC(2026, 10, 25, 10, 0, 0) + second * 1000).toISOString().replace('.000Z', 'Z') }));
    }
  });
  return { events, instances };
}

async function deliver(fleet: Fleet, events: Record<string, unknown>[]): Promise<MeshStore> {
  const store = await dynamo.newStore();
  for (let s = 0; s < fleet.services; s++) await declare(store, spec({ name: `svc${s}` }));
  const deps: LifecycleDeps = { store, instances: new Ec2Instances(sdkEc2(new EC2Client({}))) };
  for (const event of events) await handleLifecycleEvent(deps, event);
  return store;
}

async function finalState(store: MeshStore, services: number) {
  const out: Record<string, unknown> = {};
  for (let s = 0; s < services; s++) {
    out[`svc${s}`] = {
      endpoints: await store.listEndpoints(`svc${s}`),
      eds: (await store.getEndpointAssignments([`svc${s}`])).get(`svc${s}`)?.resource,
    };
  }
  return out;
}

describe('delivery order', () => {
  it('finds the same endpoints whatever the order and duplication of delivery', async () => {
    await fc.assert(
      fc.asyncProperty(
        fleetArb.chain((fleet) => {
          const { events } = eventsOf(fleet);
          const withDuplicates = fc
            .array(fc.nat(Math.max(0, events.length - 1)), { maxLength: events.length === 0 ? 0 : 4 })
            .map((dups) => [...events, ...dups.map((i) => events[i]!)]);
          return fc.tuple(fc.constant(fleet), withDuplicates.chain((all) => fc.shuffledSubarray(all, { minLength: all.length, maxLength: all.length })));
        }),
        async ([fleet, shuffled]) => {
          const { events, instances } = eventsOf(fleet);
          ec2.reset();
          ec2.on(DescribeInstancesCommand).callsFake((input: { InstanceIds: string[] }) => {
            const instanceId = input.InstanceIds[0]!;
            const service = instances.get(instanceId)!;
            const ip = `10.0.2.${Number(instanceId.slice(-4)) + 1}`;
            return { Reservations: [{ Instances: [ec2Instance({ instanceId, ip, tags: { 'mesh:service': service } })] }] };
          });
          const inOrder = await finalState(await deliver(fleet, events), fleet.services);
          const anyOrder = await finalState(await deliver(fleet, shuffled), fleet.services);
          expect(anyOrder).toEqual(inOrder);
        },
      ),
      { numRuns: 60 },
    );
  }, 180_000);
});
