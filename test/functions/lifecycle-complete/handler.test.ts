import { mockClient } from 'aws-sdk-client-mock';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { SqsDrainScheduler } from '../../../functions/lifecycle/aws/sqs';
import { AutoScalingClient, CompleteLifecycleActionCommand } from '@aws-sdk/client-auto-scaling';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { createLifecycleCompleteHandler } from '../../../functions/lifecycle-complete/handler';
import { AutoScalingLifecycleActions } from '../../../functions/lifecycle/aws/autoscaling';
import { terminalOrderingKey } from '../../../shared/lifecycle/ec2-instance';
import { useDynalite } from '../../support/dynamo';
import { declare, spec } from '../../shared/lifecycle/fixtures';
import { sdkAutoScaling, sdkSqs } from '../../support/sdk-lifecycle';

const dynamo = useDynalite();
const autoScaling = mockClient(AutoScalingClient);
beforeEach(() => {
  autoScaling.reset();
  autoScaling.on(CompleteLifecycleActionCommand).resolves({});
});

const context = { functionName: 'lifecycle-complete', awsRequestId: 'req-1' } as Context;

function record(messageId: string, body: unknown): SQSRecord {
  return {
    messageId,
    receiptHandle: `rh-${messageId}`,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: '1764064800000',
      SenderId: 'AROAEXAMPLE',
      ApproximateFirstReceiveTimestamp: '1764064830000',
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:111122223333:drain',
    awsRegion: 'us-east-1',
  };
}

const completion = (instanceId: string) => ({
  eventId: `evt-${instanceId}`,
  service: 'web',
  hook: { autoScalingGroupName: 'web-asg', lifecycleHookName: 'mesh-drain', lifecycleActionToken: `tok-${instanceId}`, instanceId },
});

describe('lifecycle-complete handler', () => {
  it('completes every good message and reports only the bad ones as batch item failures', async () => {
    const store = await dynamo.newStore();
    await declare(store, spec({ name: 'web' }));
    const handler = createLifecycleCompleteHandler({ store, lifecycleActions: new AutoScalingLifecycleActions(sdkAutoScaling(new AutoScalingClient({}))) });
    const event: SQSEvent = {
      Records: [
        record('m1', completion('i-0000000000000000a')),
        record('m2', '{not json'),
        record('m3', { ...completion('i-0000000000000000b'), hook: { instanceId: 'i-0000000000000000b' } }),
        record('m4', completion('i-0000000000000000c')),
      ],
    };
    expect(await handler(event, context)).toEqual({ batchItemFailures: [{ itemIdentifier: 'm2' }, { itemIdentifier: 'm3' }] });
    expect(autoScaling.commandCalls(CompleteLifecycleActionCommand).map((c) => c.args[0].input.LifecycleActionToken)).toEqual([
      'tok-i-0000000000000000a',
      'tok-i-0000000000000000c',
    ]);
    expect(await store.getEndpoint('web', 'i-0000000000000000a')).toMatchObject({ removed: true, orderingKey: terminalOrderingKey });
    expect(await store.getEndpoint('web', 'i-0000000000000000c')).toMatchObject({ removed: true });
  });

  it('reports a message whose completion fails in Auto Scaling, so SQS retries it', async () => {
    const store = await dynamo.newStore();
    autoScaling.on(CompleteLifecycleActionCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'Throttling' }));
    const handler = createLifecycleCompleteHandler({
      store,
      lifecycleActions: new AutoScalingLifecycleActions(sdkAutoScaling(new AutoScalingClient({ maxAttempts: 1 }))),
    });
    expect(await handler({ Records: [record('m1', completion('i-0000000000000000a'))] }, context)).toEqual({
      batchItemFailures: [{ itemIdentifier: 'm1' }],
    });
    expect(await store.listEndpoints('web')).toEqual([]);
  });

  it('checks launching instances: CONTINUE once the node has config, a later check while it has not', async () => {
    const store = await dynamo.newStore();
    await declare(store, spec({ name: 'web' }));
    const sqs = mockClient(SQSClient);
    sqs.on(SendMessageCommand).resolves({ MessageId: 'next' });
    const subscription = (type: 'clusters' | 'listeners') => ({
      type,
      resourceNames: [],
      appliedVersion: 'v1',
      appliedAt: '2026-11-25T10:01:00.000Z',
      servedVersion: 'v1',
      lastPollAt: '2026-11-25T10:01:00.000Z',
    });
    await store.putNodeStatus({
      nodeId: 'i-0000000000000000a',
      service: 'web',
      firstSeenAt: '2026-11-25T10:00:40.000Z',
      lastPollAt: '2026-11-25T10:01:00.000Z',
      subscriptions: { clusters: subscription('clusters'), listeners: subscription('listeners') },
    });
    const handler = createLifecycleCompleteHandler({
      store,
      lifecycleActions: new AutoScalingLifecycleActions(sdkAutoScaling(new AutoScalingClient({}))),
      readinessScheduler: new SqsDrainScheduler(sdkSqs(new SQSClient({})), 'https://sqs.us-east-1.amazonaws.com/111122223333/drain'),
      now: () => new Date('2026-11-25T10:01:30Z'),
    });
    const check = (instanceId: string) => ({
      kind: 'launch-readiness',
      eventId: `evt-${instanceId}`,
      service: 'web',
      hook: { autoScalingGroupName: 'web-asg', lifecycleHookName: 'mesh-launch', lifecycleActionToken: `tok-${instanceId}`, instanceId },
      deadline: '2026-11-25T10:04:00.000Z',
    });
    const event: SQSEvent = { Records: [record('m1', check('i-0000000000000000a')), record('m2', check('i-0000000000000000b'))] };
    expect(await handler(event, context)).toEqual({ batchItemFailures: [] });
    expect(autoScaling.commandCalls(CompleteLifecycleActionCommand).map((c) => c.args[0].input)).toEqual([
      expect.objectContaining({ LifecycleActionToken: 'tok-i-0000000000000000a', LifecycleActionResult: 'CONTINUE' }),
    ]);
    expect(sqs.commandCalls(SendMessageCommand).map((c) => JSON.parse(c.args[0].input.MessageBody!))).toEqual([check('i-0000000000000000b')]);
    sqs.restore();
  });
});
