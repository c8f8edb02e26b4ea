import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { AutoScalingClient, CompleteLifecycleActionCommand } from '@aws-sdk/client-auto-scaling';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { handleLifecycleEvent, LifecycleDeps } from '../../../shared/lifecycle/handle';
import { completeDrain, drainCompletionSchema } from '../../../shared/lifecycle/drain';
import { instanceOrderingKey, terminalOrderingKey } from '../../../shared/lifecycle/ec2-instance';
import { TimerDrainScheduler, timerDrainScheduler } from '../../../shared/lifecycle/timer-scheduler';
import { DrainCompletion } from '../../../shared/lifecycle/ports';
import { defaultDrainSeconds } from '../../../shared/model/defaults';
import { Ec2Instances } from '../../../functions/lifecycle/aws/ec2';
import { AutoScalingLifecycleActions } from '../../../functions/lifecycle/aws/autoscaling';
import { SqsDrainScheduler } from '../../../functions/lifecycle/aws/sqs';
import { MeshStore } from '../../../shared/store/mesh-store';
import { useDynalite } from '../../support/dynamo';
import { declare, ec2Instance, ec2StateEvent, lifecycleActionEvent, spec, useLifecycleClients } from './fixtures';
import { sdkEc2 } from '../../support/sdk-ec2';
import { sdkAutoScaling, sdkSqs } from '../../support/sdk-lifecycle';

const dynamo = useDynalite();
const { ec2, autoScaling, sqs } = useLifecycleClients();

const id = 'i-0abc1234def567890';
const queueUrl = 'https://sqs.us-east-1.amazonaws.com/111122223333/drain';
const token = '87654321-4321-4321-4321-210987654321';

function mockInstance(tags: Record<string, string> = { 'mesh:service': 'web', 'aws:autoscaling:groupName': 'web-asg' }) {
  ec2.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [ec2Instance({ instanceId: id, ip: '10.0.2.20', tags })] }] });
}

async function setup(drainSeconds?: number): Promise<LifecycleDeps & { store: MeshStore }> {
  const store = await dynamo.newStore();
  await declare(store, spec({ name: 'web', inboundPort: 15001, ...(drainSeconds === undefined ? {} : { drainSeconds }) }));
  return {
    store,
    instances: new Ec2Instances(sdkEc2(new EC2Client({}))),
    lifecycleActions: new AutoScalingLifecycleActions(sdkAutoScaling(new AutoScalingClient({ maxAttempts: 1 }))),
    drainScheduler: new SqsDrainScheduler(sdkSqs(new SQSClient({})), queueUrl),
  };
}

const completeInput = (hook: string) => ({
  AutoScalingGroupName: 'orders-asg',
  LifecycleHookName: hook,
  LifecycleActionToken: token,
  LifecycleActionResult: 'CONTINUE',
});

describe('Auto Scaling launch hook', () => {
  it('registers the instance healthy, then lets it go in service', async () => {
    const deps = await setup();
    mockInstance();
    const event = lifecycleActionEvent({ transition: 'launch', instanceId: id, time: '2026-11-25T10:00:00Z' });
    expect(await handleLifecycleEvent(deps, event)).toMatchObject({ outcome: 'applied', service: 'web', completion: 'completed' });
    expect(await deps.store.getEndpoint('web', id)).toMatchObject({
      orderingKey: instanceOrderingKey('2026-11-25T10:00:00Z', 1),
      endpoint: { address: '10.0.2.20', port: 15001, health: 'healthy' },
    });
    expect(autoScaling.commandCalls(CompleteLifecycleActionCommand).map((c) => c.args[0].input)).toEqual([completeInput('mesh-launch')]);
  });

  it('lets an instance of an undeclared service through at once, registering nothing', async () => {
    const deps = await setup();
    mockInstance({ 'mesh:service': 'legacy' });
    const event = lifecycleActionEvent({ transition: 'launch', instanceId: id, time: '2026-11-25T10:00:00Z' });
    expect(await handleLifecycleEvent(deps, event)).toMatchObject({ outcome: 'ignored', completion: 'completed' });
    expect(await deps.store.listEndpoints('web')).toEqual([]);
  });

  it('leaves alone the hooks of other tools', async () => {
    const deps = await setup();
    const event = lifecycleActionEvent({ transition: 'launch', instanceId: id, time: '2026-11-25T10:00:00Z', hook: 'log-shipper' });
    expect(await handleLifecycleEvent({ ...deps, lifecycleHookNames: new Set(['mesh-launch', 'mesh-drain']) }, event)).toMatchObject({
      outcome: 'ignored',
      reason: 'hook "log-shipper" is not ours',
    });
    expect(autoScaling.commandCalls(CompleteLifecycleActionCommand)).toHaveLength(0);
    expect(ec2.commandCalls(DescribeInstancesCommand)).toHaveLength(0);
  });
});

describe('Auto Scaling terminate hook', () => {
  it('drains the instance and schedules the completion after the default drain period', async () => {
    const deps = await setup();
    mockInstance();
    const event = lifecycleActionEvent({ transition: 'terminate', instanceId: id, time: '2026-11-25T11:00:00Z', eventId: 'evt-term' });
    expect(await handleLifecycleEvent(deps, event)).toMatchObject({
      outcome: 'applied',
      completion: 'scheduled',
      drainSeconds: defaultDrainSeconds,
    });
    expect(await deps.store.getEndpoint('web', id)).toMatchObject({ endpoint: { health: 'draining' } });
    expect(autoScaling.commandCalls(CompleteLifecycleActionCommand)).toHaveLength(0);
    const [send] = sqs.commandCalls(SendMessageCommand);
    expect(send?.args[0].input).toEqual({
      QueueUrl: queueUrl,
      DelaySeconds: 30,
      MessageBody: JSON.stringify({
        eventId: 'evt-term',
        service: 'web',
        hook: { autoScalingGroupName: 'orders-asg', lifecycleHookName: 'mesh-drain', lifecycleActionToken: token, instanceId: id },
      }),
    });
  });

  it("waits the service's own drain period", async () => {
    const deps = await setup(120);
    mockInstance();
    await handleLifecycleEvent(deps, lifecycleActionEvent({ transition: 'terminate', instanceId: id, time: '2026-11-25T11:00:00Z' }));
    expect(sqs.commandCalls(SendMessageCommand)[0]?.args[0].input.DelaySeconds).toBe(120);
  });

  it('drains over a running event of the same second', async () => {
    const deps = await setup();
    mockInstance();
    await handleLifecycleEvent(deps, lifecycleActionEvent({ transition: 'terminate', instanceId: id, time: '2026-11-25T11:00:00Z' }));
    const running = await handleLifecycleEvent(deps, ec2StateEvent({ instanceId: id, state: 'running', time: '2026-11-25T11:00:00Z' }));
    expect(running.outcome).toBe('stale');
  });

  it('rejects a terminate hook, writing nothing, when no drain scheduler is configured', async () => {
    const { drainScheduler: _unused, ...deps } = await setup();
    mockInstance();
    const event = lifecycleActionEvent({ transition: 'terminate', instanceId: id, time: '2026-11-25T11:00:00Z', eventId: 'evt-nq' });
    await expect(handleLifecycleEvent(deps, event)).rejects.toThrow(
      'event evt-nq: cannot drain before termination: no drain scheduler (DRAIN_QUEUE_URL) is configured',
    );
    expect(await deps.store.listEndpoints('web')).toEqual([]);
  });

  it('lets an SQS failure through, so the event is retried (the drain write is repeated harmlessly)', async () => {
    const deps = await setup();
    mockInstance();
    sqs.on(SendMessageCommand).rejectsOnce(Object.assign(new Error('throttled'), { name: 'ThrottlingException' })).resolves({});
    const event = lifecycleActionEvent({ transition: 'terminate', instanceId: id, time: '2026-11-25T11:00:00Z' });
    await expect(handleLifecycleEvent(deps, event)).rejects.toMatchObject({ name: 'ThrottlingException' });
    expect(await handleLifecycleEvent(deps, event)).toMatchObject({ outcome: 'applied', completion: 'scheduled' });
    expect(sqs.commandCalls(SendMessageCommand)).toHaveLength(2);
  });

  it('rejects a lifecycle action whose transition contradicts its detail-type', async () => {
    const deps = await setup();
    const event = lifecycleActionEvent({ transition: 'terminate', instanceId: id, time: '2026-11-25T11:00:00Z', eventId: 'evt-mix' });
    (event.detail as Record<string, unknown>).LifecycleTransition = 'autoscaling:EC2_INSTANCE_LAUNCHING';
    await expect(handleLifecycleEvent(deps, event)).rejects.toThrow(
      'event evt-mix: detail.LifecycleTransition: "autoscaling:EC2_INSTANCE_LAUNCHING" does not match detail-type "EC2 Instance-terminate Lifecycle Action"',
    );
  });
});

describe('completing a drain', () => {
  const completion: DrainCompletion = {
    eventId: 'evt-term',
    service: 'web',
    hook: { autoScalingGroupName: 'web-asg', lifecycleHookName: 'mesh-drain', lifecycleActionToken: token, instanceId: id },
  };

  it('completes the hook with CONTINUE and removes the endpoint for good', async () => {
    const deps = await setup();
    mockInstance();
    await handleLifecycleEvent(deps, lifecycleActionEvent({ transition: 'terminate', instanceId: id, time: '2026-11-25T11:00:00Z' }));
    const result = await completeDrain({ store: deps.store, lifecycleActions: deps.lifecycleActions! }, completion);
    expect(result).toEqual({ action: 'completed', endpoint: 'applied' });
    expect(autoScaling.commandCalls(CompleteLifecycleActionCommand)[0]?.args[0].input).toEqual({
      AutoScalingGroupName: 'web-asg',
      LifecycleHookName: 'mesh-drain',
      LifecycleActionToken: token,
      LifecycleActionResult: 'CONTINUE',
    });
    expect(await deps.store.getEndpoint('web', id)).toMatchObject({ removed: true, orderingKey: terminalOrderingKey });
    // EC2 reports shutting-down after the hook: the instance stays removed.
    const late = await handleLifecycleEvent(deps, ec2StateEvent({ instanceId: id, state: 'shutting-down', time: '2026-11-25T11:05:00Z' }));
    expect(late.outcome).toBe('stale');
  });

  it('treats an action Auto Scaling no longer waits on as done', async () => {
    const deps = await setup();
    autoScaling
      .on(CompleteLifecycleActionCommand)
      .rejects(Object.assign(new Error(`No active Lifecycle Action found with token ${token}`), { name: 'ValidationError' }));
    const result = await completeDrain({ store: deps.store, lifecycleActions: deps.lifecycleActions! }, completion);
    expect(result).toEqual({ action: 'expired', endpoint: 'applied' });
    expect(await deps.store.getEndpoint('web', id)).toMatchObject({ removed: true });
  });

  it('lets other Auto Scaling errors through, removing nothing yet', async () => {
    const deps = await setup();
    autoScaling.on(CompleteLifecycleActionCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'Throttling' }));
    await expect(completeDrain({ store: deps.store, lifecycleActions: deps.lifecycleActions! }, completion)).rejects.toMatchObject({
      name: 'Throttling',
    });
    expect(await deps.store.listEndpoints('web')).toEqual([]);
  });

  it('round-trips the completion through its queue message shape', () => {
    expect(drainCompletionSchema.parse(JSON.parse(JSON.stringify(completion)))).toEqual(completion);
  });
});

describe('TimerDrainScheduler (local runner)', () => {
  it('runs a completion after its delay, and reports a failing one', async () => {
    jest.useFakeTimers();
    try {
      const ran: string[] = [];
      const failed: string[] = [];
      const scheduler = new TimerDrainScheduler(
        async (c) => {
          if (c.eventId === 'bad') throw new Error('boom');
          ran.push(c.eventId);
        },
        (c) => failed.push(c.eventId),
      );
      const base = { service: 'web', hook: completion().hook };
      await scheduler.schedule({ ...base, eventId: 'a' }, 30);
      await scheduler.schedule({ ...base, eventId: 'bad' }, 10);
      expect(scheduler.pending).toBe(2);
      await jest.advanceTimersByTimeAsync(10_000);
      expect(failed).toEqual(['bad']);
      expect(ran).toEqual([]);
      await jest.advanceTimersByTimeAsync(20_000);
      expect(ran).toEqual(['a']);
      expect(scheduler.pending).toBe(0);
    } finally {
      jest.useRealTimers();
    }
  });

  it('settles once every scheduled completion has run or been cancelled', async () => {
    jest.useFakeTimers();
    try {
      const ran: string[] = [];
      const scheduler = new TimerDrainScheduler(async (c) => void ran.push(c.eventId), () => undefined);
      const base = { service: 'web', hook: completion().hook };
      await scheduler.schedule({ ...base, eventId: 'soon' }, 1);
      let settled = false;
      const waiting = scheduler.settled().then(() => (settled = true));
      await jest.advanceTimersByTimeAsync(1_000);
      await waiting;
      expect({ ran, settled }).toEqual({ ran: ['soon'], settled: true });
      await scheduler.schedule({ ...base, eventId: 'never' }, 60);
      scheduler.cancelAll();
      await scheduler.settled();
      expect({ ran, pending: scheduler.pending }).toEqual({ ran: ['soon'], pending: 0 });
    } finally {
      jest.useRealTimers();
    }
  });

  it('completes the drain locally: the hook, then the endpoint, once the timer fires', async () => {
    const deps = await setup(0);
    mockInstance();
    const errors: unknown[] = [];
    const scheduler = timerDrainScheduler({ store: deps.store, lifecycleActions: deps.lifecycleActions! }, (_c, e) => errors.push(e));
    const outcome = await handleLifecycleEvent(
      { ...deps, drainScheduler: scheduler },
      lifecycleActionEvent({ transition: 'terminate', instanceId: id, time: '2026-11-25T11:00:00Z' }),
    );
    expect(outcome).toMatchObject({ completion: 'scheduled', drainSeconds: 0 });
    await scheduler.settled();
    expect(await deps.store.getEndpoint('web', id)).toMatchObject({ removed: true, orderingKey: terminalOrderingKey });
    expect(autoScaling.commandCalls(CompleteLifecycleActionCommand)).toHaveLength(1);
    expect(errors).toEqual([]);
  });

  function completion(): DrainCompletion {
    return { eventId: 'x', service: 'web', hook: { autoScalingGroupName: 'g', lifecycleHookName: 'h', lifecycleActionToken: 't', instanceId: id } };
  }
});
