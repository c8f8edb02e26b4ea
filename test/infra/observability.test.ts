import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import { ControlPlane } from '../../infra/control-plane';
import { ControlPlaneProps } from '../../infra/control-plane-props';
import { MeshService } from '../../infra/mesh-service';
import { accessLogQueryText, addMeshSidecar, addMeshUserData, dataPlaneMetricsNamespace } from '../../infra/sidecar';
import { newUnbundledStack } from './support/synth';

type Container = { Name: string; Command?: string[]; Environment?: { Name: string; Value: unknown }[]; Essential?: boolean; LogConfiguration?: { Options: Record<string, unknown> } };

/** meshStack declares orders (HTTP, calling payments) and payments (TCP) with the given observability, orders on ECS, payments on EC2. */
function meshStack(props: ControlPlaneProps, orders: Record<string, unknown> = {}, payments: Record<string, unknown> = {}) {
  const stack = newUnbundledStack();
  const controlPlane = new ControlPlane(stack, 'ControlPlane', props);
  const paymentsService = new MeshService(stack, 'Payments', { controlPlane, name: 'payments', inboundPort: 15000, appPort: 8080, protocol: 'tcp', ...payments });
  const ordersService = new MeshService(stack, 'Orders', {
    controlPlane,
    name: 'orders',
    inboundPort: 15000,
    appPort: 8080,
    protocol: 'http',
    dependencies: [{ service: 'payments', localPort: 9001 }],
    ...orders,
  });
  const task = new ecs.FargateTaskDefinition(stack, 'OrdersTask');
  const app = task.addContainer('app', { image: ecs.ContainerImage.fromRegistry('public.ecr.aws/nginx/nginx:stable') });
  addMeshSidecar(task, { controlPlane, service: ordersService, appContainers: [app] });
  const launchTemplate = new ec2.LaunchTemplate(stack, 'PaymentsTemplate', {
    machineImage: ec2.MachineImage.latestAmazonLinux2023(),
    userData: ec2.UserData.forLinux(),
    role: new iam.Role(stack, 'PaymentsRole', { assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com') }),
  });
  addMeshUserData(launchTemplate, { controlPlane, service: paymentsService });
  return { stack, controlPlane, launchTemplate, template: Template.fromStack(stack) };
}

function containers(template: Template): Container[] {
  const [task] = Object.values(template.findResources('AWS::ECS::TaskDefinition'));
  return (task!.Properties as { ContainerDefinitions: Container[] }).ContainerDefinitions;
}

/** flatten writes a CloudFormation value as text, its joins joined and other tokens as <Intrinsic>. */
const flatten = (v: unknown): string =>
  typeof v === 'string'
    ? v
    : Array.isArray(v)
      ? v.map(flatten).join('')
      : v && typeof v === 'object' && 'Fn::Join' in v
        ? (v as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1].map(flatten).join('')
        : `<${Object.keys(v as object)[0]}>`;

const env = (c: Container | undefined, name: string) => {
  const value = c?.Environment?.find((e) => e.Name === name)?.Value;
  return value === undefined ? undefined : flatten(value);
};

/** userDataText is the EC2 user data with CloudFormation's joins flattened (tokens as placeholders). */
function userDataText(template: Template): string {
  const [lt] = Object.values(template.findResources('AWS::EC2::LaunchTemplate'));
  const userData = (lt!.Properties as { LaunchTemplateData: { UserData: unknown } }).LaunchTemplateData.UserData;
  return flatten((userData as { 'Fn::Base64': unknown })['Fn::Base64']);
}

/** nodePolicyActions are the actions granted to the nodes' roles (the task role, the instance role). */
function nodePolicyActions(template: Template): string[] {
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((p) => /OrdersTaskTaskRole|PaymentsRole/.test(JSON.stringify((p.Properties as { Roles: unknown }).Roles)))
    .flatMap((p) => (p.Properties as { PolicyDocument: { Statement: { Action: string | string[] }[] } }).PolicyDocument.Statement.flatMap((s) => [s.Action].flat()));
}

describe('a mesh with metrics and X-Ray tracing by default', () => {
  const { template } = meshStack({ observability: { metrics: { enabled: true }, tracing: { provider: 'xray', samplingPercent: 10 } } });

  it('renders with the default in every function (MESH_OBSERVABILITY)', () => {
    const functions = Object.values(template.findResources('AWS::Lambda::Function')).filter((f) => JSON.stringify(f).includes('TABLE_NAME'));
    expect(functions.length).toBeGreaterThan(3);
    for (const fn of functions) {
      expect((fn.Properties as { Environment: { Variables: Record<string, string> } }).Environment.Variables.MESH_OBSERVABILITY).toBe(
        '{"metrics":{"enabled":true},"tracing":{"provider":"xray","samplingPercent":10}}',
      );
    }
  });

  it('runs the CloudWatch agent (StatsD on loopback, no host dimension) and the X-Ray daemon beside Envoy, not essential', () => {
    const byName = new Map(containers(template).map((c) => [c.Name, c]));
    expect([...byName.keys()].sort()).toEqual(['app', 'cloudwatch-agent', 'envoy', 'xray-daemon']);
    const agent = byName.get('cloudwatch-agent')!;
    expect(agent.Essential).toBe(false);
    expect(JSON.parse(env(agent, 'CW_CONFIG_CONTENT') as string)).toEqual({
      agent: { omit_hostname: true },
      metrics: {
        namespace: dataPlaneMetricsNamespace,
        metrics_collected: { statsd: { service_address: '127.0.0.1:8125', metrics_collection_interval: 10, metrics_aggregation_interval: 60 } },
      },
    });
    const daemon = byName.get('xray-daemon')!;
    expect(daemon.Essential).toBe(false);
    expect(daemon.Command?.slice(0, 4)).toEqual(['--bind', '127.0.0.1:2000', '--bind-tcp', '127.0.0.1:2000']);
    // The Envoy it serves sends to those ports: its bootstrap has the sink.
    const bootstrap = JSON.parse(env(byName.get('envoy'), 'ENVOY_BOOTSTRAP') as string) as { stats_sinks: unknown[] };
    expect(JSON.stringify(bootstrap.stats_sinks)).toContain('"port_value":8125');
  });

  it('tags an ECS task\u2019s stats with its task definition revision (its endpoint\u2019s label, a rollout\u2019s subsets), and EC2 nodes with none', () => {
    const envoy = containers(template).find((c) => c.Name === 'envoy');
    const ecsBootstrap = JSON.parse(env(envoy, 'ENVOY_BOOTSTRAP')!) as { stats_config: { stats_tags: { tag_name: string; fixed_value?: string }[] } };
    expect(ecsBootstrap.stats_config.stats_tags).toContainEqual({ tag_name: 'mesh_revision', fixed_value: '__MESH_REVISION__' });
    // The entrypoint replaces it from the task metadata (sidecar.test.ts runs that script).
    expect(JSON.stringify(envoy)).toContain('MESH_REVISION_PLACEHOLDER=');
    expect(userDataText(template)).not.toContain('mesh_revision');
  });

  it('lets the task role send metrics to its namespace only, and traces', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: 'cloudwatch:PutMetricData', Condition: { StringEquals: { 'cloudwatch:namespace': dataPlaneMetricsNamespace } } }),
          Match.objectLike({ Action: Match.arrayWith(['xray:PutTraceSegments', 'xray:GetSamplingRules']) }),
        ]),
      },
      Roles: [{ Ref: Match.stringLikeRegexp('OrdersTaskTaskRole') }],
    });
  });

  it("sends Envoy's access log and the agents' logs to a month-long log group, with the saved queries beside it", () => {
    const [groupId] = Object.entries(template.findResources('AWS::Logs::LogGroup')).find(([id]) => id.startsWith('OrdersTaskEnvoyLogs'))!;
    expect(template.findResources('AWS::Logs::LogGroup')[groupId]!.Properties).toEqual({ RetentionInDays: 30 });
    for (const c of containers(template).filter((c) => c.Name !== 'app')) {
      expect(c.LogConfiguration?.Options['awslogs-group']).toEqual({ Ref: groupId });
    }
    for (const question of ['slowest-routes', '5xx-by-dependency', 'who-calls-whom'] as const) {
      template.hasResourceProperties('AWS::Logs::QueryDefinition', {
        Name: `mesh/orders/${question}`,
        QueryString: accessLogQueryText(question),
        LogGroupNames: [{ Ref: groupId }],
      });
    }
  });

  it('starts the agents on EC2 with Docker on the host network before Envoy, logging with it, and lets the instance role send', () => {
    const text = userDataText(template);
    const agent = text.indexOf('--name mesh-cloudwatch-agent --network host --env-file /etc/mesh/cloudwatch-agent.env');
    const daemon = text.indexOf("--name mesh-xray-daemon --network host --env-file /etc/mesh/xray-daemon.env");
    expect(agent).toBeGreaterThan(0);
    expect(daemon).toBeGreaterThan(0);
    expect(text.indexOf('systemctl enable --now envoy.service')).toBeGreaterThan(daemon);
    expect(text).toContain('CW_CONFIG_CONTENT={"agent":{"omit_hostname":true}');
    expect(text).toContain('--log-opt awslogs-stream=cloudwatch-agent/$INSTANCE_ID');
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 'cloudwatch:PutMetricData' })]) },
      Roles: [{ Ref: Match.stringLikeRegexp('PaymentsRole') }],
    });
    for (const question of ['slowest-routes', '5xx-by-dependency', 'who-calls-whom']) {
      template.hasResourceProperties('AWS::Logs::QueryDefinition', { Name: `mesh/payments/${question}` });
    }
  });

  it('alarms on the 5xx of each HTTP service its sidecars answer (a Metrics Insights query over its tasks and zones), not on TCP ones', () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).filter((a) => JSON.stringify(a).includes('SELECT SUM'));
    expect(alarms).toHaveLength(1);
    expect(alarms[0]!.Properties).toMatchObject({
      Threshold: 10,
      EvaluationPeriods: 3,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
      Metrics: [
        {
          Expression: `SELECT SUM("envoy.http.downstream_rq_xx") FROM "EnvoyMesh" WHERE mesh_service = 'orders' AND mesh_listener = 'inbound' AND mesh_response_class = '5'`,
          Period: 60,
        },
      ],
    });
  });

  it('draws the golden signals per service and per dependency next to the control plane on one dashboard', () => {
    const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
    const body = JSON.stringify(dashboard!.Properties);
    for (const text of [
      'SELECT SUM(\\\\\\"envoy.http.downstream_rq_total\\\\\\") FROM \\\\\\"EnvoyMesh\\\\\\" WHERE mesh_listener = ',
      'GROUP BY mesh_service, mesh_dependency',
      "MetricName=\\\\\\\"envoy.http.downstream_rq_time\\\\\\\" mesh_listener inbound', 'p99', 60)",
      'envoy.cluster.outlier_detection.ejections_enforced_total',
      'envoy.cluster.upstream_rq_pending_overflow',
      'envoy.listener.ssl.connection_error',
      'envoy.http.rbac.denied',
      'envoy.cluster_manager.cds.update_rejected',
      'ConvergenceMs',
      'Events_applied',
      'PollsRefused',
      'NodesBehind',
    ]) {
      expect(body).toContain(text);
    }
  });
});

describe('observability per service, without a mesh default', () => {
  it('a service with OpenTelemetry gets the collector (OTLP on loopback to X-Ray) and its bootstrap the collector cluster', () => {
    const { template } = meshStack({}, { observability: { tracing: { provider: 'opentelemetry', collectorPort: 4327 } } });
    const byName = new Map(containers(template).map((c) => [c.Name, c]));
    expect([...byName.keys()].sort()).toEqual(['app', 'envoy', 'otel-collector']);
    const config = JSON.parse(env(byName.get('otel-collector'), 'AOT_CONFIG_CONTENT') as string) as Record<string, unknown>;
    expect(config).toMatchObject({
      receivers: { otlp: { protocols: { grpc: { endpoint: '127.0.0.1:4327' } } } },
      service: { pipelines: { traces: { receivers: ['otlp'], exporters: ['awsxray'] } } },
    });
    const bootstrap = env(byName.get('envoy'), 'ENVOY_BOOTSTRAP') as string;
    expect(bootstrap).toContain('"name":"mesh_otel_collector"');
    expect(bootstrap).not.toContain('stats_sinks');
  });

  it('a mesh without observability runs no agents, grants nothing to send, and has no service alarms', () => {
    const { template } = meshStack({});
    expect(containers(template).map((c) => c.Name).sort()).toEqual(['app', 'envoy']);
    expect(nodePolicyActions(template)).not.toContain('cloudwatch:PutMetricData');
    expect(nodePolicyActions(template).some((a) => a.startsWith('xray:'))).toBe(false);
    expect(userDataText(template)).not.toContain('mesh-cloudwatch-agent');
    expect(JSON.stringify(template.findResources('AWS::CloudWatch::Alarm'))).not.toContain('SELECT SUM');
  });

  it('refuses an observability default that is not one, naming the prop', () => {
    expect(() => new ControlPlane(newUnbundledStack(), 'ControlPlane', { observability: { tracing: { provider: 'zipkin' } } as never })).toThrow(/observability tracing.provider/);
  });
});

describe('the observability docs', () => {
  it('show the saved access-log queries exactly as the CDK saves them', () => {
    const docs = readFileSync(join(__dirname, '..', '..', 'docs', 'rendering.md'), 'utf8');
    for (const question of ['slowest-routes', '5xx-by-dependency', 'who-calls-whom'] as const) {
      expect(docs).toContain('```\n' + accessLogQueryText(question) + '\n```');
    }
  });
});
