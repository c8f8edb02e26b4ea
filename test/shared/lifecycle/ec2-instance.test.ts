import { mockClient } from 'aws-sdk-client-mock';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { handleLifecycleEvent, LifecycleDeps, validateLifecycleEvent } from '../../../shared/lifecycle/handle';
import { LifecycleEventError } from '../../../shared/lifecycle/envelope';
import { instanceOrderingKey, terminalOrderingKey } from '../../../shared/lifecycle/ec2-instance';
import { Ec2Instances } from '../../../functions/lifecycle/aws/ec2';
import { MeshStore } from '../../../shared/store/mesh-store';
import { OperationCounter } from '../../../bench/harness';
import { useDynalite } from '../../support/dynamo';
import { declare, ec2Instance, ec2StateEvent, spec } from './fixtures';
import { sdkEc2 } from '../../support/sdk-ec2';

const dynamo = useDynalite();
const ec2 = mockClient(EC2Client);
let counter: OperationCounter;
beforeAll(() => {
  counter = new OperationCounter(dynamo.db().doc);
});
beforeEach(() => ec2.reset());

const id = 'i-0abc1234def567890';
const web = spec({ name: 'web', inboundPort: 15001 });

function mockInstance(o: Partial<Parameters<typeof ec2Instance>[0]> = {}) {
  ec2.on(DescribeInstancesCommand, { InstanceIds: [o.instanceId ?? id] }).resolves({
    Reservations: [{ Instances: [ec2Instance({ instanceId: id, ip: '10.0.2.20', tags: { 'mesh:service': 'web', 'aws:autoscaling:groupName': 'web-asg' }, ...o })] }],
  });
}

async function setup(): Promise<LifecycleDeps & { store: MeshStore }> {
  const store = await dynamo.newStore();
  await declare(store, web);
  return { store, instances: new Ec2Instances(sdkEc2(new EC2Client({ maxAttempts: 1 }))) };
}

const at = (s: number) => new Date(Date.UTC(2026, 10, 25, 10, 0, s)).toISOString().replace('.000Z', 'Z');

describe('EC2 instance state changes', () => {
  it.each([
    ['running', 'healthy'],
    ['stopping', 'draining'],
    ['shutting-down', 'draining'],
  ])('an instance %s is a %s endpoint, with IP, zone and labels from DescribeInstances', async (state, health) => {
    const deps = await setup();
    mockInstance({ state });
    const event = ec2StateEvent({ instanceId: id, state, time: at(0) });
    expect(await handleLifecycleEvent(deps, event)).toMatchObject({ outcome: 'applied', service: 'web', endpointId: id });
    expect(await deps.store.getEndpoint('web', id)).toEqual({
      removed: false,
      service: 'web',
      id,
      orderingKey: instanceOrderingKey(at(0), ['pending', 'running', 'stopping', 'stopped', 'shutting-down'].indexOf(state)),
      endpoint: {
        service: 'web',
        id,
        address: '10.0.2.20',
        port: 15001,
        zone: 'us-east-1b',
        health,
        labels: { zone: 'us-east-1b', instanceType: 'm7g.large', autoScalingGroup: 'web-asg' },
        source: { kind: 'ec2-instance', eventId: event.id, eventTime: at(0), orderingKey: expect.any(Number) },
      },
    });
  });

  it.each(['stopped', 'terminated'])('an instance %s is removed', async (state) => {
    const deps = await setup();
    mockInstance();
    await handleLifecycleEvent(deps, ec2StateEvent({ instanceId: id, state: 'running', time: at(0) }));
    mockInstance({ state, ip: state === 'terminated' ? '' : '10.0.2.20' });
    expect((await handleLifecycleEvent(deps, ec2StateEvent({ instanceId: id, state, time: at(30) }))).outcome).toBe('applied');
    expect(await deps.store.getEndpoint('web', id)).toMatchObject({ removed: true });
  });

  it('takes the port from the mesh:port tag when the instance has one', async () => {
    const deps = await setup();
    mockInstance({ tags: { 'mesh:service': 'web', 'mesh:port': '18080' } });
    await handleLifecycleEvent(deps, ec2StateEvent({ instanceId: id, state: 'running', time: at(0) }));
    expect(await deps.store.getEndpoint('web', id)).toMatchObject({ endpoint: { port: 18080 } });
  });

  it('reads the mesh service from the tag key it is configured with', async () => {
    const deps = await setup();
    mockInstance({ tags: { 'acme:mesh': 'web' } });
    const result = await handleLifecycleEvent({ ...deps, meshTagKey: 'acme:mesh' }, ec2StateEvent({ instanceId: id, state: 'running', time: at(0) }));
    expect(result.outcome).toBe('applied');
  });

  it('ignores a pending instance without looking it up', async () => {
    const deps = await setup();
    expect(await handleLifecycleEvent(deps, ec2StateEvent({ instanceId: id, state: 'pending', time: at(0) }))).toMatchObject({ outcome: 'ignored' });
    expect(ec2.commandCalls(DescribeInstancesCommand)).toHaveLength(0);
  });

  it('ignores an instance without the mesh tag after DescribeInstances, without touching the table', async () => {
    const deps = await setup();
    mockInstance({ tags: { Name: 'bastion' } });
    counter.reset();
    expect(await handleLifecycleEvent(deps, ec2StateEvent({ instanceId: id, state: 'running', time: at(0) }))).toMatchObject({
      outcome: 'ignored',
      reason: 'instance has no mesh:service tag',
    });
    expect(counter.snapshot()).toEqual({});
  });

  it('ignores an instance tagged with an undeclared service after one GetItem', async () => {
    const deps = await setup();
    mockInstance({ tags: { 'mesh:service': 'legacy' } });
    counter.reset();
    expect(await handleLifecycleEvent(deps, ec2StateEvent({ instanceId: id, state: 'running', time: at(0) }))).toMatchObject({
      outcome: 'ignored',
    });
    expect(counter.snapshot()).toEqual({ GetItem: 1 });
  });
});

describe('ordering of EC2 events', () => {
  it('orders two states of the same second by their place in the lifecycle', async () => {
    const deps = await setup();
    mockInstance();
    await handleLifecycleEvent(deps, ec2StateEvent({ instanceId: id, state: 'stopping', time: at(5) }));
    expect((await handleLifecycleEvent(deps, ec2StateEvent({ instanceId: id, state: 'running', time: at(5) }))).outcome).toBe('stale');
    expect(await deps.store.getEndpoint('web', id)).toMatchObject({ endpoint: { health: 'draining' } });
  });

  it('lets a stopped instance come back when it runs again later', async () => {
    const deps = await setup();
    mockInstance();
    await handleLifecycleEvent(deps, ec2StateEvent({ instanceId: id, state: 'stopped', time: at(10) }));
    expect((await handleLifecycleEvent(deps, ec2StateEvent({ instanceId: id, state: 'running', time: at(5) }))).outcome).toBe('stale');
    expect((await handleLifecycleEvent(deps, ec2StateEvent({ instanceId: id, state: 'running', time: at(50) }))).outcome).toBe('applied');
    expect(await deps.store.getEndpoint('web', id)).toMatchObject({ removed: false, endpoint: { health: 'healthy' } });
  });

  it('never brings a terminated instance back, whatever the time of a later event', async () => {
    const deps = await setup();
    mockInstance();
    await handleLifecycleEvent(deps, ec2StateEvent({ instanceId: id, state: 'terminated', time: at(10) }));
    expect(await deps.store.getEndpoint('web', id)).toMatchObject({ removed: true, orderingKey: terminalOrderingKey });
    expect((await handleLifecycleEvent(deps, ec2StateEvent({ instanceId: id, state: 'shutting-down', time: at(59) }))).outcome).toBe('stale');
    expect(await deps.store.getEndpoint('web', id)).toMatchObject({ removed: true });
  });
});

describe('late EC2 events', () => {
  it('ignores a late running event of an instance that is terminated by now (no address left)', async () => {
    const deps = await setup();
    mockInstance({ state: 'terminated', ip: '' });
    await handleLifecycleEvent(deps, ec2StateEvent({ instanceId: id, state: 'terminated', time: at(30) }));
    expect(await handleLifecycleEvent(deps, ec2StateEvent({ instanceId: id, state: 'running', time: at(0) }))).toMatchObject({
      outcome: 'ignored',
      reason: 'instance is already terminated',
    });
    expect(await deps.store.getEndpoint('web', id)).toMatchObject({ removed: true });
  });
});

describe('bad or unresolvable EC2 events', () => {
  it('rejects an unknown instance, naming the event, and writes nothing', async () => {
    const deps = await setup();
    ec2.on(DescribeInstancesCommand).rejects(
      Object.assign(new Error(`The instance ID '${id}' does not exist`), { name: 'InvalidInstanceID.NotFound' }),
    );
    const event = ec2StateEvent({ instanceId: id, state: 'running', time: at(0), eventId: 'evt-ec2-1' });
    await expect(handleLifecycleEvent(deps, event)).rejects.toThrow(new LifecycleEventError('evt-ec2-1', `instance ${id} is not known to EC2`));
    expect(await deps.store.listEndpoints('web')).toEqual([]);
  });

  it('lets an EC2 throttling error through, so the event is retried', async () => {
    const deps = await setup();
    ec2.on(DescribeInstancesCommand).rejects(Object.assign(new Error('Request limit exceeded.'), { name: 'RequestLimitExceeded' }));
    await expect(handleLifecycleEvent(deps, ec2StateEvent({ instanceId: id, state: 'running', time: at(0) }))).rejects.toMatchObject({
      name: 'RequestLimitExceeded',
    });
  });

  it('rejects a running instance that has no private IP', async () => {
    const deps = await setup();
    mockInstance({ ip: '' });
    await expect(handleLifecycleEvent(deps, ec2StateEvent({ instanceId: id, state: 'running', time: at(0), eventId: 'evt-2' }))).rejects.toThrow(
      `event evt-2: instance ${id} has no private IP address`,
    );
  });

  it('rejects an instance whose mesh:port tag is not a port', async () => {
    const deps = await setup();
    mockInstance({ tags: { 'mesh:service': 'web', 'mesh:port': '99999' } });
    await expect(handleLifecycleEvent(deps, ec2StateEvent({ instanceId: id, state: 'running', time: at(0), eventId: 'evt-3' }))).rejects.toThrow(
      `event evt-3: instance ${id} has tag mesh:port="99999", which is not a port from 1 to 65535`,
    );
    expect(await deps.store.listEndpoints('web')).toEqual([]);
  });

  it('rejects an EC2 event when no EC2 client is configured (the local runner)', async () => {
    const deps = await setup();
    await expect(
      handleLifecycleEvent({ store: deps.store }, ec2StateEvent({ instanceId: id, state: 'running', time: at(0), eventId: 'evt-4' })),
    ).rejects.toThrow(`event evt-4: cannot look up instance ${id}: no EC2 client is configured`);
  });

  it.each([
    ['an unknown state', { 'instance-id': id, state: 'hibernating' }, 'detail.state'],
    ['a malformed instance id', { 'instance-id': 'web-1', state: 'running' }, 'detail.instance-id'],
  ])('rejects %s before any lookup', async (_name, detail, field) => {
    const deps = await setup();
    const event = { ...ec2StateEvent({ instanceId: id, state: 'running', time: at(0), eventId: 'evt-5' }), detail };
    expect(() => validateLifecycleEvent(event)).toThrow(field);
    await expect(handleLifecycleEvent(deps, event)).rejects.toThrow(/^event evt-5: invalid EC2 instance state change/);
    expect(ec2.commandCalls(DescribeInstancesCommand)).toHaveLength(0);
  });
});
