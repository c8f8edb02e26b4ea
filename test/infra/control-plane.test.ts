import { Duration, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { ControlPlane, ControlPlaneProps, lifecycleHookNames } from '../../infra/control-plane';
import { newUnbundledStack } from './support/synth';

function synth(props?: ControlPlaneProps, extend?: (stack: Stack, cp: ControlPlane) => void) {
  const stack = newUnbundledStack();
  const controlPlane = new ControlPlane(stack, 'ControlPlane', props);
  extend?.(stack, controlPlane);
  return { stack, controlPlane, template: Template.fromStack(stack) };
}

function group(stack: Stack, id = 'Group'): autoscaling.AutoScalingGroup {
  const vpc = ec2.Vpc.fromVpcAttributes(stack, `${id}Vpc`, { vpcId: 'vpc-1', availabilityZones: ['a'], privateSubnetIds: ['subnet-1'] });
  const launchTemplate = new ec2.LaunchTemplate(stack, `${id}Template`, {
    instanceType: new ec2.InstanceType('t4g.small'),
    machineImage: ec2.MachineImage.latestAmazonLinux2023({ cpuType: ec2.AmazonLinuxCpuType.ARM_64 }),
  });
  return new autoscaling.AutoScalingGroup(stack, id, { vpc, launchTemplate });
}

describe('ControlPlane defaults', () => {
  const { template } = synth();

  it('keep the mesh keys with the table: retained on stack deletion', () => {
    const keys = Object.values(template.findResources('AWS::KMS::Key'));
    expect(keys).toHaveLength(2);
    for (const key of keys) expect(key.DeletionPolicy).toBe('Retain');
  });

  it('keep the table: retained on stack deletion, deletion-protected, point-in-time recoverable', () => {
    const table = Object.values(template.findResources('AWS::DynamoDB::Table'))[0]!;
    expect(table.DeletionPolicy).toBe('Retain');
    expect(table.UpdateReplacePolicy).toBe('Retain');
    expect(table.Properties).toMatchObject({
      DeletionProtectionEnabled: true,
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      BillingMode: 'PAY_PER_REQUEST',
    });
  });

  it('give the functions no AWS managed policy: each role writes only its own log group', () => {
    for (const role of Object.values(template.findResources('AWS::IAM::Role'))) {
      if (role.Properties.AssumeRolePolicyDocument.Statement[0].Principal.Service !== 'lambda.amazonaws.com') continue;
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    }
    const logWrites = Object.values(template.findResources('AWS::IAM::Policy'))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[])
      .filter((s) => [s.Action].flat().includes('logs:PutLogEvents'));
    expect(logWrites).toHaveLength(9);
    for (const s of logWrites) expect(s.Resource).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/Logs[0-9A-F]{8}$/), 'Arn'] });
  });

  it('listen to task events of every cluster when no cluster is given, and do not condition ECS reads on one', () => {
    const rule = Object.values(template.findResources('AWS::Events::Rule')).find((r) => r.Properties.EventPattern?.source?.[0] === 'aws.ecs')!;
    expect(rule.Properties.EventPattern.detail).toEqual({
      group: [{ prefix: 'service:' }],
      lastStatus: ['RUNNING', 'DEACTIVATING', 'STOPPING', 'DEPROVISIONING', 'STOPPED'],
    });
    const ecsStatements = Object.values(template.findResources('AWS::IAM::Policy'))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as { Action: string; Condition?: unknown }[])
      .filter((s) => String(s.Action).startsWith('ecs:'));
    expect(ecsStatements.length).toBeGreaterThan(0);
    for (const s of ecsStatements) expect(s.Condition).toBeUndefined();
  });

  it('match only the mesh hooks while no group is attached, and grant no CompleteLifecycleAction', () => {
    const rule = Object.values(template.findResources('AWS::Events::Rule')).find(
      (r) => r.Properties.EventPattern?.source?.[0] === 'aws.autoscaling',
    )!;
    expect(rule.Properties.EventPattern.detail).toEqual({ LifecycleHookName: [lifecycleHookNames.launch, lifecycleHookNames.terminate] });
    expect(JSON.stringify(template.findResources('AWS::IAM::Policy'))).not.toContain('CompleteLifecycleAction');
  });
});

describe('ControlPlane props', () => {
  it('turn off deletion protection and the lifecycle reservation, and rename the xDS cluster everywhere', () => {
    const { template, controlPlane, stack } = synth({ deletionProtection: false, lifecycleConcurrency: null, xdsClusterName: 'mesh_xds' });
    template.hasResourceProperties('AWS::DynamoDB::Table', { DeletionProtectionEnabled: false });
    const fns = template.toJSON().Resources;
    const lifecycle = fns[stack.getLogicalId(controlPlane.lifecycleFunction.node.defaultChild as never)].Properties;
    expect(lifecycle.ReservedConcurrentExecutions).toBeUndefined();
    for (const fn of Object.values(template.findResources('AWS::Lambda::Function'))) {
      expect(fn.Properties.Environment.Variables.XDS_CLUSTER_NAME).toBe('mesh_xds');
    }
    expect(controlPlane.renderSettings.xdsClusterName).toBe('mesh_xds');
  });

  it('leave out the mesh keys when mutual TLS is not wanted', () => {
    const { template } = synth({ meshKeys: false });
    expect(template.findResources('AWS::KMS::Key')).toEqual({});
    // Nothing to renew: no renewal function, rule or alarm.
    expect(Object.values(template.findResources('AWS::Events::Rule')).map((r) => r.Properties.Description)).not.toContain('Renews service certificates');
    expect(Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((a) => a.Properties.MetricName)).not.toContain('RenewalRuns');
    for (const fn of Object.values(template.findResources('AWS::Lambda::Function'))) {
      expect(fn.Properties.Environment.Variables.DATA_KEY_ID).toBeUndefined();
      expect(fn.Properties.Environment.Variables.CA_KEY_ID).toBeUndefined();
    }
  });

  it('run the reconciler on the given schedule', () => {
    const { template } = synth({ reconcileSchedule: events.Schedule.rate(Duration.minutes(7)) });
    template.hasResourceProperties('AWS::Events::Rule', { Description: 'Runs the reconciler', ScheduleExpression: 'rate(7 minutes)' });
  });

  it('renew certificates at the given interval, alarming after three intervals without a completed run', () => {
    const { template } = synth({ renewalInterval: Duration.minutes(30) });
    template.hasResourceProperties('AWS::Events::Rule', { Description: 'Renews service certificates', ScheduleExpression: 'rate(30 minutes)' });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'RenewalRuns', Period: 5400, TreatMissingData: 'breaching' });
  });
});

describe('attachAutoScalingGroup', () => {
  it('waits out the longest drain when the service says none', () => {
    const { template } = synth({}, (stack, cp) => cp.attachAutoScalingGroup(group(stack), { service: 'payments' }));
    template.hasResourceProperties('AWS::AutoScaling::LifecycleHook', {
      LifecycleHookName: lifecycleHookNames.terminate,
      HeartbeatTimeout: 900 + 120,
      DefaultResult: 'CONTINUE',
    });
  });

  it.each([
    ['by default, a minute before the heartbeat ends', {}, JSON.stringify({ service: 'payments', readyTimeoutSeconds: 240 })],
    ['as given', { readyTimeout: Duration.minutes(2) }, JSON.stringify({ service: 'payments', readyTimeoutSeconds: 120 })],
    ['not at all when turned off', { readyTimeout: null }, JSON.stringify({ service: 'payments' })],
  ])('keeps launching instances out of service until their Envoy has config: %s', (_case, options, metadata) => {
    const { template } = synth({}, (stack, cp) => cp.attachAutoScalingGroup(group(stack), { service: 'payments', ...options }));
    template.hasResourceProperties('AWS::AutoScaling::LifecycleHook', {
      LifecycleHookName: lifecycleHookNames.launch,
      HeartbeatTimeout: 300,
      NotificationMetadata: metadata,
    });
  });

  it('refuses a ready timeout that outlasts the launch heartbeat', () => {
    expect(() =>
      synth({}, (stack, cp) => cp.attachAutoScalingGroup(group(stack), { service: 'payments', readyTimeout: Duration.minutes(5) })),
    ).toThrow('attachAutoScalingGroup: readyTimeout (300 s) must be above 0 and shorter than launchHeartbeat (300 s) for "payments"');
  });

  it('refuses a terminate heartbeat that ends before the drain does', () => {
    expect(() =>
      synth({}, (stack, cp) =>
        cp.attachAutoScalingGroup(group(stack), {
          service: { serviceName: 'payments', drainSeconds: 300 },
          terminateHeartbeat: Duration.seconds(300),
        }),
      ),
    ).toThrow('attachAutoScalingGroup: terminateHeartbeat (300 s) must exceed the drain period of "payments" (300 s)');
  });

  it('narrows the rule to every attached group and scopes CompleteLifecycleAction to exactly them', () => {
    let groups: autoscaling.AutoScalingGroup[] = [];
    const { template, stack } = synth({}, (s, cp) => {
      groups = [group(s, 'A'), group(s, 'B')];
      groups.forEach((g, i) => cp.attachAutoScalingGroup(g, { service: `svc-${i}` }));
    });
    const rule = Object.values(template.findResources('AWS::Events::Rule')).find(
      (r) => r.Properties.EventPattern?.source?.[0] === 'aws.autoscaling',
    )!;
    expect(rule.Properties.EventPattern.detail.AutoScalingGroupName).toEqual(groups.map((g) => stack.resolve(g.autoScalingGroupName)));
    const statements = Object.values(template.findResources('AWS::IAM::Policy'))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as { Action: string; Resource: unknown }[])
      .filter((s) => s.Action === 'autoscaling:CompleteLifecycleAction');
    expect(statements).toHaveLength(2);
    for (const s of statements) expect(s.Resource).toEqual(groups.map((g) => stack.resolve(g.autoScalingGroupArn)));
    template.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', {
      Tags: [{ Key: 'mesh:service', Value: 'svc-0', PropagateAtLaunch: true }],
    });
  });
});

describe('ControlPlane props', () => {
  it.each<[string, ControlPlaneProps, string]>([
    ['a negative cache TTL', { snapshotCacheTtlMs: -1 }, 'snapshotCacheTtlMs must be a whole number of ms'],
    ['a fractional cache TTL', { snapshotCacheTtlMs: 1.5 }, 'snapshotCacheTtlMs must be a whole number of ms'],
    ['a lifecycle concurrency of 0', { lifecycleConcurrency: 0 }, 'lifecycleConcurrency must be a whole number of 1 or more, or null'],
    ['a refresh delay Envoy cannot read', { refreshDelay: '5 seconds' }, "refreshDelay must be a duration in seconds as Envoy writes it"],
    ['a request timeout in minutes', { requestTimeout: '1m' }, 'requestTimeout must be a duration in seconds'],
    ['a route delivery that is not rds or inline', { routeDelivery: 'lds' as never }, "routeDelivery must be rds or inline (got 'lds')"],
    ['an xDS cluster name with a space', { xdsClusterName: 'xds cluster' }, 'xdsClusterName must be 1 to 128'],
    ['an AWS-reserved tag key', { meshTagKey: 'aws:service' }, "meshTagKey must be an EC2 tag key"],
    ['a mesh name that is no trust domain', { meshName: 'Mesh Local' }, 'meshName must be a SPIFFE trust domain'],
    ['a renewal interval longer than 6 hours', { renewalInterval: Duration.hours(7) }, 'renewalInterval must be whole minutes from 1 minute to 6 hours'],
    ['a renewal interval under a minute', { renewalInterval: Duration.seconds(30) }, 'renewalInterval must be whole minutes'],
    ['a cluster ARN of another kind', { ecsClusterArns: ['arn:aws:ecs:us-east-1:111122223333:service/prod/orders'] }, 'ecsClusterArns [0] must be an ECS cluster ARN'],
    ['an egress policy App Mesh spelled', { egress: 'DROP_ALL' as ControlPlaneProps['egress'] }, "egress must be 'allow-declared' or 'allow-all' (got 'DROP_ALL')"],
    ['a relative CA bundle path', { systemCaBundlePath: 'certs/ca.pem' }, 'systemCaBundlePath must be an absolute file path in the Envoy image'],
  ])('refuses %s, naming the prop', (_what, props, message) => {
    expect(() => synth(props)).toThrow(message);
  });

  it('hands the egress policy and the CA bundle path to the functions, and leaves them out unless set', () => {
    const withEdges = synth({ egress: 'allow-all', systemCaBundlePath: '/etc/pki/tls/certs/ca-bundle.crt' }).template;
    withEdges.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ MESH_EGRESS: 'allow-all', SYSTEM_CA_BUNDLE_PATH: '/etc/pki/tls/certs/ca-bundle.crt' }) },
    });
    synth({}).template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ MESH_NAME: Match.anyValue(), MESH_EGRESS: Match.absent() }) },
    });
  });

  it('hands proxyless mTLS to the functions, and leaves it out unless set', () => {
    synth({ proxylessMtls: true }).template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ MESH_PROXYLESS_MTLS: 'true' }) },
    });
    synth({}).template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ MESH_NAME: Match.anyValue(), MESH_PROXYLESS_MTLS: Match.absent() }) },
    });
  });

  it('reports every wrong prop at once', () => {
    expect(() => synth({ snapshotCacheTtlMs: -1, refreshDelay: 'soon' })).toThrow(/^ControlPlane: snapshotCacheTtlMs .*; refreshDelay /);
  });

  it.each<[string, ControlPlaneProps, number | undefined]>([
    ['reserves 10 lifecycle executions when the prop is left out', {}, 10],
    ['reserves the given number', { lifecycleConcurrency: 3 }, 3],
    ['leaves the lifecycle function unreserved with null', { lifecycleConcurrency: null }, undefined],
  ])('%s', (_what, props, reserved) => {
    const { stack, controlPlane, template } = synth(props);
    const fn = template.toJSON().Resources[stack.getLogicalId(controlPlane.lifecycleFunction.node.defaultChild as never)];
    expect(fn.Properties.ReservedConcurrentExecutions).toBe(reserved);
  });
});
