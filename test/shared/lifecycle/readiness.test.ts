import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { AutoScalingClient, CompleteLifecycleActionCommand, DescribeAutoScalingInstancesCommand } from '@aws-sdk/client-auto-scaling';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { handleLifecycleEvent, LifecycleDeps } from '../../../shared/lifecycle/handle';
import { checkLaunchReadiness, LaunchReadiness, launchReadinessSchema, nodeHasConfig } from '../../../shared/lifecycle/readiness';
import { NodeStatus } from '../../../shared/model/node-status';
import { Ec2Instances } from '../../../functions/lifecycle/aws/ec2';
import { AutoScalingLifecycleActions } from '../../../functions/lifecycle/aws/autoscaling';
import { SqsDrainScheduler } from '../../../functions/lifecycle/aws/sqs';
import { MeshStore } from '../../../shared/store/mesh-store';
import { useDynalite } from '../../support/dynamo';
import { declare, ec2Instance, ec2StateEvent, lifecycleActionEvent, spec, useLifecycleClients } from './fixtures';
import { instanceOrderingKey } from '../../../shared/lifecycle/ec2-instance';
import { sdkEc2 } from '../../support/sdk-ec2';
import { sdkAutoScaling, sdkSqs } from '../../support/sdk-lifecycle';

const dynamo = useDynalite();
const { ec2, autoScaling, sqs } = useLifecycleClients();
beforeEach(() => {
  ec2.on(DescribeInstancesCommand).resolves({
    Reservations: [{ Instances: [ec2Instance({ instanceId: id, ip: '10.0.2.20', tags: { 'mesh:service': 'web' } })] }],
  });
});

const id = 'i-0abc1234def567890';
const queueUrl = 'https://sqs.us-east-1.amazonaws.com/111122223333/drain';
const launchedAt = '2026-11-25T10:00:00Z';
const hook = { autoScalingGroupName: 'orders-asg', lifecycleHookName: 'mesh-launch', lifecycleActionToken: '87654321-4321-4321-4321-210987654321', instanceId: id };
const at = (secondsAfterLaunch: number) => () => new Date(Date.parse(launchedAt) + secondsAfterLaunch * 1000);

async function setup(now: () => Date): Promise<LifecycleDeps & { store: MeshStore }> {
  const store = await dynamo.newStore();
  await declare(store, spec({ name: 'web' }));
  const queue = new SqsDrainScheduler(sdkSqs(new SQSClient({})), queueUrl);
  return {
    store,
    instances: new Ec2Instances(sdkEc2(new EC2Client({}))),
    lifecycleActions: new AutoScalingLifecycleActions(sdkAutoScaling(new AutoScalingClient({ maxAttempts: 1 }))),
    drainScheduler: queue,
    readinessScheduler: queue,
    now,
  };
}

/** statusOf is a node's status as the xds function records it: these subscriptions, with these applied versions. */
function statusOf(applied: Partial<Record<'clusters' | 'listeners', string>>): NodeStatus {
  const subscription = (type: 'clusters' | 'listeners') => ({
    type,
    resourceNames: [],
    appliedVersion: applied[type] ?? '',
    appliedAt: '2026-11-25T10:01:00.000Z',
    servedVersion: 'v1',
    lastPollAt: '2026-11-25T10:01:00.000Z',
  });
  return {
    nodeId: id,
    service: 'web',
    firstSeenAt: '2026-11-25T10:00:40.000Z',
    lastPollAt: '2026-11-25T10:01:00.000Z',
    subscriptions: { clusters: subscription('clusters'), listeners: subscription('listeners') },
  };
}

const completions = () => autoScaling.commandCalls(CompleteLifecycleActionCommand).map((c) => c.args[0].input.LifecycleActionResult);
const scheduled = () => sqs.commandCalls(SendMessageCommand).map((c) => ({ ...c.args[0].input, MessageBody: JSON.parse(c.args[0].input.MessageBody!) }));
const check: LaunchReadiness = { kind: 'launch-readiness', eventId: 'evt-launch', service: 'web', hook, deadline: '2026-11-25T10:04:00.000Z' };

const launchEvent = lifecycleActionEvent({
  transition: 'launch',
  instanceId: id,
  time: launchedAt,
  eventId: 'evt-launch',
  metadata: '{"service":"web","readyTimeoutSeconds":240}',
});

describe('the Auto Scaling launch hook with a ready timeout', () => {
  it('registers the instance unhealthy, keeps it out of service, and checks again in 15 s, until 240 s after launch', async () => {
    const deps = await setup(at(5));
    expect(await handleLifecycleEvent(deps, launchEvent)).toMatchObject({ outcome: 'applied', service: 'web', completion: 'waiting' });
    expect(await deps.store.getEndpoint('web', id)).toMatchObject({ endpoint: { address: '10.0.2.20', health: 'unhealthy' } });
    expect(completions()).toEqual([]);
    expect(scheduled()).toEqual([{ QueueUrl: queueUrl, DelaySeconds: 15, MessageBody: check }]);
    expect(launchReadinessSchema.parse(scheduled()[0]!.MessageBody)).toEqual(check);
  });

  it('completes at once when the hook names no ready timeout', async () => {
    const deps = await setup(at(5));
    const event = lifecycleActionEvent({ transition: 'launch', instanceId: id, time: launchedAt, metadata: '{"service":"web"}' });
    expect(await handleLifecycleEvent(deps, event)).toMatchObject({ completion: 'completed' });
    expect(completions()).toEqual(['CONTINUE']);
  });

  it('is refused with a clear reason when no readiness scheduler is configured', async () => {
    const { readinessScheduler: _unused, ...deps } = await setup(at(5));
    const event = lifecycleActionEvent({ transition: 'launch', instanceId: id, time: launchedAt, metadata: '{"readyTimeoutSeconds":240}' });
    await expect(handleLifecycleEvent(deps, event)).rejects.toThrow('cannot wait for the instance to be ready: no readiness scheduler');
  });
});

describe('a launch readiness check', () => {
  it('lets the instance go in service once its Envoy has applied clusters and listeners: healthy for callers, then CONTINUE', async () => {
    const deps = await setup(at(60));
    await handleLifecycleEvent({ ...deps, now: at(5) }, launchEvent);
    sqs.resetHistory();
    await deps.store.putNodeStatus(statusOf({ clusters: 'c1', listeners: 'l1' }));
    const result = await checkLaunchReadiness({ ...deps, scheduler: deps.readinessScheduler!, lifecycleActions: deps.lifecycleActions!, now: at(60) }, check);
    expect(result).toEqual({ state: 'ready', action: 'completed' });
    expect(completions()).toEqual(['CONTINUE']);
    expect(scheduled()).toEqual([]);
    expect(await deps.store.getEndpoint('web', id)).toMatchObject({
      orderingKey: instanceOrderingKey(Date.parse(launchedAt) + 60_000, 1),
      endpoint: { address: '10.0.2.20', health: 'healthy' },
    });
  });

  it('keeps a running instance out of its callers\u2019 pools while Auto Scaling holds it in the launch hook', async () => {
    const deps = await setup(at(30));
    autoScaling.on(DescribeAutoScalingInstancesCommand).resolves({
      AutoScalingInstances: [{ InstanceId: id, LifecycleState: 'Pending:Wait', AutoScalingGroupName: 'orders-asg', AvailabilityZone: 'us-east-1b', HealthStatus: 'HEALTHY', ProtectedFromScaleIn: false }],
    });
    ec2.on(DescribeInstancesCommand).resolves({
      Reservations: [{ Instances: [ec2Instance({ instanceId: id, ip: '10.0.2.20', tags: { 'mesh:service': 'web', 'aws:autoscaling:groupName': 'orders-asg' } })] }],
    });
    const running = ec2StateEvent({ instanceId: id, state: 'running', time: '2026-11-25T10:00:20Z' });
    await handleLifecycleEvent({ ...deps, instances: new Ec2Instances(sdkEc2(new EC2Client({})), sdkAutoScaling(new AutoScalingClient({}))) }, running);
    expect(await deps.store.getEndpoint('web', id)).toMatchObject({ endpoint: { health: 'unhealthy' } });
  });

  it('waits while the node has clusters but no listeners yet, never past the deadline', async () => {
    const deps = await setup(at(232));
    await deps.store.putNodeStatus(statusOf({ clusters: 'c1' }));
    const result = await checkLaunchReadiness({ ...deps, scheduler: deps.readinessScheduler!, lifecycleActions: deps.lifecycleActions!, now: at(232) }, check);
    expect(result).toEqual({ state: 'waiting', nextCheckSeconds: 8 });
    expect(completions()).toEqual([]);
    expect(scheduled().map((m) => m.DelaySeconds)).toEqual([8]);
  });

  it.each([
    [
      'never had a poll accepted, saying to check its role binding',
      240,
      undefined,
      `instance ${id} of "web" has no configuration from the control plane by 2026-11-25T10:04:00.000Z: no poll from it was ever accepted: is its role bound to "web" (PollsRefused, the xds log's "poll refused"), and did its user data start Envoy (the instance's Envoy log)?`,
    ],
    ['polls but never applies its config, pointing at NACKs', 300, statusOf({ clusters: 'c1' }), 'look for NACKs in GET /nodes?service=web'],
  ])('abandons an instance that %s', async (_case, secondsAfterLaunch, status, reason) => {
    const deps = await setup(at(secondsAfterLaunch));
    if (status) await deps.store.putNodeStatus(status);
    const result = await checkLaunchReadiness(
      { ...deps, scheduler: deps.readinessScheduler!, lifecycleActions: deps.lifecycleActions!, now: at(secondsAfterLaunch) },
      check,
    );
    expect(result).toMatchObject({ state: 'timed-out', action: 'completed' });
    expect(result.state === 'timed-out' && result.reason).toContain(reason);
    expect(completions()).toEqual(['ABANDON']);
    expect(scheduled()).toEqual([]);
  });
});

describe('nodeHasConfig', () => {
  it.each([
    ['is false with no status at all', undefined, false],
    ['is false for a node that polled but applied nothing', statusOf({}), false],
    ['is false with clusters applied and listeners not', statusOf({ clusters: 'c1' }), false],
    ['is true with clusters and listeners applied', statusOf({ clusters: 'c1', listeners: 'l1' }), true],
  ])('%s', (_case, status, expected) => {
    expect(nodeHasConfig(status)).toBe(expected);
  });
});
