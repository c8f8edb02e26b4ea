// Over 350 lines on purpose: one synthesis of the example app (slow), asserted from every side.
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ExampleMeshStack } from '../../infra/example-stack';
import { autoScalingLifecycleDetailTypes, ec2InstanceStates, ecsTaskStatuses } from '../../infra/event-patterns';
import { lifecycleHookNames } from '../../infra/control-plane';
import { placeholders } from '../../infra/sidecar/placeholders';
import { envoyEntrypoint, envoyHealthCheck } from '../../infra/sidecar/scripts';
import { metricsNamespace } from '../../functions/lib/telemetry';
import { nodeStatusPartitionPrefix, tableDefinition } from '../../shared/store/layout';
import { findCycle } from './support/template-graph';
import { keyAdministrationActions } from '../../infra/state-store';
import { resourcesOf, synthExample } from './support/synth';
import { deployedSpecs, meshNodes, renderJoin, sessionArnOf } from './support/deploy-time';
import { authorizeNode } from '../../shared/xds/authorization';

/**
 * The example app, synthesized once for every assertion here, as `cdk synth` does: all six
 * functions bundled by the local esbuild (about 15 s on two cores; the other infra tests skip
 * bundling).
 */
let stack: ExampleMeshStack;
let template: Template;
beforeAll(() => {
  ({ stack, template } = synthExample());
}, 120_000);

const logicalId = (construct: { node: { defaultChild?: unknown } }) => stack.getLogicalId(construct.node.defaultChild as never);
const arnOf = (construct: { node: { defaultChild?: unknown } }) => ({ 'Fn::GetAtt': [logicalId(construct), 'Arn'] });
const resolve = (value: unknown) => Stack.of(stack).resolve(value);

describe('the state table', () => {
  it('is on-demand, point-in-time recoverable, expires tombstones by expiresAt, and is keyed as the code expects', () => {
    const tables = Object.values(resourcesOf(template, 'AWS::DynamoDB::Table'));
    expect(tables).toHaveLength(1);
    expect(tables[0]!.Properties).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      TimeToLiveSpecification: { AttributeName: tableDefinition.ttlAttribute, Enabled: true },
      KeySchema: [
        { AttributeName: tableDefinition.partitionKey, KeyType: 'HASH' },
        { AttributeName: tableDefinition.sortKey, KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [
        { AttributeName: tableDefinition.partitionKey, AttributeType: 'S' },
        { AttributeName: tableDefinition.sortKey, AttributeType: 'S' },
      ],
    });
  });

  it('follows the example props: deletable, no deletion protection', () => {
    const table = Object.values(template.findResources('AWS::DynamoDB::Table'))[0]!;
    expect(table.Properties.DeletionProtectionEnabled).toBe(false);
    expect(table.DeletionPolicy).toBe('Delete');
  });
});

describe('the lifecycle rules', () => {
  const ruleNamed = (description: string) => {
    const rules = Object.values(resourcesOf(template, 'AWS::Events::Rule')).filter((r) => r.Properties?.Description === description);
    expect(rules).toHaveLength(1);
    return rules[0]!.Properties!;
  };

  it('deliver ECS task state changes of service tasks, in the mesh clusters, in the states that move endpoints', () => {
    expect(ruleNamed('ECS task state changes of service tasks → lifecycle').EventPattern).toEqual({
      source: ['aws.ecs'],
      'detail-type': ['ECS Task State Change'],
      detail: {
        group: [{ prefix: 'service:' }],
        lastStatus: [...ecsTaskStatuses],
        clusterArn: [resolve(stack.cluster.clusterArn)],
      },
    });
  });

  it('deliver EC2 state changes to running and towards stopped or terminated', () => {
    expect(ruleNamed('EC2 instance state changes → lifecycle').EventPattern).toEqual({
      source: ['aws.ec2'],
      'detail-type': ['EC2 Instance State-change Notification'],
      detail: { state: ['running', 'stopping', 'stopped', 'shutting-down', 'terminated'] },
    });
    expect(ec2InstanceStates).not.toContain('pending');
  });

  it('deliver only the mesh hooks’ lifecycle actions of the attached groups', () => {
    expect(ruleNamed('Auto Scaling lifecycle actions of the mesh hooks → lifecycle').EventPattern).toEqual({
      source: ['aws.autoscaling'],
      'detail-type': [...autoScalingLifecycleDetailTypes],
      detail: {
        LifecycleHookName: [lifecycleHookNames.launch, lifecycleHookNames.terminate],
        AutoScalingGroupName: [resolve(stack.paymentsGroup.autoScalingGroupName)],
      },
    });
  });

  it('run the reconciler every five minutes', () => {
    expect(ruleNamed('Runs the reconciler').ScheduleExpression).toBe('rate(5 minutes)');
  });

  it('renew certificates every ten minutes, on a rule and a function of their own', () => {
    const rule = ruleNamed('Renews service certificates');
    expect(rule.ScheduleExpression).toBe('rate(10 minutes)');
    expect(rule.Targets).toEqual([expect.objectContaining({ Arn: arnOf(stack.controlPlane.renewalFunction!) })]);
    expect(ruleNamed('Runs the reconciler').Targets).toEqual([expect.objectContaining({ Arn: arnOf(stack.controlPlane.reconcilerFunction) })]);
  });

  it('run the rollout controller every minute, one run at a time, reading the table and the data plane metrics, with no key', () => {
    const cp = stack.controlPlane;
    const rule = ruleNamed('Runs the rollout controller');
    expect(rule.ScheduleExpression).toBe('rate(1 minute)');
    expect(rule.Targets).toEqual([expect.objectContaining({ Arn: arnOf(cp.rolloutFunction) })]);
    const fn = template.toJSON().Resources[logicalId(cp.rolloutFunction)].Properties;
    expect(fn).toMatchObject({ ReservedConcurrentExecutions: 1, Runtime: 'nodejs22.x', Architectures: ['arm64'] });
    expect(fn.Environment.Variables.CA_KEY_ID).toBeUndefined();
    expect(fn.Environment.Variables.DATA_KEY_ID).toBeUndefined();
    const policy = Object.values(resourcesOf(template, 'AWS::IAM::Policy')).find(
      (p) => JSON.stringify(p.Properties!.Roles) === JSON.stringify([{ Ref: logicalId(cp.rolloutFunction.role!) }]),
    )!;
    const statements = (policy.Properties!.PolicyDocument as { Statement: { Action: string | string[]; Resource: unknown }[] }).Statement.map((st) => ({
      actions: [st.Action].flat().sort(),
      resources: [st.Resource].flat(),
    }));
    expect(statements).toEqual(
      expect.arrayContaining([
        { actions: ['dynamodb:BatchGetItem', 'dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'], resources: [arnOf(cp.table)] },
        { actions: ['cloudwatch:GetMetricData'], resources: ['*'] },
      ]),
    );
    const actions = statements.flatMap((st) => st.actions);
    expect(actions.filter((a) => !/^(dynamodb|cloudwatch|xray|logs):/.test(a))).toEqual([]);
    expect(actions).not.toContain('dynamodb:Scan');
  });

  it('retry delivery and dead-letter what EventBridge cannot deliver', () => {
    const rules = Object.values(resourcesOf(template, 'AWS::Events::Rule'));
    expect(rules).toHaveLength(7);
    for (const rule of rules) {
      expect(rule.Properties!.Targets).toEqual([
        expect.objectContaining({
          DeadLetterConfig: { Arn: arnOf(stack.controlPlane.deliveryDlq) },
          RetryPolicy: { MaximumRetryAttempts: 10, MaximumEventAgeInSeconds: 7200 },
        }),
      ]);
    }
  });
});

describe('dead-letter queues', () => {
  it('receive the events the lifecycle function failed on, with their error (async on-failure destination)', () => {
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: logicalId(stack.controlPlane.lifecycleFunction) },
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 21600,
      DestinationConfig: { OnFailure: { Destination: arnOf(stack.controlPlane.lifecycleDlq) } },
    });
  });

  it('catch drain messages the completer failed on five times', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      RedrivePolicy: { deadLetterTargetArn: arnOf(stack.controlPlane.drainDlq), maxReceiveCount: 5 },
    });
  });

  it('keep messages for the longest SQS allows and are encrypted', () => {
    for (const queue of [stack.controlPlane.deliveryDlq, stack.controlPlane.lifecycleDlq, stack.controlPlane.drainDlq]) {
      expect(template.toJSON().Resources[logicalId(queue)].Properties).toMatchObject({
        MessageRetentionPeriod: 1209600,
        SqsManagedSseEnabled: true,
      });
    }
  });
});

describe('IAM', () => {
  /** The actions that support no resource-level permissions (ListTasks: only by condition): named, with resource `*`. */
  const allowedOnAnyResource = [
    'autoscaling:DescribeAutoScalingInstances',
    'cloudwatch:GetMetricData',
    // The sidecars' metrics, held to their namespace by a condition (see the nodes' roles below).
    'cloudwatch:PutMetricData',
    'ec2:DescribeInstances',
    'ecs:ListTasks',
    // X-Ray: the functions' active tracing, and the nodes' daemons (sampling rules too).
    'xray:GetSamplingRules',
    'xray:GetSamplingStatisticSummaries',
    'xray:GetSamplingTargets',
    'xray:PutTelemetryRecords',
    'xray:PutTraceSegments',
  ];
  const statements = () =>
    Object.entries(resourcesOf(template, 'AWS::IAM::Policy')).flatMap(([policy, r]) =>
      (r.Properties!.PolicyDocument as { Statement: { Action: string | string[]; Resource: unknown; Condition?: unknown }[] }).Statement.map((s) => ({
        policy,
        actions: [s.Action].flat(),
        resources: [s.Resource].flat(),
        condition: s.Condition,
      })),
    );

  it('names every action: no wildcard in any statement', () => {
    const wildcards = statements().flatMap((s) => s.actions.filter((a) => a.includes('*')).map((a) => `${s.policy}: ${a}`));
    expect(wildcards).toEqual([]);
  });

  it('grants resource "*" only to the describe and list actions that cannot be scoped', () => {
    const onAnyResource = statements()
      .filter((s) => s.resources.includes('*'))
      .flatMap((s) => s.actions);
    expect([...new Set(onAnyResource)].sort()).toEqual(allowedOnAnyResource);
  });

  it('scopes table access to the state table and CompleteLifecycleAction to the attached group', () => {
    const tableArn = arnOf(stack.controlPlane.table);
    for (const s of statements().filter((s) => s.actions.some((a) => a.startsWith('dynamodb:')))) {
      expect(s.resources).toEqual([tableArn]);
      expect(s.actions).not.toContain('dynamodb:Scan');
    }
    const complete = statements().filter((s) => s.actions.includes('autoscaling:CompleteLifecycleAction'));
    expect(complete.map((s) => s.policy).sort()).toEqual(
      [stack.controlPlane.lifecycleCompleteFunction, stack.controlPlane.lifecycleFunction].map(
        (fn) => stack.getLogicalId(fn.role!.node.findChild('DefaultPolicy').node.defaultChild as never),
      ).sort(),
    );
    for (const s of complete) expect(s.resources).toEqual([resolve(stack.paymentsGroup.autoScalingGroupArn)]);
  });

  it('gives the xds function only reads and node-status writes', () => {
    const xdsPolicy = stack.getLogicalId(stack.controlPlane.xdsFunction.role!.node.findChild('DefaultPolicy').node.defaultChild as never);
    const actions = statements()
      .filter((s) => s.policy === xdsPolicy)
      .flatMap((s) => s.actions)
      .filter((a) => a.startsWith('dynamodb:'));
    expect(actions.sort()).toEqual(['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query']);
    const policy = resourcesOf(template, 'AWS::IAM::Policy')[xdsPolicy]!.Properties!.PolicyDocument as { Statement: Record<string, unknown>[] };
    // The only write, and only to node-status partitions (NODES#<service>: no other kind of item lives there).
    expect(policy.Statement.filter((s) => [s.Action].flat().includes('dynamodb:PutItem'))).toEqual([
      {
        Action: 'dynamodb:PutItem',
        Effect: 'Allow',
        Resource: arnOf(stack.controlPlane.table),
        Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${nodeStatusPartitionPrefix}*`] } },
      },
    ]);
  });

  it('lets the nodes’ roles call the front door only through its URL, and the instances write their Envoy log group', () => {
    for (const role of [stack.ordersService.taskDefinition.taskRole, stack.paymentsTemplate.role!]) {
      const policy = stack.getLogicalId(role.node.findChild('DefaultPolicy').node.defaultChild as never);
      const granted = statements().filter((s) => s.policy === policy && s.actions.some((a) => a.startsWith('lambda:')));
      expect(granted.map((s) => s.actions).flat().sort()).toEqual(['lambda:InvokeFunction', 'lambda:InvokeFunctionUrl']);
      for (const s of granted) expect(s.resources).toEqual([arnOf(stack.controlPlane.xdsFunction)]);
      // The telemetry agents beside Envoy send the example's metrics (to their namespace only) and traces.
      const sendsTelemetry = (s: { actions: string[] }) => s.actions.some((a) => a.startsWith('cloudwatch:') || a.startsWith('xray:'));
      const telemetry = statements().filter((s) => s.policy === policy && sendsTelemetry(s));
      expect(telemetry).toEqual([
        expect.objectContaining({ actions: ['cloudwatch:PutMetricData'], resources: ['*'], condition: { StringEquals: { 'cloudwatch:namespace': 'EnvoyMesh' } } }),
        expect.objectContaining({ actions: expect.arrayContaining(['xray:PutTraceSegments', 'xray:PutTelemetryRecords']), resources: ['*'] }),
      ]);
      const others = statements().filter((s) => s.policy === policy && !s.actions.some((a) => a.startsWith('lambda:')) && !sendsTelemetry(s));
      if (role === stack.paymentsTemplate.role) {
        const logGroup = stack.getLogicalId(stack.paymentsTemplate.node.findChild('EnvoyLogs').node.defaultChild as never);
        expect(others).toEqual([expect.objectContaining({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [{ 'Fn::GetAtt': [logGroup, 'Arn'] }] })]);
      } else {
        expect(others).toEqual([]);
      }
    }
  });
});

describe('the mesh keys', () => {
  const policyOf = (fn: { role?: { node: { findChild(id: string): { node: { defaultChild?: unknown } } } } }) =>
    stack.getLogicalId(fn.role!.node.findChild('DefaultPolicy').node.defaultChild as never);

  it('are a rotating symmetric key for sealing and an ECC P-256 signing key for the CA', () => {
    const resources = template.toJSON().Resources;
    expect(resources[logicalId(stack.controlPlane.dataKey!)].Properties).toMatchObject({ EnableKeyRotation: true });
    expect(resources[logicalId(stack.controlPlane.caKey!)].Properties).toMatchObject({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' });
  });

  it('have key policies that name the roles using them, and let the account administer but never use them', () => {
    const cp = stack.controlPlane;
    const resources = template.toJSON().Resources;
    const roleArn = (fn: typeof cp.xdsFunction) => ({ AWS: arnOf(fn.role!) });
    const statementsOf = (key: typeof cp.dataKey) =>
      (resources[logicalId(key!)].Properties.KeyPolicy.Statement as { Principal: unknown; Action: string | string[] }[]).map((st) => ({
        principal: st.Principal,
        actions: [st.Action].flat().sort(),
      }));
    const root = { AWS: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::', { Ref: 'AWS::AccountId' }, ':root']] } };
    const administer = { principal: root, actions: [...keyAdministrationActions].sort() };
    expect(statementsOf(cp.dataKey)).toEqual([
      administer,
      ...[cp.adminFunction, cp.catalogFunction, cp.renewalFunction!].map((fn) => ({ principal: roleArn(fn), actions: ['kms:Decrypt', 'kms:GenerateDataKey'] })),
      { principal: roleArn(cp.xdsFunction), actions: ['kms:Decrypt'] },
    ]);
    expect(statementsOf(cp.caKey)).toEqual([
      administer,
      ...[cp.adminFunction, cp.catalogFunction, cp.renewalFunction!].map((fn) => ({ principal: roleArn(fn), actions: ['kms:GetPublicKey', 'kms:Sign'] })),
    ]);
    // No cryptographic action reaches the account root, so no IAM policy alone can grant one.
    for (const action of administer.actions) expect(action).not.toMatch(/^kms:(\*|Decrypt|Encrypt|ReEncrypt|GenerateDataKey|Sign|Verify)/);
  });

  it('let the issuers (management API, MeshService handler, the renewal function) sign and seal, the xds function only open sealed keys, and the reconciler neither', () => {
    const cp = stack.controlPlane;
    const resources = template.toJSON().Resources;
    const env = (fn: typeof cp.xdsFunction) => resources[logicalId(fn)].Properties.Environment.Variables as Record<string, unknown>;
    for (const issuer of [cp.adminFunction, cp.catalogFunction, cp.renewalFunction!]) {
      expect(env(issuer)).toMatchObject({ DATA_KEY_ID: arnOf(cp.dataKey!), CA_KEY_ID: arnOf(cp.caKey!) });
    }
    expect(env(cp.xdsFunction).DATA_KEY_ID).toEqual(arnOf(cp.dataKey!));
    expect(env(cp.xdsFunction).CA_KEY_ID).toBeUndefined();
    expect(env(cp.reconcilerFunction).CA_KEY_ID).toBeUndefined();
    expect(env(cp.reconcilerFunction).DATA_KEY_ID).toBeUndefined();

    const kmsStatements = Object.entries(resourcesOf(template, 'AWS::IAM::Policy')).flatMap(([policy, r]) =>
      (r.Properties!.PolicyDocument as { Statement: { Action: string | string[]; Resource: unknown }[] }).Statement.filter((st) =>
        [st.Action].flat().some((a) => a.startsWith('kms:')),
      ).map((st) => ({ policy, actions: [st.Action].flat().sort(), resource: st.Resource })),
    );
    const seal = (fn: typeof cp.xdsFunction) => ({ policy: policyOf(fn), actions: ['kms:Decrypt', 'kms:GenerateDataKey'], resource: arnOf(cp.dataKey!) });
    const open = (fn: typeof cp.xdsFunction) => ({ policy: policyOf(fn), actions: ['kms:Decrypt'], resource: arnOf(cp.dataKey!) });
    const sign = (fn: typeof cp.xdsFunction) => ({ policy: policyOf(fn), actions: ['kms:GetPublicKey', 'kms:Sign'], resource: arnOf(cp.caKey!) });
    const expected = [
      open(cp.xdsFunction),
      seal(cp.adminFunction),
      sign(cp.adminFunction),
      seal(cp.catalogFunction),
      sign(cp.catalogFunction),
      seal(cp.renewalFunction!),
      sign(cp.renewalFunction!),
    ];
    expect(kmsStatements).toEqual(expect.arrayContaining(expected));
    expect(kmsStatements).toHaveLength(expected.length);
  });
});

describe('the front door', () => {
  it('is a function URL with AWS_IAM auth on the xds function, and so is the management API', () => {
    const urls = Object.values(resourcesOf(template, 'AWS::Lambda::Url')).map((r) => r.Properties);
    expect(urls).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ AuthType: 'AWS_IAM', TargetFunctionArn: arnOf(stack.controlPlane.xdsFunction) }),
        expect.objectContaining({ AuthType: 'AWS_IAM', TargetFunctionArn: arnOf(stack.controlPlane.adminFunction) }),
      ]),
    );
    expect(urls).toHaveLength(2);
  });

  it('is where the management API’s bootstrap endpoint points Envoys', () => {
    const env = template.toJSON().Resources[logicalId(stack.controlPlane.adminFunction)].Properties.Environment.Variables;
    expect(env.XDS_URL).toEqual({ 'Fn::GetAtt': [logicalId(stack.controlPlane.xdsUrl), 'FunctionUrl'] });
  });

  it('exports its host, cut from the URL', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    const host = Object.entries(outputs).find(([id]) => id.includes('XdsHost'))![1].Value;
    expect(host).toEqual({ 'Fn::Select': [2, { 'Fn::Split': ['/', { 'Fn::GetAtt': [logicalId(stack.controlPlane.xdsUrl), 'FunctionUrl'] }] }] });
  });
});

describe('the functions', () => {
  it('all run Node.js 22 on arm64 with active tracing, JSON logs and source-mapped stack traces', () => {
    const functions = Object.values(resourcesOf(template, 'AWS::Lambda::Function'));
    expect(functions).toHaveLength(9);
    for (const fn of functions) {
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        TracingConfig: { Mode: 'Active' },
        LoggingConfig: { LogFormat: 'JSON' },
        Environment: { Variables: { NODE_OPTIONS: '--enable-source-maps' } },
      });
    }
  });

  it('that render share the same settings, with the fixed xDS cluster name (never their own URL)', () => {
    const cp = stack.controlPlane;
    for (const fn of [cp.xdsFunction, cp.adminFunction, cp.lifecycleFunction, cp.reconcilerFunction, cp.catalogFunction]) {
      const env = (template.toJSON().Resources[logicalId(fn)].Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      expect(env).toMatchObject({
        TABLE_NAME: { Ref: logicalId(cp.table) },
        XDS_CLUSTER_NAME: 'xds_cluster',
        XDS_REFRESH_DELAY: '10s',
        XDS_ROUTE_DELIVERY: 'rds',
        XDS_REQUEST_TIMEOUT: '5s',
        MESH_NAME: 'mesh.local',
        MESH_TAG_KEY: 'mesh:service',
      });
    }
  });

  it('give the lifecycle function the drain queue and reserve its concurrency, and run the reconciler one at a time', () => {
    const resources = template.toJSON().Resources;
    expect(resources[logicalId(stack.controlPlane.lifecycleFunction)].Properties).toMatchObject({
      Environment: { Variables: { DRAIN_QUEUE_URL: { Ref: logicalId(stack.controlPlane.drainQueue) } } },
      ReservedConcurrentExecutions: 10,
    });
    expect(resources[logicalId(stack.controlPlane.reconcilerFunction)].Properties.ReservedConcurrentExecutions).toBe(1);
  });

  it('are bundled into code that loads: each bundle exports its handler', () => {
    const assembly = (stack.node.root as App).synth();
    const resources = template.toJSON().Resources;
    const cp = stack.controlPlane;
    const functions = [cp.xdsFunction, cp.adminFunction, cp.lifecycleFunction, cp.lifecycleCompleteFunction, cp.reconcilerFunction, cp.catalogFunction, cp.renewalFunction!];
    const bundles = functions.map((fn) => {
      const code = resources[logicalId(fn)].Properties.Code as { S3Key: string };
      return path.join(assembly.directory, `asset.${code.S3Key.replace(/\.zip$/, '')}`, 'index.js');
    });
    for (const bundle of bundles) expect(fs.existsSync(bundle)).toBe(true);
    // A fresh Node process, as Lambda would load them: not Jest's module loader.
    const script = `process.stdout.write(JSON.stringify(${JSON.stringify(bundles)}.map((b) => typeof require(b).handler)))`;
    const loaded = spawnSync(process.execPath, ['-e', script], {
      env: {
        ...process.env,
        TABLE_NAME: 'mesh',
        AWS_REGION: 'us-east-1',
        DRAIN_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/111122223333/drain',
        // The renewal function refuses to start without its keys (the stack always gives them).
        CA_KEY_ID: 'arn:aws:kms:us-east-1:111122223333:key/ca',
        DATA_KEY_ID: 'arn:aws:kms:us-east-1:111122223333:key/data',
      },
      encoding: 'utf8',
    });
    expect(loaded.stderr).toBe('');
    expect(JSON.parse(loaded.stdout)).toEqual(functions.map(() => 'function'));
    // The SDK's default credential chain is replaced by the environment's credentials (lambdaAliases).
    for (const bundle of bundles) {
      const sources = (JSON.parse(fs.readFileSync(`${bundle}.map`, 'utf8')) as { sources: string[] }).sources;
      expect(sources.filter((s) => /credential-provider-(node|ini|sso|process|web-identity)\/|nested-clients\//.test(s))).toEqual([]);
      expect(sources.some((s) => s.endsWith('functions/lib/lambda-credentials.ts'))).toBe(true);
    }
  });

  it('carry the mesh page beside the admin bundle, not in it, and the bundled admin handler serves it from there', () => {
    const assembly = (stack.node.root as App).synth();
    const code = template.toJSON().Resources[logicalId(stack.controlPlane.adminFunction)].Properties.Code as { S3Key: string };
    const assetDir = path.join(assembly.directory, `asset.${code.S3Key.replace(/\.zip$/, '')}`);
    const source = (file: string) => fs.readFileSync(path.join(__dirname, '..', '..', 'shared', 'api', 'mesh-page', 'assets', file), 'utf8');
    expect(fs.readdirSync(path.join(assetDir, 'mesh-page')).sort()).toEqual(['page.css', 'page.html', 'page.js']);
    for (const file of ['page.html', 'page.js', 'page.css']) expect(fs.readFileSync(path.join(assetDir, 'mesh-page', file), 'utf8')).toBe(source(file));
    // The bundle itself does not carry the page's text.
    expect(fs.readFileSync(path.join(assetDir, 'index.js'), 'utf8')).not.toContain('Service graph');
    // A fresh Node process loads the bundle from its asset directory, as Lambda does, and asks for the page.
    const requests = [
      ['GET', '/mesh'],
      ['GET', '/mesh/app.js'],
      ['GET', '/mesh/style.css'],
      ['HEAD', '/mesh/app.js'],
    ];
    const script = `const { handler } = require(${JSON.stringify(path.join(assetDir, 'index.js'))});
      (async () => {
        const out = [];
        for (const [method, rawPath] of ${JSON.stringify(requests)}) {
          out.push(await handler({ version: '2.0', rawPath, rawQueryString: '', headers: {}, isBase64Encoded: false, requestContext: { http: { method, path: rawPath } } }, { awsRequestId: 'r1' }));
        }
        process.stdout.write(JSON.stringify(out));
      })().catch((err) => { process.stderr.write(String(err && err.stack)); process.exit(1); });`;
    const served = spawnSync(process.execPath, ['-e', script], {
      env: { PATH: process.env.PATH, TABLE_NAME: 'mesh', AWS_REGION: 'us-east-1', POWERTOOLS_LOG_LEVEL: 'SILENT', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(served.stderr).toBe('');
    const [html, js, css, head] = JSON.parse(served.stdout) as { statusCode: number; headers: Record<string, string>; body: string }[];
    expect([html, js, css, head].map((r) => [r!.statusCode, r!.headers['content-type']])).toEqual([
      [200, 'text/html; charset=utf-8'],
      [200, 'text/javascript; charset=utf-8'],
      [200, 'text/css; charset=utf-8'],
      [200, 'text/javascript; charset=utf-8'],
    ]);
    expect(html!.body).toBe(source('page.html'));
    expect(js!.body).toBe(source('page.js'));
    expect(css!.body).toBe(source('page.css'));
    expect(head!.body).toBe('');
  });
});

describe('alarms and dashboard', () => {
  it('alarm on each dead-letter queue, each function’s errors and throttles, NACKs, refused polls, nodes behind, held reconciler repairs and oversized assignments', () => {
    const alarms = Object.values(resourcesOf(template, 'AWS::CloudWatch::Alarm')).map((a) => a.Properties!);
    // ... and one per HTTP service on the 5xx its sidecars answer (the example's metrics are on).
    // ... and the fleet rebuild's two (stalled, services that kept failing).
    expect(alarms).toHaveLength(3 + 9 * 2 + 5 + 3 + 1 + 2 + 2);
    expect(alarms.filter((a) => ['VanishHeld', 'EndpointsOverLimit'].includes(String(a.MetricName))).map((a) => [a.MetricName, a.Dimensions])).toEqual([
      ['VanishHeld', [{ Name: 'service', Value: 'reconciler' }]],
      ['EndpointsOverLimit', [{ Name: 'service', Value: 'lifecycle' }]],
      ['EndpointsOverLimit', [{ Name: 'service', Value: 'reconciler' }]],
    ]);
    expect(alarms.filter((a) => a.MetricName === 'LaunchesAbandoned').map((a) => a.Dimensions)).toEqual([
      [{ Name: 'service', Value: 'lifecycle' }],
      [{ Name: 'service', Value: 'lifecycle-complete' }],
    ]);
    expect(alarms.filter((a) => a.MetricName === 'ApproximateNumberOfMessagesVisible')).toHaveLength(3);
    expect(alarms.filter((a) => a.MetricName === 'Errors' && a.Namespace === 'AWS/Lambda')).toHaveLength(9);
    expect(alarms.filter((a) => a.MetricName === 'Throttles' && a.Namespace === 'AWS/Lambda')).toHaveLength(9);
    // A renewal that fails or never runs: no completed run in an hour, missing data counting as one.
    expect(alarms.filter((a) => a.MetricName === 'RenewalRuns')).toEqual([
      expect.objectContaining({
        Namespace: metricsNamespace,
        Dimensions: [{ Name: 'service', Value: 'renewal' }],
        Statistic: 'Sum',
        Period: 3600,
        EvaluationPeriods: 1,
        Threshold: 1,
        ComparisonOperator: 'LessThanThreshold',
        TreatMissingData: 'breaching',
      }),
    ]);
    expect(alarms.filter((a) => a.MetricName === 'Nacks')).toEqual([
      expect.objectContaining({ Namespace: metricsNamespace, Dimensions: [{ Name: 'service', Value: 'xds' }], Threshold: 0 }),
    ]);
    expect(alarms.filter((a) => a.MetricName === 'PollsRefused')).toEqual([
      expect.objectContaining({ Namespace: metricsNamespace, Dimensions: [{ Name: 'service', Value: 'xds' }], Threshold: 0 }),
    ]);
    expect(alarms.filter((a) => a.MetricName === 'NodesBehind')).toEqual([
      expect.objectContaining({
        Namespace: metricsNamespace,
        Dimensions: [{ Name: 'service', Value: 'reconciler' }],
        Period: 300,
        EvaluationPeriods: 2,
        Threshold: 0,
      }),
    ]);
  });

  it('draw polls (refused ones too) and their 304 ratio, NACKs, event lag, drift and nodes behind', () => {
    const [dashboard] = Object.values(resourcesOf(template, 'AWS::CloudWatch::Dashboard'));
    const body = JSON.stringify(dashboard!.Properties!.DashboardBody);
    for (const metric of ['PollsAnswered', 'PollsNotModified', 'PollsFailed', 'PollsRefused', 'Nacks', 'EventLag', 'DriftAdded', 'DriftRemoved', 'DriftDrained', 'DriftUpdated', 'AssignmentDrift', 'RebuildServices', 'RebuildAgeSeconds', 'NodesBehind', 'CertificatesRenewed', 'RenewalRuns']) {
      expect(body).toContain(metric);
    }
    expect(body).toContain('100 * nm / (nm + ans + fail)');
  });
});

describe('mesh services', () => {
  const meshResources = () => resourcesOf(template, 'Custom::MeshService');

  it('carry their spec to the catalog handler', () => {
    const payments = template.toJSON().Resources[logicalId(stack.payments)].Properties;
    expect(payments.ServiceToken).toEqual(arnOf(stack.controlPlane.catalogFunction));
    // The role's ARN is known at deploy time: CloudFormation joins it into the JSON.
    const roleArn = { 'Fn::GetAtt': [stack.getLogicalId(stack.paymentsTemplate.role!.node.defaultChild as never), 'Arn'] };
    const spec = renderJoin(payments.Spec, (part) => {
      expect(part).toEqual(roleArn);
      return 'arn:aws:iam::111122223333:role/payments';
    });
    expect(JSON.parse(spec)).toEqual({
      name: 'payments',
      inboundPort: 15000,
      appPort: 80,
      protocol: 'http',
      drainSeconds: 60,
      identity: { iamRoleArns: ['arn:aws:iam::111122223333:role/payments'] },
    });
    expect(Object.keys(meshResources())).toHaveLength(2);
  });

  it('bind the role of their nodes: a node of each service is authorized for it, and for no other', () => {
    const json = template.toJSON();
    const specs = deployedSpecs(json);
    const nodes = meshNodes(json);
    expect(nodes.map((n) => [n.service, n.kind]).sort()).toEqual([
      ['orders', 'ecs-task'],
      ['payments', 'ec2-instance'],
    ]);
    for (const node of nodes) {
      const caller = { kind: 'iam', arn: sessionArnOf(node.roleLogicalId, 'node-1') } as const;
      for (const [service, spec] of specs) {
        const poll = () => authorizeNode('iam', caller, service, spec.identity?.iamRoleArns ?? []);
        if (service === node.service) expect(poll).not.toThrow();
        else expect(poll).toThrow(`the caller is not allowed to fetch the configuration of "${service}"`);
      }
    }
  });

  it('order a caller after its dependency, so CloudFormation deletes the caller first', () => {
    const orders = template.toJSON().Resources[logicalId(stack.orders)];
    expect(orders.DependsOn).toContain(logicalId(stack.payments));
  });
});

describe('the Auto Scaling group', () => {
  it('has the mesh launch and terminate hooks, the terminate one outlasting the drain', () => {
    const hooks = Object.values(resourcesOf(template, 'AWS::AutoScaling::LifecycleHook')).map((h) => h.Properties);
    expect(hooks).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          LifecycleHookName: lifecycleHookNames.launch,
          LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING',
          DefaultResult: 'CONTINUE',
          HeartbeatTimeout: 300,
          NotificationMetadata: JSON.stringify({ service: 'payments', readyTimeoutSeconds: 240 }),
        }),
        expect.objectContaining({
          LifecycleHookName: lifecycleHookNames.terminate,
          LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
          DefaultResult: 'CONTINUE',
          HeartbeatTimeout: 60 + 120,
          NotificationMetadata: JSON.stringify({ service: 'payments' }),
        }),
      ]),
    );
    expect(hooks).toHaveLength(2);
  });

  it('boots instances with user data that is valid bash and starts Envoy with the node’s bootstrap', () => {
    const userData = renderJoin(
      (template.toJSON().Resources[logicalId(stack.paymentsTemplate)].Properties.LaunchTemplateData.UserData as { 'Fn::Base64': unknown })[
        'Fn::Base64'
      ],
    );
    expect(userData).toContain('systemctl enable --now envoy.service');
    expect(userData).toContain(placeholders.nodeId);
    expect(userData).not.toContain(placeholders.xdsHost);
    const syntax = spawnSync('bash', ['-n'], { input: userData, encoding: 'utf8' });
    expect(syntax.stderr).toBe('');
    expect(syntax.status).toBe(0);
  });
});

describe('the ECS task', () => {
  it('runs Envoy as an essential sidecar, healthy once it has config, that the app waits on and that drains on stop', () => {
    const [task] = Object.values(resourcesOf(template, 'AWS::ECS::TaskDefinition'));
    const containers = task!.Properties!.ContainerDefinitions as Record<string, unknown>[];
    const envoy = containers.find((c) => c.Name === 'envoy')!;
    expect(envoy).toMatchObject({
      Essential: true,
      Image: 'public.ecr.aws/envoyproxy/envoy:v1.36.2',
      PortMappings: [expect.objectContaining({ ContainerPort: 15000, Protocol: 'tcp' })],
      HealthCheck: expect.objectContaining({ Command: ['CMD', '/bin/bash', '-c', envoyHealthCheck(9901)] }),
      Command: ['/bin/bash', '-c', envoyEntrypoint({ drainSeconds: 30, adminPort: 9901, configPath: '/tmp/envoy.json' })],
      StopTimeout: 35,
    });
    expect(containers.find((c) => c.Name === 'app')!.DependsOn).toEqual([{ ContainerName: 'envoy', Condition: 'HEALTHY' }]);
    const bootstrap = (envoy.Environment as { Name: string; Value: unknown }[]).find((e) => e.Name === 'ENVOY_BOOTSTRAP')!.Value;
    // The front door's host arrives at deploy time; the node id is the task's, filled in at start.
    expect(JSON.stringify(bootstrap)).toContain(JSON.stringify(resolve(stack.controlPlane.xdsHost)));
    expect(JSON.stringify(bootstrap)).toContain(placeholders.nodeId);
  });
});

describe('the template', () => {
  it('has no circular dependency (CloudFormation would reject it at deploy time)', () => {
    expect(findCycle(template.toJSON().Resources)).toBeUndefined();
  });

  it('passes CDK’s built-in CloudFormation validation (resource schemas) without a finding', () => {
    const assembly = (stack.node.root as App).synth();
    const report = JSON.parse(fs.readFileSync(path.join(assembly.directory, 'validation-report.json'), 'utf8')) as {
      pluginReports: { pluginName: string; violations: { ruleName: string; description: string }[] }[];
    };
    expect(report.pluginReports.flatMap((r) => r.violations.map((v) => `${r.pluginName} ${v.ruleName}: ${v.description}`))).toEqual([]);
  });
});

describe('transparent mode (orders)', () => {
  it('redirects the orders task’s traffic through its Envoy (the proxy configuration) and names both services in a private zone', () => {
    const [task] = Object.values(resourcesOf(template, 'AWS::ECS::TaskDefinition'));
    expect(task!.Properties!.ProxyConfiguration).toMatchObject({ Type: 'APPMESH', ContainerName: 'envoy' });
    expect(Object.values(resourcesOf(template, 'AWS::Route53::HostedZone')).map((z) => z.Properties!.Name)).toEqual(['mesh.internal.']);
    const records = Object.values(resourcesOf(template, 'AWS::Route53::RecordSet')).map((r) => [r.Properties!.Name, r.Properties!.ResourceRecords]);
    expect(records.sort()).toEqual([
      ['orders.mesh.internal.', ['240.240.0.1']],
      ['payments.mesh.internal.', ['240.240.0.1']],
    ]);
  });
});
