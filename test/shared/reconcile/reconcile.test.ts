import { mockClient } from 'aws-sdk-client-mock';
import { DescribeTasksCommand, ECSClient, ListTasksCommand, Task } from '@aws-sdk/client-ecs';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { AutoScalingClient, DescribeAutoScalingInstancesCommand } from '@aws-sdk/client-auto-scaling';
import { reconcileFleet, ReconcileDeps } from '../../../shared/reconcile/reconcile';
import { handleLifecycleEvent } from '../../../shared/lifecycle/handle';
import { Ec2Instances } from '../../../functions/lifecycle/aws/ec2';
import { EcsContainerInstances, EcsTasks } from '../../../functions/lifecycle/aws/ecs';
import { MeshStore } from '../../../shared/store/mesh-store';
import { useDynalite } from '../../support/dynamo';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { clusterLoadAssignment } from '../../../shared/render/endpoint';
import { keys } from '../../../shared/store/layout';
import { packJson } from '../../../shared/store/codec';
import { declare, ec2Instance, ecsTaskEvent, spec, taskArn, taskDetail, TaskOptions } from '../lifecycle/fixtures';
import { sdkEc2 } from '../../support/sdk-ec2';
import { sdkAutoScaling } from '../../support/sdk-lifecycle';
import { sdkEcs } from '../../support/sdk-ecs';

const dynamo = useDynalite();
const ecs = mockClient(ECSClient);
const ec2 = mockClient(EC2Client);
const autoScaling = mockClient(AutoScalingClient);

const t0 = new Date('2026-11-25T12:00:00Z');
const orders = spec({ name: 'orders', ecs: { cluster: 'prod' } });
const web = spec({ name: 'web', inboundPort: 15001, drainSeconds: 60 });

/** fleet is what the mocked AWS APIs show: tasks per ECS service (cluster prod; default is listed too) and tagged instances. */
interface Fleet {
  tasks: Record<string, TaskOptions[]>;
  /** Tasks that run, but that ListTasks leaves out (a listing that succeeds and is wrong). */
  unlisted?: TaskOptions[];
  /** Task ids ListTasks names but DescribeTasks reports as failures. */
  undescribable?: string[];
  instances: Parameters<typeof ec2Instance>[0][];
  lifecycleStates?: Record<string, string>;
}

function mockFleet(fleet: Fleet) {
  ecs.reset();
  ec2.reset();
  autoScaling.reset();
  const all = new Map<string, Record<string, unknown>>();
  for (const tasks of Object.values(fleet.tasks)) for (const t of tasks) all.set(taskArn(t.taskId), taskDetail(t));
  const described = new Map(all);
  for (const t of fleet.unlisted ?? []) described.set(taskArn(t.taskId), taskDetail(t));
  for (const id of fleet.undescribable ?? []) all.set(taskArn(id), {});
  ecs.on(ListTasksCommand).callsFake((input: { cluster: string; nextToken?: string }) => {
    if (input.cluster !== 'prod' && input.cluster !== 'default') throw Object.assign(new Error('Cluster not found.'), { name: 'ClusterNotFoundException' });
    const arns = [...all.keys()];
    const start = input.nextToken ? Number(input.nextToken) : 0;
    const page = arns.slice(start, start + 100);
    return { taskArns: page, ...(start + 100 < arns.length ? { nextToken: String(start + 100) } : {}) };
  });
  ecs.on(DescribeTasksCommand).callsFake((input: { tasks: string[] }) => {
    if (input.tasks.length > 100) throw Object.assign(new Error('Too many tasks'), { name: 'InvalidParameterException' });
    const undescribable = new Set((fleet.undescribable ?? []).map((id) => taskArn(id)));
    const known = input.tasks.filter((arn) => described.has(arn) && !undescribable.has(arn));
    return {
      tasks: known.map((arn) => described.get(arn) as Task),
      failures: input.tasks
        .filter((arn) => !known.includes(arn))
        .map((arn) => ({ arn, reason: undescribable.has(arn) ? 'ACCESS_DENIED' : 'MISSING' })),
    };
  });
  ec2.on(DescribeInstancesCommand).callsFake((input: { NextToken?: string }) => {
    const start = input.NextToken ? Number(input.NextToken) : 0;
    const page = fleet.instances.slice(start, start + 2);
    return {
      Reservations: [{ Instances: page.map(ec2Instance) }],
      ...(start + 2 < fleet.instances.length ? { NextToken: String(start + 2) } : {}),
    };
  });
  autoScaling.on(DescribeAutoScalingInstancesCommand).callsFake((input: { InstanceIds: string[] }) => ({
    AutoScalingInstances: input.InstanceIds.map((id) => ({ InstanceId: id, LifecycleState: fleet.lifecycleStates?.[id] ?? 'InService' })),
  }));
}

async function setup(): Promise<{ store: MeshStore; deps: (now: Date) => ReconcileDeps }> {
  const store = await dynamo.newStore();
  await declare(store, orders, web);
  const ecsClient = new ECSClient({ maxAttempts: 1 });
  const ec2Client = new EC2Client({ maxAttempts: 1 });
  return {
    store,
    deps: (now) => ({
      store,
      tasks: new EcsTasks(sdkEcs(ecsClient)),
      containerInstances: new EcsContainerInstances(sdkEcs(ecsClient), sdkEc2(ec2Client)),
      instances: new Ec2Instances(sdkEc2(ec2Client), sdkAutoScaling(new AutoScalingClient({}))),
      now: () => now,
    }),
  };
}

const minutes = (m: number) => new Date(t0.getTime() + m * 60_000);
const liveIds = async (store: MeshStore, service: string) =>
  (await store.listEndpoints(service))
    .filter((s) => !s.removed)
    .map((s) => `${s.id.replace(/^.*\//, '')}:${s.removed ? 'removed' : s.endpoint.health}`)
    .sort();

describe('reconcileFleet with ECS', () => {
  it('adds every running task of the declared ECS services, across ListTasks pages and DescribeTasks chunks', async () => {
    const { store, deps } = await setup();
    await declare(store, spec({ name: 'billing', ecs: { cluster: 'arn:aws:ecs:us-east-1:111122223333:cluster/prod', serviceName: 'billing-svc' } }));
    const tasks = Array.from({ length: 150 }, (_, i) => ({ taskId: `t${String(i).padStart(3, '0')}`, ecsService: 'orders', version: 2, ip: `10.0.${i >> 8}.${i & 255}` }));
    mockFleet({
      tasks: {
        orders: tasks,
        'billing-svc': [{ taskId: 'b1', ecsService: 'billing-svc', version: 2 }],
        'not-in-mesh': [{ taskId: 'x1', ecsService: 'not-in-mesh', version: 2 }],
      },
      instances: [],
    });
    const report = await reconcileFleet(deps(t0), { runId: 'run-1' });
    expect(report).toMatchObject({ services: 3, drift: { added: 151, updated: 0, drained: 0, removed: 0 }, rendered: 2, errors: [] });
    // One listing for the cluster both services run in, whether named by name or by ARN.
    expect(ecs.commandCalls(ListTasksCommand).map((c) => c.args[0].input)).toEqual([
      { cluster: 'prod', desiredStatus: 'RUNNING', maxResults: 100, nextToken: undefined },
      { cluster: 'prod', desiredStatus: 'RUNNING', maxResults: 100, nextToken: '100' },
    ]);
    expect(ecs.commandCalls(DescribeTasksCommand).map((c) => c.args[0].input.tasks?.length)).toEqual([100, 52]);
    expect(await liveIds(store, 'billing')).toEqual(['b1:healthy']);
    expect((await store.listEndpoints('orders')).length).toBe(150);
    const eds = (await store.getEndpointAssignments(['orders'])).get('orders');
    expect((eds?.resource.endpoints as { lb_endpoints: unknown[] }[]).flatMap((l) => l.lb_endpoints)).toHaveLength(150);
  });

  it('writes what it adds with the task version, so the task’s next event applies and an older one does not', async () => {
    const { store, deps } = await setup();
    mockFleet({ tasks: { orders: [{ taskId: 'a', ecsService: 'orders', version: 4 }] }, instances: [] });
    await reconcileFleet(deps(t0), { runId: 'run-1' });
    expect(await store.getEndpoint('orders', taskArn('a'))).toMatchObject({
      orderingKey: 4,
      endpoint: { health: 'healthy', source: { kind: 'reconciler', eventId: 'run-1' } },
    });
    expect((await handleLifecycleEvent({ store }, ecsTaskEvent({ taskId: 'a', ecsService: 'orders', version: 4 }))).outcome).toBe('stale');
    const next = ecsTaskEvent({ taskId: 'a', ecsService: 'orders', version: 5, desiredStatus: 'STOPPED' });
    expect((await handleLifecycleEvent({ store }, next)).outcome).toBe('applied');
  });

  it('drains a task that vanished, then removes it on a run after its drain period; a third run finds no drift', async () => {
    const { store, deps } = await setup();
    await handleLifecycleEvent({ store }, ecsTaskEvent({ taskId: 'gone', ecsService: 'orders', version: 3, time: '2026-11-25T10:00:00Z' }));
    await handleLifecycleEvent({ store }, ecsTaskEvent({ taskId: 'kept', ecsService: 'orders', version: 3, time: '2026-11-25T10:00:00Z' }));
    mockFleet({ tasks: { orders: [{ taskId: 'kept', ecsService: 'orders', version: 3 }] }, instances: [] });

    expect((await reconcileFleet(deps(t0), { runId: 'run-1' })).drift).toEqual({ added: 0, updated: 0, drained: 1, removed: 0 });
    expect(await liveIds(store, 'orders')).toEqual(['gone:draining', 'kept:healthy']);
    expect((await reconcileFleet(deps(minutes(0.2)), { runId: 'run-2' })).drift).toEqual({ added: 0, updated: 0, drained: 0, removed: 0 });
    expect((await reconcileFleet(deps(minutes(5)), { runId: 'run-3' })).drift).toEqual({ added: 0, updated: 0, drained: 0, removed: 1 });
    expect(await liveIds(store, 'orders')).toEqual(['kept:healthy']);
    expect(await store.getEndpoint('orders', taskArn('gone'))).toMatchObject({ removed: true, orderingKey: 3 });
    expect((await reconcileFleet(deps(minutes(10)), { runId: 'run-4' })).drift).toEqual({ added: 0, updated: 0, drained: 0, removed: 0 });
  });

  it('lets a newer event win over its drain of a vanished task (compare-and-set on what it read)', async () => {
    const { store, deps } = await setup();
    await handleLifecycleEvent({ store }, ecsTaskEvent({ taskId: 'racing', ecsService: 'orders', version: 3, time: '2026-11-25T10:00:00Z' }));
    mockFleet({ tasks: { orders: [] }, instances: [] });
    // The STOPPED event lands right after the run read the table, before it writes.
    const racing: MeshStore = Object.create(store);
    racing.readEndpointState = async (service) => {
      const read = await store.readEndpointState(service);
      if (service === 'orders') {
        await handleLifecycleEvent({ store }, ecsTaskEvent({ taskId: 'racing', ecsService: 'orders', version: 6, lastStatus: 'STOPPED' }));
      }
      return read;
    };
    const report = await reconcileFleet({ ...deps(t0), store: racing }, { runId: 'run-1' });
    expect(report.drift).toEqual({ added: 0, updated: 0, drained: 0, removed: 0 });
    expect(await store.getEndpoint('orders', taskArn('racing'))).toMatchObject({ removed: true, orderingKey: 6 });
  });

  it('leaves a fresh endpoint alone: the listing may lag behind the event that wrote it', async () => {
    const { store, deps } = await setup();
    await handleLifecycleEvent({ store }, ecsTaskEvent({ taskId: 'new', ecsService: 'orders', version: 2, time: '2026-11-25T11:59:40Z' }));
    mockFleet({ tasks: { orders: [] }, instances: [] });
    expect((await reconcileFleet(deps(t0), { runId: 'run-1' })).drift.drained).toBe(0);
  });

  it('updates an endpoint whose stored health is older than the task’s', async () => {
    const { store, deps } = await setup();
    await handleLifecycleEvent({ store }, ecsTaskEvent({ taskId: 'a', ecsService: 'orders', version: 3 }));
    mockFleet({ tasks: { orders: [{ taskId: 'a', ecsService: 'orders', version: 5, healthStatus: 'UNHEALTHY' }] }, instances: [] });
    expect((await reconcileFleet(deps(t0), { runId: 'run-1' })).drift).toEqual({ added: 0, updated: 1, drained: 0, removed: 0 });
    expect(await liveIds(store, 'orders')).toEqual(['a:unhealthy']);
  });

  it('leaves a service’s endpoints alone when its tasks cannot be listed, and reports it', async () => {
    const { store, deps } = await setup();
    await declare(store, spec({ name: 'billing', ecs: { cluster: 'staging' } }));
    await handleLifecycleEvent({ store }, ecsTaskEvent({ taskId: 'b', ecsService: 'billing', version: 3, cluster: 'staging' }));
    mockFleet({ tasks: {}, instances: [] });
    const report = await reconcileFleet(deps(t0), { runId: 'run-1' });
    expect(report.drift.drained).toBe(0);
    expect(report.errors).toEqual(['listing ECS tasks in cluster staging: ClusterNotFoundException: Cluster not found.']);
    expect(await liveIds(store, 'billing')).toEqual(['b:healthy']);
  });

  it('holds the only endpoint of a service when a listing that succeeded no longer shows a task ECS still runs', async () => {
    const { store, deps } = await setup();
    await handleLifecycleEvent({ store }, ecsTaskEvent({ taskId: 'only', ecsService: 'orders', version: 3, time: '2026-11-25T10:00:00Z' }));
    mockFleet({ tasks: { orders: [] }, unlisted: [{ taskId: 'only', ecsService: 'orders', version: 3 }], instances: [] });
    for (const [run, at] of [['run-1', t0], ['run-2', minutes(5)]] as const) {
      const report = await reconcileFleet(deps(at), { runId: run });
      expect({ drift: report.drift, held: report.held }).toEqual({
        drift: { added: 0, updated: 0, drained: 0, removed: 0 },
        held: [`service orders: ${taskArn('only')} no longer listed, not confirmed gone (1 of 1 live would go)`],
      });
    }
    expect(await liveIds(store, 'orders')).toEqual(['only:healthy']);
  });

  it('lets a vanished endpoint go past the valve once DescribeTasks confirms the task stopped', async () => {
    const { store, deps } = await setup();
    await handleLifecycleEvent({ store }, ecsTaskEvent({ taskId: 'only', ecsService: 'orders', version: 3, time: '2026-11-25T10:00:00Z' }));
    mockFleet({ tasks: { orders: [] }, unlisted: [{ taskId: 'only', ecsService: 'orders', version: 4, lastStatus: 'STOPPED' }], instances: [] });
    expect((await reconcileFleet(deps(t0), { runId: 'run-1' })).drift.drained).toBe(1);
    mockFleet({ tasks: { orders: [] }, instances: [] }); // later, ECS no longer knows it: MISSING
    const report = await reconcileFleet(deps(minutes(5)), { runId: 'run-2' });
    expect({ removed: report.drift.removed, held: report.held }).toEqual({ removed: 1, held: [] });
  });

  it('takes a task DescribeTasks could not describe for unknown, not gone, and reports it', async () => {
    const { store, deps } = await setup();
    for (const id of ['a', 'b']) await handleLifecycleEvent({ store }, ecsTaskEvent({ taskId: id, ecsService: 'orders', version: 3, time: '2026-11-25T10:00:00Z' }));
    mockFleet({ tasks: { orders: [{ taskId: 'a', ecsService: 'orders', version: 3 }] }, undescribable: ['b'], instances: [] });
    const report = await reconcileFleet(deps(t0), { runId: 'run-1' });
    expect({ drift: report.drift, errors: report.errors }).toEqual({
      drift: { added: 0, updated: 0, drained: 0, removed: 0 },
      errors: ['cluster prod: 1 listed task(s) could not be described; left as they are'],
    });
    expect(await liveIds(store, 'orders')).toEqual(['a:healthy', 'b:healthy']);
  });

  it('drains and then removes what a task of another cluster left behind, once the spec names its cluster', async () => {
    const { store, deps } = await setup();
    // Before the spec named its cluster, a task of cluster blue with the same ECS service name got in.
    await declare(store, spec({ name: 'orders' }));
    expect((await handleLifecycleEvent({ store }, ecsTaskEvent({ taskId: 'elsewhere', ecsService: 'orders', version: 3, cluster: 'blue' }))).outcome).toBe('applied');
    await declare(store, orders);
    mockFleet({ tasks: { orders: [] }, instances: [] });
    expect((await reconcileFleet(deps(t0), { runId: 'run-1' })).drift).toEqual({ added: 0, updated: 0, drained: 1, removed: 0 });
    expect((await reconcileFleet(deps(minutes(5)), { runId: 'run-2' })).drift).toEqual({ added: 0, updated: 0, drained: 0, removed: 1 });
    expect(await liveIds(store, 'orders')).toEqual([]);
  });

  it('leaves alone the tasks of other clusters for a spec that names no cluster', async () => {
    const { store, deps } = await setup();
    await declare(store, spec({ name: 'billing', ecs: { serviceName: 'billing-svc' } }));
    await handleLifecycleEvent({ store }, ecsTaskEvent({ taskId: 'b', ecsService: 'billing-svc', version: 3, cluster: 'blue' }));
    mockFleet({ tasks: { orders: [] }, instances: [] });
    const report = await reconcileFleet(deps(t0), { runId: 'run-1' }); // billing's tasks are listed in cluster default
    expect({ drained: report.drift.drained, errors: report.errors }).toEqual({ drained: 0, errors: [] });
    expect(await liveIds(store, 'billing')).toEqual(['b:healthy']);
  });
});

describe('reconcileFleet with EC2', () => {
  const tags = { 'mesh:service': 'web', 'aws:autoscaling:groupName': 'web-asg' };
  const id = (n: number) => `i-00000000000000${String(n).padStart(3, '0')}`;

  it('adds tagged instances across DescribeInstances pages, with their Auto Scaling state', async () => {
    const { store, deps } = await setup();
    mockFleet({
      tasks: {},
      instances: [
        { instanceId: id(1), ip: '10.0.2.1', tags },
        { instanceId: id(2), ip: '10.0.2.2', tags },
        { instanceId: id(3), ip: '10.0.2.3', tags },
        { instanceId: id(4), ip: '10.0.2.4', tags, state: 'stopped' },
        { instanceId: id(5), ip: '10.0.2.5', tags: { 'mesh:service': 'legacy' } },
      ],
      lifecycleStates: { [id(3)]: 'Terminating:Wait' },
    });
    const report = await reconcileFleet(deps(t0), { runId: 'run-1' });
    expect(report).toMatchObject({ drift: { added: 3, updated: 0, drained: 0, removed: 0 }, undeclaredInstances: 1, errors: [] });
    expect(ec2.commandCalls(DescribeInstancesCommand).map((c) => c.args[0].input.NextToken)).toEqual([undefined, '2', '4']);
    expect(ec2.commandCalls(DescribeInstancesCommand)[0]?.args[0].input.Filters).toEqual([{ Name: 'tag-key', Values: ['mesh:service'] }]);
    expect(await liveIds(store, 'web')).toEqual([`${id(1)}:healthy`, `${id(2)}:healthy`, `${id(3)}:draining`]);
  });

  it('does not undo the drain of a terminate hook while the instance still runs', async () => {
    const { store, deps } = await setup();
    mockFleet({ tasks: {}, instances: [{ instanceId: id(1), tags }], lifecycleStates: { [id(1)]: 'Terminating:Wait' } });
    await store.applyEndpointChange({
      kind: 'upsert',
      endpoint: {
        service: 'web',
        id: id(1),
        address: '10.0.2.20',
        port: 15001,
        zone: 'us-east-1b',
        health: 'draining',
        labels: { zone: 'us-east-1b', instanceType: 'm7g.large', autoScalingGroup: 'web-asg' },
        source: { kind: 'ec2-instance', eventId: 'hook', eventTime: '2026-11-25T11:50:00Z', orderingKey: Date.parse('2026-11-25T11:50:00Z') * 8 + 2 },
      },
    });
    expect((await reconcileFleet(deps(t0), { runId: 'run-1' })).drift).toEqual({ added: 0, updated: 0, drained: 0, removed: 0 });
  });

  it('removes an instance observed stopped, and drains then removes one that vanished', async () => {
    const { store, deps } = await setup();
    mockFleet({ tasks: {}, instances: [{ instanceId: id(1), tags }, { instanceId: id(2), tags }] });
    await reconcileFleet(deps(t0), { runId: 'run-1' });
    mockFleet({ tasks: {}, instances: [{ instanceId: id(1), tags, state: 'stopped' }] });
    expect((await reconcileFleet(deps(minutes(5)), { runId: 'run-2' })).drift).toEqual({ added: 0, updated: 0, drained: 1, removed: 1 });
    expect(await liveIds(store, 'web')).toEqual([`${id(2)}:draining`]);
    // web drains for 60 s: not yet at +5.5 min, done at +7 min.
    expect((await reconcileFleet(deps(minutes(5.5)), { runId: 'run-3' })).drift.removed).toBe(0);
    expect((await reconcileFleet(deps(minutes(7)), { runId: 'run-4' })).drift.removed).toBe(1);
    expect(await liveIds(store, 'web')).toEqual([]);
  });

  it('lets an EC2 event from around the listing win over it', async () => {
    const { store, deps } = await setup();
    mockFleet({ tasks: {}, instances: [{ instanceId: id(1), tags }] });
    await reconcileFleet(deps(t0), { runId: 'run-1' });
    // The instance began stopping 30 s before the next run's listing, which still shows it running.
    const ec2Only = new Ec2Instances(sdkEc2(new EC2Client({})));
    await handleLifecycleEvent(
      { store, instances: ec2Only },
      { version: '0', id: 'evt-stop', 'detail-type': 'EC2 Instance State-change Notification', source: 'aws.ec2', time: '2026-11-25T12:09:30Z', detail: { 'instance-id': id(1), state: 'stopping' } },
    );
    expect((await reconcileFleet(deps(minutes(10)), { runId: 'run-2' })).drift.updated).toBe(0);
    expect(await liveIds(store, 'web')).toEqual([`${id(1)}:draining`]);
  });

  it('leaves EC2 endpoints alone when the instances cannot be listed', async () => {
    const { store, deps } = await setup();
    mockFleet({ tasks: {}, instances: [{ instanceId: id(1), tags }] });
    await reconcileFleet(deps(t0), { runId: 'run-1' });
    ec2.on(DescribeInstancesCommand).rejects(Object.assign(new Error('Request limit exceeded.'), { name: 'RequestLimitExceeded' }));
    const report = await reconcileFleet(deps(minutes(10)), { runId: 'run-2' });
    expect(report.errors).toEqual(['listing EC2 instances tagged mesh:service: RequestLimitExceeded: Request limit exceeded.']);
    expect(await liveIds(store, 'web')).toEqual([`${id(1)}:healthy`]);
  });
});

describe('reconcileFleet and the stored assignments', () => {
  const served = async (store: MeshStore, service: string) => (await store.getEndpointAssignments([service])).get(service)?.resource;
  const rendered = async (store: MeshStore, service: string) =>
    clusterLoadAssignment(service, (await store.listEndpoints(service)).flatMap((s) => (s.removed ? [] : [s.endpoint])));

  it('renders again an assignment a fold stopped short of (endpoint written, shard not), and finds no drift on the next run', async () => {
    const { store, deps } = await setup();
    await handleLifecycleEvent({ store }, ecsTaskEvent({ taskId: 'a', ecsService: 'orders', version: 2 }));
    // The next event's function stops after its endpoint write, before it folds it in.
    await store.applyEndpointChange({ kind: 'upsert', endpoint: { ...(await liveEndpoint(store, 'a')), id: taskArn('b'), address: '10.0.9.9' } });
    expect(await served(store, 'orders')).not.toEqual(await rendered(store, 'orders'));
    mockFleet({ tasks: { orders: [] }, undescribable: ['a', 'b'], instances: [] });
    const report = await reconcileFleet(deps(t0), { runId: 'run-1' });
    expect(report.assignmentDrift).toEqual(['service orders: 1 endpoint(s) missing from the shards']);
    expect(await served(store, 'orders')).toEqual(await rendered(store, 'orders'));
    expect((await reconcileFleet(deps(t0), { runId: 'run-2' })).assignmentDrift).toEqual([]);
  });

  it('serves an assignment stored whole before shards as it is, then renders it into shards', async () => {
    const { store, deps } = await setup();
    await store.applyEndpointChange({ kind: 'upsert', endpoint: { ...endpointOf('a'), address: '10.0.3.3' } });
    const whole = clusterLoadAssignment('orders', [{ ...endpointOf('a'), address: '10.0.3.3' }]);
    await dynamo.db().doc.send(
      new PutCommand({ TableName: store.tableName, Item: { ...keys.endpointAssignment('orders'), kind: 'eds', endpointRevision: 3, body: new Uint8Array(packJson(whole)), version: 'v-whole', renderedRevision: 3, renderedAt: t0.toISOString() } }),
    );
    expect((await store.getEndpointAssignments(['orders'])).get('orders')).toMatchObject({ resource: whole, version: 'v-whole' });
    mockFleet({ tasks: { orders: [] }, undescribable: ['a'], instances: [] });
    expect((await reconcileFleet(deps(t0), { runId: 'run-1' })).assignmentDrift).toEqual(['service orders: stored whole, before shards']);
    const after = await store.readEndpointState('orders');
    expect(after.head?.layout?.shards).toBe(1);
    expect(await served(store, 'orders')).toEqual(whole);
  });

  it('deletes the shards an older generation left behind, and finds no drift', async () => {
    const { store, deps } = await setup();
    await handleLifecycleEvent({ store }, ecsTaskEvent({ taskId: 'a', ecsService: 'orders', version: 2 }));
    const before = await store.readEndpointState('orders');
    // A shard of an older generation, as a render that stopped before deleting it leaves one.
    const old = before.shards[0]!;
    await dynamo.db().doc.send(new PutCommand({ TableName: store.tableName, Item: { ...keys.assignmentShard('orders', old.generation - 1, 0), body: new Uint8Array(packJson([])), stamp: 1, count: 0, sum1: 0, sum2: 0, bytes: 0 } }));
    mockFleet({ tasks: { orders: [] }, undescribable: ['a'], instances: [] });
    const report = await reconcileFleet(deps(t0), { runId: 'run-1' });
    expect(report.assignmentDrift).toEqual([]);
    const after = await store.readEndpointState('orders');
    expect(after.shards.map((s) => s.generation)).toEqual([old.generation]);
  });
});

const endpointOf = (taskId: string) => ({
  service: 'orders',
  id: taskArn(taskId),
  address: '10.0.1.1',
  port: 15000,
  health: 'healthy' as const,
  labels: {},
  source: { kind: 'ecs-task' as const, eventId: `e-${taskId}`, eventTime: '2026-11-25T10:00:00Z', orderingKey: 2 },
});

async function liveEndpoint(store: MeshStore, taskId: string) {
  const stored = await store.getEndpoint('orders', taskArn(taskId));
  if (!stored || stored.removed) throw new Error(`no live endpoint ${taskId}`);
  return stored.endpoint;
}
