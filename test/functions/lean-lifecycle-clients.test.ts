import { createHash } from 'node:crypto';
import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { SQSClient } from '@aws-sdk/client-sqs';
import { ECSClient } from '@aws-sdk/client-ecs';
import { AutoScalingApi, AutoScalingLifecycleActions } from '../../functions/lifecycle/aws/autoscaling';
import { autoScalingQuery } from '../../functions/lifecycle/aws/autoscaling-query';
import { SqsSendMessageApi } from '../../functions/lifecycle/aws/sqs';
import { sqsSendMessage } from '../../functions/lifecycle/aws/sqs-send-message';
import { fixedCredentials, postSignature, readBody } from '../support/sigv4-endpoint';
import { sdkAutoScaling, sdkSqs } from '../support/sdk-lifecycle';
import { sdkEcs } from '../support/sdk-ecs';
import { EcsApi, EcsContainerInstances, EcsTasks } from '../../functions/lifecycle/aws/ecs';
import { ecsJson } from '../../functions/lifecycle/aws/ecs-json';
import { DescribeInstancesApi } from '../../functions/lifecycle/aws/ec2';

const region = 'us-east-1';

/**
 * Auto Scaling and SQS are the external boundary: this stand-in recomputes each request's SigV4
 * signature for the service the test names, records what it was sent (the form fields of a
 * Query request, or the JSON body and target of a JSON one), and answers with the queued answer.
 */
let server: Server;
let endpoint: string;
let service = 'autoscaling';
let answers: { status: number; body: string; type: string }[] = [];
const seen: { body: Record<string, unknown>; target?: string; verified: boolean }[] = [];
beforeAll(async () => {
  server = createServer((req, res) => {
    void readBody(req).then(async (body) => {
      const { valid } = await postSignature(req, body, service, region);
      const json = String(req.headers['content-type']).startsWith('application/x-amz-json');
      seen.push({
        body: json ? (JSON.parse(body) as Record<string, unknown>) : Object.fromEntries(new URLSearchParams(body)),
        ...(req.headers['x-amz-target'] ? { target: String(req.headers['x-amz-target']) } : {}),
        verified: valid,
      });
      const answer = answers.shift() ?? { status: 500, body: 'no answer queued', type: 'text/plain' };
      res.writeHead(answer.status, { 'content-type': answer.type });
      res.end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  answers = [];
  seen.length = 0;
});

const xml = (status: number, body: string) => ({ status, body: `<?xml version="1.0"?>\n${body}`, type: 'text/xml' });
const autoScalingError = (code: string, message: string) =>
  xml(400, `<ErrorResponse xmlns="http://autoscaling.amazonaws.com/doc/2011-01-01/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>7d2f2a9e-example</RequestId></ErrorResponse>`);
const describeXml = (members: [string, string][], nextToken?: string) =>
  xml(
    200,
    `<DescribeAutoScalingInstancesResponse xmlns="http://autoscaling.amazonaws.com/doc/2011-01-01/">
  <DescribeAutoScalingInstancesResult>
    <AutoScalingInstances>${members
      .map(
        ([id, state]) => `
      <member>
        <ProtectedFromScaleIn>false</ProtectedFromScaleIn>
        <AvailabilityZone>us-east-1b</AvailabilityZone>
        <LaunchTemplate><LaunchTemplateName>mesh-nodes</LaunchTemplateName><Version>3</Version><LaunchTemplateId>lt-0123456789abcdef0</LaunchTemplateId></LaunchTemplate>
        <InstanceId>${id}</InstanceId>
        <InstanceType>m7g.large</InstanceType>
        <AutoScalingGroupName>orders-asg</AutoScalingGroupName>
        <HealthStatus>HEALTHY</HealthStatus>
        <LifecycleState>${state}</LifecycleState>
      </member>`,
      )
      .join('')}
    </AutoScalingInstances>${nextToken ? `\n    <NextToken>${nextToken}</NextToken>` : ''}
  </DescribeAutoScalingInstancesResult>
  <ResponseMetadata><RequestId>5c2e7e5a-example</RequestId></ResponseMetadata>
</DescribeAutoScalingInstancesResponse>`,
  );
const completedXml = xml(
  200,
  `<CompleteLifecycleActionResponse xmlns="http://autoscaling.amazonaws.com/doc/2011-01-01/"><CompleteLifecycleActionResult/><ResponseMetadata><RequestId>1f1c8a3b-example</RequestId></ResponseMetadata></CompleteLifecycleActionResponse>`,
);

const leanAutoScaling = (): AutoScalingApi => autoScalingQuery({ region, endpoint, credentials: fixedCredentials, maxAttempts: 1 });
const sdkAs = (): AutoScalingApi => sdkAutoScaling(new AutoScalingClient({ region, endpoint, credentials: fixedCredentials, maxAttempts: 1 }));

/** both runs the same call on the lean client and the SDK's, each served the same answer; returns what each returned or threw and what each sent. */
async function both<T>(answer: { status: number; body: string; type: string }, call: (api: 'lean' | 'sdk') => Promise<T>) {
  const outcome = (p: Promise<T>) => p.then((value) => ({ value }), (err: Error) => ({ error: { name: err.name, message: err.message } }));
  answers = [answer];
  const ours = await outcome(call('lean'));
  answers = [answer];
  const theirs = await outcome(call('sdk'));
  return { ours, theirs, sent: seen.map((s) => s.body), verified: seen.map((s) => s.verified) };
}

describe('autoScalingQuery, the signed Auto Scaling requests in the lifecycle bundles', () => {
  beforeAll(() => void (service = 'autoscaling'));

  it('completes a lifecycle action with the request the SDK client sends', async () => {
    const input = { AutoScalingGroupName: 'orders-asg', LifecycleHookName: 'mesh-drain', LifecycleActionToken: 'bcd2f1b8-9a78-44d3-8a7a-4dd07d7cf635', LifecycleActionResult: 'CONTINUE' };
    const { ours, theirs, sent, verified } = await both(completedXml, (api) => (api === 'lean' ? leanAutoScaling() : sdkAs()).completeLifecycleAction(input));
    expect(verified).toEqual([true, true]);
    expect(sent[0]).toEqual(sent[1]);
    expect(sent[0]).toMatchObject({ Action: 'CompleteLifecycleAction', Version: '2011-01-01', LifecycleActionResult: 'CONTINUE' });
    expect('error' in ours || 'error' in theirs).toBe(false);
  });

  it('reads an expired token as the SDK client does: a ValidationError the lifecycle port calls expired', async () => {
    const hook = { autoScalingGroupName: 'orders-asg', lifecycleHookName: 'mesh-drain', lifecycleActionToken: 'gone', instanceId: 'i-01' };
    const expired = autoScalingError('ValidationError', 'No active Lifecycle Action found with token gone');
    const { ours, theirs } = await both(expired, (api) => new AutoScalingLifecycleActions(api === 'lean' ? leanAutoScaling() : sdkAs()).complete(hook, 'CONTINUE'));
    expect(ours).toEqual({ value: 'expired' });
    expect(ours).toEqual(theirs);
  });

  it('fails as the SDK client fails on another error, named by its code', async () => {
    const denied = autoScalingError('AccessDenied', 'User is not authorized to perform: autoscaling:CompleteLifecycleAction');
    const hook = { autoScalingGroupName: 'orders-asg', lifecycleHookName: 'mesh-drain', lifecycleActionToken: 't', instanceId: 'i-01' };
    const { ours, theirs } = await both(denied, (api) => new AutoScalingLifecycleActions(api === 'lean' ? leanAutoScaling() : sdkAs()).complete(hook, 'ABANDON'));
    expect(ours).toEqual({ error: { name: 'AccessDenied', message: 'User is not authorized to perform: autoscaling:CompleteLifecycleAction' } });
    expect(ours).toEqual(theirs);
  });

  it('reads members lifecycle states and the next page token as the SDK client does, from the same request', async () => {
    const input = { InstanceIds: ['i-01', 'i-02', 'i-03'], MaxRecords: 50, NextToken: 'page-2' };
    const page = describeXml([['i-01', 'InService'], ['i-02', 'Terminating:Wait'], ['i-03', 'Pending:Wait']], 'page-3');
    const { ours, theirs, sent, verified } = await both(page, async (api) => {
      const out = await (api === 'lean' ? leanAutoScaling() : sdkAs()).describeAutoScalingInstances(input);
      return { states: (out.AutoScalingInstances ?? []).map((a) => [a.InstanceId, a.LifecycleState]), next: out.NextToken };
    });
    expect(verified).toEqual([true, true]);
    expect(sent[0]).toEqual(sent[1]);
    expect(ours).toEqual({ value: { states: [['i-01', 'InService'], ['i-02', 'Terminating:Wait'], ['i-03', 'Pending:Wait']], next: 'page-3' } });
    expect(ours).toEqual(theirs);
  });

  it('reads an empty answer as the SDK client does', async () => {
    const { ours, theirs } = await both(describeXml([]), async (api) => {
      const out = await (api === 'lean' ? leanAutoScaling() : sdkAs()).describeAutoScalingInstances({ InstanceIds: ['i-09'] });
      return { states: (out.AutoScalingInstances ?? []).length, next: out.NextToken };
    });
    expect(ours).toEqual({ value: { states: 0, next: undefined } });
    expect(ours).toEqual(theirs);
  });
});

describe('sqsSendMessage, the signed SQS request in the lifecycle bundles', () => {
  beforeAll(() => void (service = 'sqs'));
  const queueUrl = 'https://sqs.us-east-1.amazonaws.com/111122223333/mesh-drain';
  const leanSqs = (): SqsSendMessageApi => sqsSendMessage({ region, endpoint, credentials: fixedCredentials, maxAttempts: 1 });
  const theSdk = (): SqsSendMessageApi => sdkSqs(new SQSClient({ region, endpoint, credentials: fixedCredentials, maxAttempts: 1, useQueueUrlAsEndpoint: false }));
  const json = (status: number, body: unknown) => ({ status, body: JSON.stringify(body), type: 'application/x-amz-json-1.0' });

  it('sends a delayed message with the body and target the SDK client sends', async () => {
    const input = { QueueUrl: queueUrl, MessageBody: JSON.stringify({ kind: 'drain', instanceId: 'i-01', note: 'ünïcode & <xml>' }), DelaySeconds: 45 };
    const md5 = createHash('md5').update(input.MessageBody).digest('hex'); // the SDK client checks it
    const answer = json(200, { MD5OfMessageBody: md5, MessageId: 'd6790f8d-d575-4f01-bc51-40122EXAMPLE' });
    const { ours, theirs, sent, verified } = await both(answer, (api) => (api === 'lean' ? leanSqs() : theSdk()).sendMessage(input).then(() => 'sent'));
    expect(verified).toEqual([true, true]);
    expect(sent[0]).toEqual(input);
    expect(sent[0]).toEqual(sent[1]);
    expect(seen.map((s) => s.target)).toEqual(['AmazonSQS.SendMessage', 'AmazonSQS.SendMessage']);
    expect(ours).toEqual({ value: 'sent' });
    expect(ours).toEqual(theirs);
  });

  it('fails with SQS error type as its name, as the SDK client does', async () => {
    const missing = json(400, { __type: 'com.amazonaws.sqs#QueueDoesNotExist', message: 'The specified queue does not exist.' });
    const { ours, theirs } = await both(missing, (api) => (api === 'lean' ? leanSqs() : theSdk()).sendMessage({ QueueUrl: queueUrl, MessageBody: '{}' }));
    expect(ours).toEqual({ error: { name: 'QueueDoesNotExist', message: 'The specified queue does not exist.' } });
    expect(ours).toEqual(theirs);
  });
});

describe('ecsJson, the signed ECS requests in the lifecycle and reconciler bundles', () => {
  beforeAll(() => void (service = 'ecs'));
  const cluster = 'arn:aws:ecs:us-east-1:111122223333:cluster/mesh';
  const leanEcs = (): EcsApi => ecsJson({ region, endpoint, credentials: fixedCredentials, maxAttempts: 1 });
  const theSdk = (): EcsApi => sdkEcs(new ECSClient({ region, endpoint, credentials: fixedCredentials, maxAttempts: 1 }));
  const json = (body: unknown, status = 200) => ({ status, body: JSON.stringify(body), type: 'application/x-amz-json-1.1' });
  const taskArn = (id: string) => `arn:aws:ecs:us-east-1:111122223333:task/mesh/${id}`;
  /** A task as ECS's JSON 1.1 answer carries it: timestamps in epoch seconds, with fractions. */
  const task = (id: string, lastStatus = 'RUNNING') => ({
    taskArn: taskArn(id),
    clusterArn: cluster,
    taskDefinitionArn: 'arn:aws:ecs:us-east-1:111122223333:task-definition/orders:7',
    group: 'service:orders',
    lastStatus,
    desiredStatus: 'RUNNING',
    launchType: 'FARGATE',
    platformVersion: '1.4.0',
    availabilityZone: 'us-east-1b',
    cpu: '256',
    memory: '512',
    version: 4,
    connectivity: 'CONNECTED',
    connectivityAt: 1795600000.123,
    createdAt: 1795599990.5,
    pullStartedAt: 1795599995.017,
    pullStoppedAt: 1795599999.999,
    startedAt: 1795600003.25,
    startedBy: 'ecs-svc/1234567890123456789',
    healthStatus: 'HEALTHY',
    tags: [{ key: 'mesh:service', value: 'orders' }],
    attachments: [{ id: 'a1', type: 'ElasticNetworkInterface', status: 'ATTACHED', details: [{ name: 'privateIPv4Address', value: '10.0.2.31' }] }],
    containers: [
      {
        containerArn: 'arn:aws:ecs:us-east-1:111122223333:container/mesh/c1',
        taskArn: taskArn(id),
        name: 'envoy',
        image: 'public.ecr.aws/envoyproxy/envoy:v1.36.0',
        lastStatus,
        healthStatus: 'HEALTHY',
        networkInterfaces: [{ attachmentId: 'a1', privateIpv4Address: '10.0.2.31' }],
        managedAgents: [{ name: 'ExecuteCommandAgent', lastStatus: 'RUNNING', lastStartedAt: 1795600004.75 }],
      },
    ],
  });

  it('lists a cluster over pages into the same tasks as the SDK client, dates as ISO strings', async () => {
    const read = async (api: EcsApi) => {
      answers = [
        json({ taskArns: [taskArn('t1'), taskArn('t2')], nextToken: 'page-2' }),
        json({ taskArns: [taskArn('t3')] }),
        json({ tasks: [task('t1'), task('t2'), task('t3', 'PENDING')], failures: [] }),
      ];
      return new EcsTasks(api).listClusterTasks(cluster);
    };
    const ours = await read(leanEcs());
    const sentByOurs = seen.splice(0).map((s) => [s.target, s.body]);
    const theirs = await read(theSdk());
    const sentByTheirs = seen.splice(0).map((s) => [s.target, s.body]);
    expect(ours.tasks.map((t) => [t.taskArn, t.startedAt])).toEqual([
      [taskArn('t1'), '2026-11-25T09:46:43.250Z'],
      [taskArn('t2'), '2026-11-25T09:46:43.250Z'],
      [taskArn('t3'), '2026-11-25T09:46:43.250Z'],
    ]);
    expect(ours).toEqual(theirs);
    expect(sentByOurs).toEqual(sentByTheirs);
  });

  it('reads failures and stopped tasks as the SDK client does', async () => {
    const answer = json({ tasks: [task('t1', 'STOPPED')], failures: [{ arn: taskArn('t9'), reason: 'MISSING' }] });
    const { ours, theirs } = await both(answer, (api) => new EcsTasks(api === 'lean' ? leanEcs() : theSdk()).confirmGone(cluster, [taskArn('t1'), taskArn('t9')]).then((g) => [...g]));
    expect(ours).toEqual({ value: [taskArn('t1'), taskArn('t9')] });
    expect(ours).toEqual(theirs);
  });

  it('resolves a container instance as the SDK client does', async () => {
    const ec2: DescribeInstancesApi = { describeInstances: async () => ({ Reservations: [{ Instances: [{ InstanceId: 'i-0abc', PrivateIpAddress: '10.0.3.7' }] }] }) };
    const containerInstanceArn = 'arn:aws:ecs:us-east-1:111122223333:container-instance/mesh/ci1';
    const answer = json({ containerInstances: [{ containerInstanceArn, ec2InstanceId: 'i-0abc', status: 'ACTIVE', agentConnected: true, registeredAt: 1795500000 }], failures: [] });
    const { ours, theirs, sent } = await both(answer, (api) => new EcsContainerInstances(api === 'lean' ? leanEcs() : theSdk(), ec2).privateIpOf(cluster, containerInstanceArn));
    expect(ours).toEqual({ value: '10.0.3.7' });
    expect(ours).toEqual(theirs);
    expect(sent[0]).toEqual(sent[1]);
  });

  it('fails as the SDK client fails, named by ECS error type', async () => {
    const missing = json({ __type: 'ClusterNotFoundException', message: 'Cluster not found.' }, 400);
    const { ours, theirs } = await both(missing, (api) => (api === 'lean' ? leanEcs() : theSdk()).listTasks({ cluster, desiredStatus: 'RUNNING', maxResults: 100 }));
    expect(ours).toEqual({ error: { name: 'ClusterNotFoundException', message: 'Cluster not found.' } });
    expect(ours).toEqual(theirs);
  });
});
