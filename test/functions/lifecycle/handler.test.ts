import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { AutoScalingClient, CompleteLifecycleActionCommand } from '@aws-sdk/client-auto-scaling';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Context, EventBridgeEvent } from 'aws-lambda';
import { createLifecycleHandler } from '../../../functions/lifecycle/handler';
import { awsLifecycleDeps, readLifecycleEnvironment } from '../../../functions/lifecycle/aws/clients';
import { LifecycleEventError } from '../../../shared/lifecycle/envelope';
import { useDynalite } from '../../support/dynamo';
import { sdkEc2 } from '../../support/sdk-ec2';
import { sdkEcs } from '../../support/sdk-ecs';
import { ECSClient } from '@aws-sdk/client-ecs';
import { sdkAutoScaling, sdkSqs } from '../../support/sdk-lifecycle';
import { declare, ec2Instance, ecsTaskEvent, lifecycleActionEvent, spec, useLifecycleClients } from '../../shared/lifecycle/fixtures';

const dynamo = useDynalite();
const { ec2, autoScaling, sqs } = useLifecycleClients();

const context = { functionName: 'lifecycle', awsRequestId: 'req-1' } as Context;
const asEvent = (e: Record<string, unknown>) => e as unknown as EventBridgeEvent<string, unknown>;

describe('lifecycle handler', () => {
  it('reads its AWS settings from the environment', () => {
    expect(
      readLifecycleEnvironment({ DRAIN_QUEUE_URL: 'https://sqs/q', LIFECYCLE_HOOK_NAMES: 'mesh-drain, mesh-launch' }, 'eu-west-1', 'mesh:service'),
    ).toEqual({
      region: 'eu-west-1',
      meshTagKey: 'mesh:service',
      drainQueueUrl: 'https://sqs/q',
      lifecycleHookNames: new Set(['mesh-drain', 'mesh-launch']),
    });
    expect(readLifecycleEnvironment({}, 'eu-west-1', 'mesh:service')).toEqual({ region: 'eu-west-1', meshTagKey: 'mesh:service' });
  });

  it('binds ECS tasks to its own account and region: a task of another account is foreign', async () => {
    const store = await dynamo.newStore();
    await declare(store, spec({ name: 'payments' }));
    const env = readLifecycleEnvironment({}, 'us-east-1', 'mesh:service');
    const inAccount = (account: string) =>
      createLifecycleHandler(awsLifecycleDeps(store, env), { accountOfFunction: true })(
        asEvent(ecsTaskEvent({ taskId: `t-${account}`, ecsService: 'payments', version: 2 })),
        { ...context, invokedFunctionArn: `arn:aws:lambda:us-east-1:${account}:function:lifecycle` },
      );
    expect(await inAccount('444455556666')).toMatchObject({ outcome: 'foreign' });
    expect(await inAccount('111122223333')).toMatchObject({ outcome: 'applied' });
  });

  it('applies an event with the AWS-wired dependencies, hook to queue', async () => {
    const store = await dynamo.newStore();
    await declare(store, spec({ name: 'web', drainSeconds: 45 }));
    ec2.on(DescribeInstancesCommand).resolves({
      Reservations: [{ Instances: [ec2Instance({ instanceId: 'i-0000000000000000a', tags: { 'mesh:service': 'web' } })] }],
    });
    sqs.on(SendMessageCommand).resolves({});
    autoScaling.on(CompleteLifecycleActionCommand).resolves({});
    const env = readLifecycleEnvironment({ DRAIN_QUEUE_URL: 'https://sqs/q' }, 'us-east-1', 'mesh:service');
    const deps = awsLifecycleDeps(store, env, {
      ec2: sdkEc2(new EC2Client({ region: 'us-east-1' })),
      ecs: sdkEcs(new ECSClient({ region: 'us-east-1' })),
      autoScaling: sdkAutoScaling(new AutoScalingClient({ region: 'us-east-1' })),
      sqs: sdkSqs(new SQSClient({ region: 'us-east-1' })),
    });
    const handler = createLifecycleHandler(deps);
    const outcome = await handler(
      asEvent(lifecycleActionEvent({ transition: 'terminate', instanceId: 'i-0000000000000000a', time: '2026-11-25T11:00:00Z' })),
      context,
    );
    expect(outcome).toMatchObject({ outcome: 'applied', completion: 'scheduled', drainSeconds: 45 });
    expect(sqs.commandCalls(SendMessageCommand)[0]?.args[0].input).toMatchObject({ QueueUrl: 'https://sqs/q', DelaySeconds: 45 });
  });

  it('throws the LifecycleEventError of a bad event, so Lambda retries and dead-letters it', async () => {
    const store = await dynamo.newStore();
    const handler = createLifecycleHandler({ store });
    const event = ecsTaskEvent({ taskId: 't1', ecsService: 'orders', version: 1, eventId: 'evt-bad' });
    delete (event.detail as Record<string, unknown>).clusterArn;
    await expect(handler(asEvent(event), context)).rejects.toBeInstanceOf(LifecycleEventError);
  });
});
