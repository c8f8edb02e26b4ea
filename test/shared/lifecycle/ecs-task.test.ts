import { mockClient } from 'aws-sdk-client-mock';
import { DescribeContainerInstancesCommand, ECSClient } from '@aws-sdk/client-ecs';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { handleLifecycleEvent, validateLifecycleEvent } from '../../../shared/lifecycle/handle';
import { foreignTaskReason, parseEcsTaskDetail } from '../../../shared/lifecycle/ecs-task';
import { parseEnvelope } from '../../../shared/lifecycle/handle';
import { LifecycleEventError } from '../../../shared/lifecycle/envelope';
import { EcsContainerInstances } from '../../../functions/lifecycle/aws/ecs';
import { StoreUnavailableError } from '../../../shared/errors';
import { MeshStore } from '../../../shared/store/mesh-store';
import { OperationCounter } from '../../../bench/harness';
import { clusterLoadAssignment } from '../../../shared/render/endpoint';
import { useDynalite } from '../../support/dynamo';
import { clusterArn, containerInstanceArn, declare, ec2Instance, ecsTaskEvent, spec, taskArn } from './fixtures';
import { sdkEc2 } from '../../support/sdk-ec2';
import { sdkEcs } from '../../support/sdk-ecs';

const dynamo = useDynalite();
const ecs = mockClient(ECSClient);
const ec2 = mockClient(EC2Client);
let counter: OperationCounter;

beforeAll(() => {
  counter = new OperationCounter(dynamo.db().doc);
});
beforeEach(() => {
  ecs.reset();
  ec2.reset();
});

const orders = spec({ name: 'orders', inboundPort: 15000 });

async function ordersStore(): Promise<MeshStore> {
  const store = await dynamo.newStore();
  await declare(store, orders);
  return store;
}

async function edsEndpoints(store: MeshStore, service: string) {
  const eds = (await store.getEndpointAssignments([service])).get(service);
  return (eds?.resource.endpoints as { lb_endpoints: unknown[] }[] | undefined)?.flatMap((l) => l.lb_endpoints) ?? [];
}

describe("foreignTaskReason: which cluster, account and region a service's tasks may come from", () => {
  const detail = (cluster: string) => parseEcsTaskDetail(parseEnvelope(ecsTaskEvent({ taskId: 't', ecsService: 'payments', version: 1, cluster })));
  const here = { account: '111122223333', region: 'us-east-1' };
  const cases: [string, Parameters<typeof spec>[0], string, boolean][] = [
    ['a spec naming no cluster takes any cluster of the deployment', { name: 'payments' }, 'blue', true],
    ['a cluster named by name matches the ARN\'s name', { name: 'payments', ecs: { cluster: 'prod' } }, 'prod', true],
    ['a cluster named by name refuses another', { name: 'payments', ecs: { cluster: 'prod' } }, 'some-dev-cluster', false],
    ['a cluster named by ARN matches that ARN', { name: 'payments', ecs: { cluster: clusterArn('prod') } }, 'prod', true],
    ['a cluster named by ARN refuses the same name elsewhere', { name: 'payments', ecs: { cluster: 'arn:aws:ecs:eu-west-1:111122223333:cluster/prod' } }, 'prod', false],
  ];
  it.each(cases)('%s', (_name, input, cluster, belongs) => {
    expect(foreignTaskReason(detail(cluster), spec(input), here) === undefined).toBe(belongs);
  });
});

describe('ECS task state changes (awsvpc)', () => {
  const cases: {
    name: string;
    task: { lastStatus?: string; desiredStatus?: string; healthStatus?: string };
    health?: string;
    outcome: 'applied' | 'ignored';
    removed?: boolean;
  }[] = [
    { name: 'a running task without a health check becomes a healthy endpoint', task: {}, health: 'healthy', outcome: 'applied' },
    { name: 'a running task whose check passes becomes a healthy endpoint', task: { healthStatus: 'HEALTHY' }, health: 'healthy', outcome: 'applied' },
    { name: 'a running task not yet checked (UNKNOWN) counts as healthy', task: { healthStatus: 'UNKNOWN' }, health: 'healthy', outcome: 'applied' },
    { name: 'a running task whose check fails becomes unhealthy', task: { healthStatus: 'UNHEALTHY' }, health: 'unhealthy', outcome: 'applied' },
    { name: 'a running task asked to stop drains', task: { desiredStatus: 'STOPPED' }, health: 'draining', outcome: 'applied' },
    { name: 'a deactivating task drains', task: { lastStatus: 'DEACTIVATING', desiredStatus: 'STOPPED' }, health: 'draining', outcome: 'applied' },
    { name: 'a stopping task drains', task: { lastStatus: 'STOPPING', desiredStatus: 'STOPPED' }, health: 'draining', outcome: 'applied' },
    { name: 'a stopped task is removed', task: { lastStatus: 'STOPPED' }, outcome: 'applied', removed: true },
    { name: 'a pending task is not an endpoint yet', task: { lastStatus: 'PENDING' }, outcome: 'ignored' },
    { name: 'a pending task asked to stop was never an endpoint', task: { lastStatus: 'PENDING', desiredStatus: 'STOPPED' }, outcome: 'ignored' },
  ];
  it.each(cases)('$name', async ({ task, health, outcome, removed }) => {
    const store = await ordersStore();
    const event = ecsTaskEvent({ taskId: 't1', ecsService: 'orders', version: 3, ip: '10.0.1.7', ...task });
    const result = await handleLifecycleEvent({ store }, event);
    expect(result.outcome).toBe(outcome);
    const stored = await store.getEndpoint('orders', taskArn('t1'));
    if (outcome === 'ignored') return expect(stored).toBeUndefined();
    if (removed) return expect(stored).toMatchObject({ removed: true, orderingKey: 3 });
    expect(stored).toEqual({
      removed: false,
      service: 'orders',
      id: taskArn('t1'),
      orderingKey: 3,
      endpoint: {
        service: 'orders',
        id: taskArn('t1'),
        address: '10.0.1.7',
        port: 15000,
        zone: 'us-east-1a',
        health,
        labels: { family: 'orders', revision: '1', capacityProvider: 'FARGATE', zone: 'us-east-1a' },
        source: { kind: 'ecs-task', eventId: event.id, eventTime: '2026-11-25T10:00:00Z', orderingKey: 3 },
      },
    });
  });

  it('labels an endpoint with the task definition revision and the capacity provider', async () => {
    const store = await ordersStore();
    await handleLifecycleEvent(
      { store },
      ecsTaskEvent({ taskId: 't1', ecsService: 'orders', version: 2, family: 'orders-api', revision: 42, capacityProviderName: 'FARGATE_SPOT', zone: 'us-east-1c' }),
    );
    const stored = await store.getEndpoint('orders', taskArn('t1'));
    expect(stored?.removed === false && stored.endpoint.labels).toEqual({
      family: 'orders-api',
      revision: '42',
      capacityProvider: 'FARGATE_SPOT',
      zone: 'us-east-1c',
    });
  });

  it('maps an ECS service to the mesh service whose spec names it', async () => {
    const store = await dynamo.newStore();
    await declare(store, spec({ name: 'payments', ecs: { serviceName: 'payments-v2-svc' } }));
    const result = await handleLifecycleEvent({ store }, ecsTaskEvent({ taskId: 't9', ecsService: 'payments-v2-svc', version: 2 }));
    expect(result).toMatchObject({ outcome: 'applied', service: 'payments', endpointId: taskArn('t9') });
  });

  it('counts a task of another cluster than the spec names as foreign, and writes nothing', async () => {
    const store = await dynamo.newStore();
    await declare(store, spec({ name: 'payments', ecs: { cluster: 'prod' } }));
    counter.reset();
    const dev = ecsTaskEvent({ taskId: 'dev1', ecsService: 'payments', version: 2, cluster: 'some-dev-cluster', ip: '203.0.113.66' });
    expect(await handleLifecycleEvent({ store }, dev)).toMatchObject({
      outcome: 'foreign',
      service: 'payments',
      reason: `task ${taskArn('dev1', 'some-dev-cluster')} runs in cluster some-dev-cluster, and payments's ecs.cluster is prod`,
    });
    expect(counter.snapshot()).toEqual({ GetItem: 2 });
    expect(await store.listEndpoints('payments')).toEqual([]);
    const prod = ecsTaskEvent({ taskId: 'p1', ecsService: 'payments', version: 2, cluster: 'prod' });
    expect((await handleLifecycleEvent({ store }, prod)).outcome).toBe('applied');
  });

  it('counts a task of another account or region than the deployment as foreign', async () => {
    const store = await dynamo.newStore();
    await declare(store, spec({ name: 'payments' }));
    const event = ecsTaskEvent({ taskId: 't1', ecsService: 'payments', version: 2 });
    const outcome = (deployment: { account?: string; region?: string }) =>
      handleLifecycleEvent({ store, deployment }, event).then((o) => [o.outcome, o.reason]);
    expect(await outcome({ account: '444455556666', region: 'us-east-1' })).toEqual([
      'foreign',
      `task ${taskArn('t1')} runs in account 111122223333, not in this control plane's account 444455556666`,
    ]);
    expect(await outcome({ account: '111122223333', region: 'eu-west-1' })).toEqual([
      'foreign',
      `task ${taskArn('t1')} runs in region us-east-1, not in this control plane's region eu-west-1`,
    ]);
    expect(await outcome({ account: '111122223333', region: 'us-east-1' })).toEqual(['applied', undefined]);
  });

  it('ignores a task of an undeclared ECS service after one GetItem and no write', async () => {
    const store = await ordersStore();
    counter.reset();
    const result = await handleLifecycleEvent({ store }, ecsTaskEvent({ taskId: 't1', ecsService: 'billing', version: 2 }));
    expect(result).toMatchObject({ outcome: 'ignored', reason: 'ECS service "billing" is not in the mesh' });
    expect(counter.snapshot()).toEqual({ GetItem: 1 });
  });

  it('ignores a standalone task (no service group) without reading the table', async () => {
    const store = await ordersStore();
    counter.reset();
    const result = await handleLifecycleEvent({ store }, ecsTaskEvent({ taskId: 't1', ecsService: 'orders', version: 2, group: 'family:orders' }));
    expect(result.outcome).toBe('ignored');
    expect(counter.snapshot()).toEqual({});
  });

  it('re-renders exactly the EDS item of the service the task belongs to', async () => {
    const store = await ordersStore();
    await declare(store, spec({ name: 'billing' }));
    counter.reset();
    await handleLifecycleEvent({ store }, ecsTaskEvent({ taskId: 't1', ecsService: 'orders', version: 2, ip: '10.0.1.7' }));
    // alias + spec, the conditional put, the assignment's head (nothing rendered yet: the spec
    // was stored without its render), then the render in full: revision, endpoints of orders,
    // its one shard, the switch of the head, and its record in the change log.
    expect(counter.snapshot()).toEqual({ GetItem: 3, PutItem: 3, Query: 1, UpdateItem: 2 });
    counter.reset();
    await handleLifecycleEvent({ store }, ecsTaskEvent({ taskId: 't2', ecsService: 'orders', version: 2, ip: '10.0.1.8' }));
    // alias + spec, the conditional put, then the fold: head, shard and endpoint read, the shard
    // written, the head's digest moved, the record in the change log, and the endpoint read again
    // (a change since is folded too). No listing.
    expect(counter.snapshot()).toEqual({ GetItem: 6, PutItem: 3, UpdateItem: 1 });
    const stored = await Promise.all(['t1', 't2'].map((t) => store.getEndpoint('orders', taskArn(t))));
    const eds = (await store.getEndpointAssignments(['orders'])).get('orders');
    expect(eds?.resource).toEqual(clusterLoadAssignment('orders', stored.flatMap((s) => (s && !s.removed ? [s.endpoint] : []))));
    expect(await edsEndpoints(store, 'orders')).toMatchObject([
      { endpoint: { address: { socket_address: { address: '10.0.1.7', port_value: 15000 } } }, health_status: 'HEALTHY' },
      { endpoint: { address: { socket_address: { address: '10.0.1.8', port_value: 15000 } } }, health_status: 'HEALTHY' },
    ]);
    expect(await store.getEndpointAssignments(['billing'])).toEqual(new Map());
  });
});

describe('ordering and duplicates of ECS events', () => {
  it('drops an event older than the stored version', async () => {
    const store = await ordersStore();
    await handleLifecycleEvent({ store }, ecsTaskEvent({ taskId: 't1', ecsService: 'orders', version: 5, desiredStatus: 'STOPPED' }));
    const late = await handleLifecycleEvent({ store }, ecsTaskEvent({ taskId: 't1', ecsService: 'orders', version: 4 }));
    expect(late.outcome).toBe('stale');
    expect(await store.getEndpoint('orders', taskArn('t1'))).toMatchObject({ orderingKey: 5, endpoint: { health: 'draining' } });
  });

  it('keeps a stopped task removed when a late RUNNING event arrives (tombstone)', async () => {
    const store = await ordersStore();
    await handleLifecycleEvent({ store }, ecsTaskEvent({ taskId: 't1', ecsService: 'orders', version: 6, lastStatus: 'STOPPED' }));
    const late = await handleLifecycleEvent({ store }, ecsTaskEvent({ taskId: 't1', ecsService: 'orders', version: 3 }));
    expect(late.outcome).toBe('stale');
    expect(await store.getEndpoint('orders', taskArn('t1'))).toMatchObject({ removed: true, orderingKey: 6 });
    expect(await edsEndpoints(store, 'orders')).toEqual([]);
  });

  it('gives a tombstone a TTL', async () => {
    const now = new Date('2026-11-25T10:00:00Z');
    const store = await dynamo.newStore({ tombstoneTtlSeconds: 3600, now: () => now });
    await declare(store, orders);
    await handleLifecycleEvent({ store }, ecsTaskEvent({ taskId: 't1', ecsService: 'orders', version: 6, lastStatus: 'STOPPED' }));
    const { Item } = await dynamo.db().doc.send(
      new (await import('@aws-sdk/lib-dynamodb')).GetCommand({ TableName: store.tableName, Key: { pk: 'SVC#orders', sk: `EP#${taskArn('t1')}` } }),
    );
    expect(Item?.expiresAt).toBe(now.getTime() / 1000 + 3600);
  });

  it('completes a redelivered event whose first delivery wrote but did not render', async () => {
    const store = await ordersStore();
    const event = ecsTaskEvent({ taskId: 't1', ecsService: 'orders', version: 2, ip: '10.0.1.9' });
    // The first delivery failed after its write: the endpoint is stored, the EDS item is not rendered.
    await store.applyEndpointChange({
      kind: 'upsert',
      endpoint: {
        service: 'orders',
        id: taskArn('t1'),
        address: '10.0.1.9',
        port: 15000,
        zone: 'us-east-1a',
        health: 'healthy',
        labels: {},
        source: { kind: 'ecs-task', eventId: String(event.id), eventTime: '2026-11-25T10:00:00Z', orderingKey: 2 },
      },
    });
    expect(await edsEndpoints(store, 'orders')).toEqual([]);
    const retry = await handleLifecycleEvent({ store }, event);
    expect(retry.outcome).toBe('applied');
    expect(await edsEndpoints(store, 'orders')).toHaveLength(1);
  });

  it('treats a duplicate of an older event as stale without rendering', async () => {
    const store = await ordersStore();
    const first = ecsTaskEvent({ taskId: 't1', ecsService: 'orders', version: 2 });
    await handleLifecycleEvent({ store }, first);
    await handleLifecycleEvent({ store }, ecsTaskEvent({ taskId: 't1', ecsService: 'orders', version: 3, healthStatus: 'UNHEALTHY' }));
    counter.reset();
    expect((await handleLifecycleEvent({ store }, first)).outcome).toBe('stale');
    expect(counter.snapshot()).toEqual({ GetItem: 3, PutItem: 1 });
  });
});

describe('ECS tasks in bridge and host mode', () => {
  const ciArn = containerInstanceArn('ci-0001');
  function mockContainerInstance(ip = '10.0.3.30') {
    ecs.on(DescribeContainerInstancesCommand, { cluster: clusterArn(), containerInstances: [ciArn] }).resolves({
      containerInstances: [{ containerInstanceArn: ciArn, ec2InstanceId: 'i-0123456789abcdef0', status: 'ACTIVE' }],
      failures: [],
    });
    ec2.on(DescribeInstancesCommand, { InstanceIds: ['i-0123456789abcdef0'] }).resolves({
      Reservations: [{ Instances: [ec2Instance({ instanceId: 'i-0123456789abcdef0', ip })] }],
    });
  }

  it('reaches the task on its container instance IP and the host port of the Envoy port', async () => {
    const store = await ordersStore();
    mockContainerInstance();
    const containerInstances = new EcsContainerInstances(sdkEcs(new ECSClient({})), sdkEc2(new EC2Client({})));
    const event = ecsTaskEvent({
      taskId: 'b1',
      ecsService: 'orders',
      version: 2,
      bridge: { containerInstanceId: 'ci-0001', bindings: [{ containerPort: 9901, hostPort: 32001 }, { containerPort: 15000, hostPort: 32768 }] },
    });
    expect(validateLifecycleEvent(event).id).toBe(event.id);
    await handleLifecycleEvent({ store, containerInstances }, event);
    expect(await store.getEndpoint('orders', taskArn('b1'))).toMatchObject({
      endpoint: { address: '10.0.3.30', port: 32768, health: 'healthy', labels: { capacityProvider: 'EC2' } },
    });
  });

  it('looks a container instance up once per container (the IP is immutable)', async () => {
    const store = await ordersStore();
    mockContainerInstance();
    const containerInstances = new EcsContainerInstances(sdkEcs(new ECSClient({})), sdkEc2(new EC2Client({})));
    const bridge = { containerInstanceId: 'ci-0001', bindings: [{ containerPort: 15000, hostPort: 32768 }] };
    await handleLifecycleEvent({ store, containerInstances }, ecsTaskEvent({ taskId: 'b1', ecsService: 'orders', version: 2, bridge }));
    await handleLifecycleEvent({ store, containerInstances }, ecsTaskEvent({ taskId: 'b2', ecsService: 'orders', version: 2, bridge }));
    expect(ecs.commandCalls(DescribeContainerInstancesCommand)).toHaveLength(1);
    expect(ec2.commandCalls(DescribeInstancesCommand)).toHaveLength(1);
  });

  it('uses the bound IP of a host-mode binding without any lookup', async () => {
    const store = await ordersStore();
    await handleLifecycleEvent(
      { store },
      ecsTaskEvent({
        taskId: 'h1',
        ecsService: 'orders',
        version: 2,
        bridge: { containerInstanceId: 'ci-0001', bindings: [{ containerPort: 15000, hostPort: 15000, bindIP: '10.0.3.31' }] },
      }),
    );
    expect(await store.getEndpoint('orders', taskArn('h1'))).toMatchObject({ endpoint: { address: '10.0.3.31', port: 15000 } });
  });

  it('rejects, naming the event, a task whose container instance cannot be found, and writes nothing', async () => {
    const store = await ordersStore();
    ecs.on(DescribeContainerInstancesCommand).resolves({ containerInstances: [], failures: [{ arn: ciArn, reason: 'MISSING' }] });
    const containerInstances = new EcsContainerInstances(sdkEcs(new ECSClient({})), sdkEc2(new EC2Client({})));
    const event = ecsTaskEvent({
      taskId: 'b1',
      ecsService: 'orders',
      version: 2,
      eventId: 'evt-bridge-1',
      bridge: { containerInstanceId: 'ci-0001', bindings: [{ containerPort: 15000, hostPort: 32768 }] },
    });
    await expect(handleLifecycleEvent({ store, containerInstances }, event)).rejects.toThrow(
      new LifecycleEventError('evt-bridge-1', `container instance ${ciArn} of task ${taskArn('b1')} has no private IP (not found in ECS/EC2)`),
    );
    expect(await store.listEndpoints('orders')).toEqual([]);
  });

  it('rejects a bridge task that publishes no binding for the Envoy port', async () => {
    const store = await ordersStore();
    const event = ecsTaskEvent({
      taskId: 'b1',
      ecsService: 'orders',
      version: 2,
      eventId: 'evt-bridge-2',
      bridge: { containerInstanceId: 'ci-0001', bindings: [{ containerPort: 8080, hostPort: 32768 }] },
    });
    await expect(handleLifecycleEvent({ store }, event)).rejects.toThrow(
      'event evt-bridge-2: task arn:aws:ecs:us-east-1:111122223333:task/prod/b1 has no ENI address and no network binding for the Envoy port 15000',
    );
  });

  it('lets an ECS API failure through, so the platform retries the event', async () => {
    const store = await ordersStore();
    ecs.on(DescribeContainerInstancesCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    const containerInstances = new EcsContainerInstances(sdkEcs(new ECSClient({ maxAttempts: 1 })), sdkEc2(new EC2Client({})));
    const event = ecsTaskEvent({
      taskId: 'b1',
      ecsService: 'orders',
      version: 2,
      bridge: { containerInstanceId: 'ci-0001', bindings: [{ containerPort: 15000, hostPort: 32768 }] },
    });
    await expect(handleLifecycleEvent({ store, containerInstances }, event)).rejects.toMatchObject({ name: 'ThrottlingException' });
    expect(await store.listEndpoints('orders')).toEqual([]);
  });
});

describe('bad ECS events', () => {
  it.each([
    ['a detail without taskArn', (d: Record<string, unknown>) => delete d.taskArn, 'detail.taskArn'],
    ['a negative version', (d: Record<string, unknown>) => (d.version = -1), 'detail.version'],
    ['a version that is not a number', (d: Record<string, unknown>) => (d.version = '7'), 'detail.version'],
  ])('rejects %s, naming the event and the field', async (_name, mutate, field) => {
    const store = await ordersStore();
    const event = ecsTaskEvent({ taskId: 't1', ecsService: 'orders', version: 2, eventId: 'evt-bad' });
    mutate(event.detail as Record<string, unknown>);
    const error = await handleLifecycleEvent({ store }, event).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LifecycleEventError);
    expect((error as LifecycleEventError).eventId).toBe('evt-bad');
    expect((error as Error).message).toContain(field);
    expect(() => validateLifecycleEvent(event)).toThrow(LifecycleEventError);
    expect(await store.listEndpoints('orders')).toEqual([]);
  });

  it('rejects an event that is not an EventBridge envelope', async () => {
    const store = await ordersStore();
    await expect(handleLifecycleEvent({ store }, { id: 'evt-x', source: 'aws.ecs' })).rejects.toThrow(/^event evt-x: not an EventBridge event/);
  });

  it('ignores event kinds it does not handle, and tolerates unknown fields', async () => {
    const store = await ordersStore();
    const event = { ...ecsTaskEvent({ taskId: 't1', ecsService: 'orders', version: 2 }), 'detail-type': 'ECS Deployment State Change' };
    expect(await handleLifecycleEvent({ store }, event)).toMatchObject({ outcome: 'ignored' });
    const extra = ecsTaskEvent({ taskId: 't2', ecsService: 'orders', version: 2 });
    (extra.detail as Record<string, unknown>).ephemeralStorage = { sizeInGiB: 20 };
    expect(await handleLifecycleEvent({ store }, { ...extra, 'new-field': 1 })).toMatchObject({ outcome: 'applied' });
  });

  it('lets a DynamoDB failure through as StoreUnavailableError', async () => {
    const store = new MeshStore(dynamo.db().doc, 'no-such-table');
    await expect(handleLifecycleEvent({ store }, ecsTaskEvent({ taskId: 't1', ecsService: 'orders', version: 2 }))).rejects.toBeInstanceOf(
      StoreUnavailableError,
    );
  });
});
