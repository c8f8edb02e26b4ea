import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { buildSync } from 'esbuild';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { status } from '@grpc/grpc-js';
import { ControlPlane } from '../../infra/control-plane';
import { ExampleMeshStack } from '../../infra/example-stack';
import { pushTierTimings, stagePushTierImage } from '../../infra/xds-server';
import { MeshService } from '../../infra/mesh-service';
import { lambdaAliases, meshBundling } from '../../infra/mesh-function';
import { functionEntries } from '../../infra/paths';
import { sidecarBootstrapJson } from '../../infra/sidecar/bootstrap';
import { placeholders, substitute } from '../../infra/sidecar/placeholders';
import { pushTierClusterName } from '../../shared/bootstrap/envoy-bootstrap';
import { decodeStrict, validateRules } from '../support/envoy-schema';
import { renderJoin } from './support/deploy-time';
import { newUnbundledStack } from './support/synth';
import { declareService } from '../../shared/state/catalog';
import { defaultRenderSettings } from '../../shared/render/settings';
import { typeUrls } from '../../shared/envoy/resources';
import { useDynalite } from '../support/dynamo';
import { AdsTestClient } from '../support/ads-client';

/** The example app with the push tier on, as `cdk synth -c pushTier=true` builds it (Lambda bundling skipped). */
function synth(pushTier: boolean): Template {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  return Template.fromStack(new ExampleMeshStack(app, 'EnvoyMeshExample', { pushTier }));
}

describe('XdsServer, the push tier on ECS Fargate', () => {
  let template: Template;
  beforeAll(() => {
    template = synth(true);
  }, 120_000);

  it('runs the server image built from this repository on arm64, with mutual TLS from the mesh CA and the graceful-stop timings', () => {
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      RuntimePlatform: { CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' },
      ContainerDefinitions: [
        Match.objectLike({
          Name: 'xds',
          Image: { 'Fn::Sub': Match.stringLikeRegexp('cdk-hnb659fds-container-assets') },
          StopTimeout: pushTierTimings.stopTimeoutSeconds,
          PortMappings: [Match.objectLike({ ContainerPort: pushTierTimings.containerPort })],
          HealthCheck: Match.objectLike({ Command: Match.arrayWith(['CMD', 'node']) }),
          LogConfiguration: Match.objectLike({ LogDriver: 'awslogs' }),
          Environment: Match.arrayWith([
            { Name: 'TABLE_NAME', Value: Match.anyValue() },
            { Name: 'XDS_TLS', Value: 'mesh' },
            { Name: 'PUSH_CERTIFICATE_FUNCTION', Value: { Ref: Match.stringLikeRegexp('PushTierCertificateFunction') } },
            { Name: 'GRACE_MS', Value: String(pushTierTimings.graceSeconds * 1000) },
          ]),
        }),
      ],
    });
  });

  it('keeps at least two tasks, replaces them 100/200 with rollback, and gives a new task time to issue its certificate', () => {
    template.hasResourceProperties('AWS::ECS::Service', {
      DesiredCount: 2,
      LaunchType: 'FARGATE',
      HealthCheckGracePeriodSeconds: pushTierTimings.healthCheckGraceSeconds,
      DeploymentConfiguration: { MinimumHealthyPercent: 100, MaximumPercent: 200, DeploymentCircuitBreaker: { Enable: true, Rollback: true } },
      LoadBalancers: [Match.objectLike({ ContainerName: 'xds', ContainerPort: pushTierTimings.containerPort })],
    });
  });

  it('fronts the tasks with an internal NLB that passes TCP through and lets the tasks end their streams themselves', () => {
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Type: 'network',
      Scheme: 'internal',
      SecurityGroups: Match.anyValue(),
      LoadBalancerAttributes: Match.arrayWith([{ Key: 'load_balancing.cross_zone.enabled', Value: 'true' }]),
    });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Protocol: 'TCP',
      Port: 443,
      ListenerAttributes: [{ Key: 'tcp.idle_timeout.seconds', Value: String(pushTierTimings.tcpIdleTimeoutSeconds) }],
    });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      Protocol: 'TCP',
      TargetType: 'ip',
      Port: pushTierTimings.containerPort,
      HealthCheckProtocol: 'TCP',
      TargetGroupAttributes: Match.arrayWith([
        { Key: 'deregistration_delay.timeout_seconds', Value: String(pushTierTimings.deregistrationDelaySeconds) },
        { Key: 'deregistration_delay.connection_termination.enabled', Value: 'false' },
      ]),
    });
  });

  it('orders the stop: deregistered first, then SIGTERM, streams closed within the grace, well before SIGKILL', () => {
    const t = pushTierTimings;
    expect(t.stopTimeoutSeconds).toBeGreaterThanOrEqual(t.graceSeconds * 2);
    expect(t.stopTimeoutSeconds).toBeLessThanOrEqual(120); // Fargate's limit
    expect(t.tcpIdleTimeoutSeconds).toBeGreaterThan(30); // gRPC keepalive (server/ads-server.ts) pings every 30 s
  });

  it('scales on CPU and on open streams per task, the EMF gauge the server prints', () => {
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { MinCapacity: 2, MaxCapacity: 10 });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({ PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' }, TargetValue: 60 }),
    });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({
        CustomizedMetricSpecification: { MetricName: 'ActiveStreams', Namespace: 'EnvoyControlPlane', Dimensions: [{ Name: 'service', Value: 'push' }], Statistic: 'Average' },
        TargetValue: 2000,
      }),
    });
  });

  it('alarms on pushed config rejected, slow pushes and missing capacity', () => {
    const alarms = template.findResources('AWS::CloudWatch::Alarm');
    const byMetric = Object.values(alarms).map((a) => (a as { Properties: { MetricName?: string; Namespace?: string; Dimensions?: { Value: unknown }[] } }).Properties);
    const push = byMetric.filter((p) => p.Dimensions?.some((d) => d.Value === 'push')).map((p) => p.MetricName).sort();
    expect(push).toEqual(['Nacks', 'PushLatency']);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'HealthyHostCount',
      Namespace: 'AWS/NetworkELB',
      ComparisonOperator: 'LessThanThreshold',
      Threshold: 2,
      TreatMissingData: 'breaching',
    });
  });

  /** statementsOfRole reads every IAM policy statement attached to the role whose logical ID matches. */
  const statementsOfRole = (role: RegExp) => {
    const policies = template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp(role.source) }] } });
    return Object.values(policies).flatMap(
      (p) => (p as { Properties: { PolicyDocument: { Statement: { Action: string | string[]; Resource: unknown; Condition?: unknown }[] } } }).Properties.PolicyDocument.Statement,
    );
  };
  const actionsOf = (statements: { Action: string | string[] }[]) => statements.flatMap((s) => [s.Action].flat()).sort();
  const caKeyPolicy = () => {
    const keys = template.findResources('AWS::KMS::Key', { Properties: { KeyUsage: 'SIGN_VERIFY' } });
    return Object.values(keys).flatMap((k) => (k as { Properties: { KeyPolicy: { Statement: { Principal: unknown; Action: unknown }[] } } }).Properties.KeyPolicy.Statement);
  };

  it("lets the task read the table, write node status only, and invoke the push-certificate function; nothing else of the mesh's, and no use of the CA key", () => {
    const statements = statementsOfRole(/PushTierTaskTaskRole/);
    expect(actionsOf(statements)).toEqual(['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'lambda:InvokeFunction']);
    const put = statements.find((s) => s.Action === 'dynamodb:PutItem');
    expect(put?.Condition).toEqual({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['NODES#*'] } });
    const invoke = statements.find((s) => s.Action === 'lambda:InvokeFunction');
    expect(invoke?.Resource).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/PushTierCertificateFunction[0-9A-F]{8}$/), 'Arn'] });
    expect(JSON.stringify(caKeyPolicy())).not.toMatch(/PushTierTaskTaskRole/);
  });

  it('lets the push-certificate function sign with the CA key and read the catalog partition only (the CA certificate)', () => {
    const statements = statementsOfRole(/PushTierCertificateFunctionServiceRole/);
    const own = statements.filter((s) => ![s.Action].flat().some((a) => a.startsWith('logs:') || a.startsWith('xray:')));
    expect(actionsOf(own)).toEqual(['dynamodb:GetItem', 'kms:GetPublicKey', 'kms:Sign']);
    expect(own.find((s) => s.Action === 'dynamodb:GetItem')?.Condition).toEqual({ 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['CATALOG'] } });
    const signers = caKeyPolicy().filter((st) => JSON.stringify(st.Action).includes('kms:Sign'));
    expect(signers.map((st) => JSON.stringify(st.Principal)).filter((p) => p.includes('PushTier'))).toEqual([expect.stringMatching(/PushTierCertificateFunctionServiceRole/)]);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: "Issues the push tier's tasks their own certificate (_xds) and no other",
      Architectures: ['arm64'],
      Environment: { Variables: Match.objectLike({ CA_KEY_ID: Match.anyValue(), POWERTOOLS_SERVICE_NAME: 'push-certificate' }) },
    });
  });

  it('watches the push-certificate function like every other: errors and throttles alarmed', () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((a) => JSON.stringify((a as { Properties: unknown }).Properties));
    const onFunction = alarms.filter((a) => a.includes('PushTierCertificateFunction'));
    expect(onFunction.map((a) => (JSON.parse(a) as { MetricName: string }).MetricName).sort()).toEqual(['Errors', 'Throttles']);
  });

  it('admits streams from the VPC to the load balancer only, and to the tasks from the load balancer only', () => {
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: 'Push tier load balancer: ADS streams from the Envoys',
      SecurityGroupIngress: [Match.objectLike({ FromPort: 443, ToPort: 443, CidrIp: { 'Fn::GetAtt': [Match.stringLikeRegexp('Vpc'), 'CidrBlock'] } })],
    });
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      FromPort: pushTierTimings.containerPort,
      SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('PushTierLoadBalancerSecurityGroup'), 'GroupId'] },
    });
  });

  it('is off unless asked for: the example without pushTier has no push tier', () => {
    const off = synth(false);
    expect(Object.keys(off.findResources('AWS::ElasticLoadBalancingV2::LoadBalancer'))).toEqual([]);
    expect(Object.keys(off.findResources('AWS::ECS::Service'))).toHaveLength(1); // orders only
    expect(JSON.stringify(off.toJSON())).not.toContain('PushTierCertificateFunction');
  });

  it.each([
    [{ meshKeys: false as const, pushTier: {} }, 'ControlPlane: pushTier needs the mesh keys'],
    [{ pushTier: { minTasks: 1 } }, 'XdsServer: minTasks must be a whole number of 2 or more (got 1)'],
    [{ pushTier: { targetStreamsPerTask: 20_000 } }, 'XdsServer: targetStreamsPerTask (20000) must not exceed maxStreamsPerTask (10000)'],
  ])('refuses %j at synth', (props, message) => {
    const stack = new Stack(new App());
    const vpc = new ec2.Vpc(stack, 'Vpc');
    expect(() => new ControlPlane(stack, 'Cp', { ...props, pushTier: { vpc, ...props.pushTier } })).toThrow(message);
  });
});

describe('the example on the push tier (-c pushTier=true): bootstraps that open their ADS stream to the load balancer', () => {
  let template: Template;
  let json: { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };
  beforeAll(() => {
    template = synth(true);
    json = template.toJSON() as typeof json;
  }, 120_000);

  const nlbHost = 'internal-push-0123.elb.eu-west-1.amazonaws.com';
  const urlHost = 'abcdefghijklmnop.lambda-url.eu-west-1.on.aws';
  /** What CloudFormation fills in at deploy time (the hosts and region these tests look at; anything else a word). */
  const deploy = (value: unknown): string =>
    renderJoin(value, (part) => {
      const text = JSON.stringify(part);
      if (text.includes('DNSName')) return nlbHost;
      if (text.includes('FunctionUrl')) return urlHost;
      return text === JSON.stringify({ Ref: 'AWS::Region' }) ? 'eu-west-1' : 'deploy-time-value';
    });
  /** What the node fills in at boot. */
  // What the host does at boot: an ECS task also fills its task definition revision (its stats' tag).
  const boot = (deployed: string): ReturnType<typeof deployAndBoot> =>
    JSON.parse(substitute(deployed, { [placeholders.nodeId]: 'n-1', [placeholders.zone]: 'eu-west-1a', [placeholders.revision]: '7' }));
  function deployAndBoot(value: unknown): Record<string, unknown> & { node: { metadata: Record<string, string> }; static_resources: { clusters: Record<string, unknown>[] } } {
    return boot(deploy(value));
  }
  function expectPushTierBootstrap(bootstrap: ReturnType<typeof deployAndBoot>, service: string): void {
    expect(validateRules(decodeStrict('type.googleapis.com/envoy.config.bootstrap.v3.Bootstrap', bootstrap))).toEqual([]);
    expect(bootstrap.node).toMatchObject({ cluster: service, metadata: { 'mesh.xds': 'ads', 'mesh.sds': 'rest' } });
    const [restCluster, push] = bootstrap.static_resources.clusters as [Record<string, unknown>, Record<string, unknown>];
    expect(JSON.stringify(restCluster)).toContain(`"host_rewrite":"${urlHost}"`);
    expect(push).toMatchObject({
      name: pushTierClusterName,
      load_assignment: { endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: nlbHost, port_value: 443 } } } }] }] },
      transport_socket: { typed_config: { sni: nlbHost, common_tls_context: { tls_certificate_sds_secret_configs: [{ name: `service_certificate_${service}` }] } } },
    });
    expect(JSON.stringify(bootstrap)).not.toMatch(/__MESH_|mesh\.invalid/);
  }

  it('lets the management API answer GET /bootstrap/{service}?tier=grpc with the load balancer’s host', () => {
    const admin = Object.values(json.Resources).find(
      (r) => r.Type === 'AWS::Lambda::Function' && JSON.stringify(r.Properties).includes('PUSH_TIER_HOST'),
    )!;
    const env = (admin.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(env.PUSH_TIER_HOST).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/PushTierLoadBalancer/), 'DNSName'] });
    expect(env.PUSH_TIER_PORT).toBe('443');
    expect(env.XDS_URL).toBeDefined();
  });

  it('puts the ECS task’s sidecar on the push tier: its bootstrap decodes strictly once deployed and booted', () => {
    const task = Object.values(json.Resources).find((r) => r.Type === 'AWS::ECS::TaskDefinition' && JSON.stringify(r.Properties).includes('ENVOY_BOOTSTRAP'))!;
    const envoy = (task.Properties.ContainerDefinitions as { Name: string; Environment: { Name: string; Value: unknown }[] }[]).find((c) => c.Name === 'envoy')!;
    expectPushTierBootstrap(deployAndBoot(envoy.Environment.find((e) => e.Name === 'ENVOY_BOOTSTRAP')!.Value), 'orders');
  });

  it('puts the EC2 instances’ sidecar on the push tier: the bootstrap in their user data decodes strictly once deployed and booted', () => {
    const launchTemplate = Object.values(json.Resources).find((r) => r.Type === 'AWS::EC2::LaunchTemplate')!;
    const userData = (launchTemplate.Properties.LaunchTemplateData as { UserData: { 'Fn::Base64': unknown } }).UserData['Fn::Base64'];
    const text = deploy(userData);
    const start = text.indexOf("<<'MESH_BOOTSTRAP_EOF'\n") + "<<'MESH_BOOTSTRAP_EOF'\n".length;
    expectPushTierBootstrap(boot(text.slice(start, text.indexOf('\nMESH_BOOTSTRAP_EOF', start))), 'payments');
  });

  it('leaves the sidecars on REST without the switch, and refuses tier push where the control plane has no push tier', () => {
    const off = synth(false).toJSON() as typeof json;
    const task = Object.values(off.Resources).find((r) => r.Type === 'AWS::ECS::TaskDefinition' && JSON.stringify(r.Properties).includes('ENVOY_BOOTSTRAP'))!;
    expect(JSON.stringify(task.Properties)).not.toContain(pushTierClusterName);
    const stack = newUnbundledStack();
    const controlPlane = new ControlPlane(stack, 'Cp');
    const orders = new MeshService(stack, 'Orders', { controlPlane, name: 'orders', inboundPort: 15000, appPort: 8080, protocol: 'http' });
    expect(() => sidecarBootstrapJson(controlPlane, orders.spec, { tier: 'push' })).toThrow(/no push tier.*ControlPlaneProps.pushTier/);
  });
});

describe('the push tier image', () => {
  const dynalite = useDynalite();

  it('bundles the push-certificate function, as MeshFunction does, into code that loads and exports its handler', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'push-certificate-'));
    try {
      const outfile = path.join(dir, 'index.js');
      buildSync({
        entryPoints: [functionEntries.pushCertificate],
        outfile,
        bundle: true,
        platform: 'node',
        target: meshBundling.target,
        format: 'cjs',
        alias: { ...lambdaAliases },
        logLevel: 'error',
      });
      const loaded = spawnSync(process.execPath, ['-e', `process.stdout.write(typeof require(${JSON.stringify(outfile)}).handler)`], {
        env: { ...process.env, TABLE_NAME: 'mesh', AWS_REGION: 'us-east-1', CA_KEY_ID: 'arn:aws:kms:us-east-1:111122223333:key/ca' },
        encoding: 'utf8',
      });
      expect({ stdout: loaded.stdout, stderr: loaded.stderr }).toEqual({ stdout: 'function', stderr: '' });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('stages a Dockerfile on an ECR Public base and a bundle that serves ADS from the table and stops gracefully on SIGTERM', async () => {
    const dir = stagePushTierImage();
    const dockerfile = fs.readFileSync(path.join(dir, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^FROM public\.ecr\.aws\//m);
    expect(dockerfile).not.toMatch(/npm (ci|install)/);
    expect(fs.existsSync(path.join(dir, '.envoy-schema', 'envoy.binpb'))).toBe(true);

    const store = await dynalite.newStore();
    await declareService(store, { name: 'payments', inboundPort: 15000, appPort: 8080, protocol: 'http' }, defaultRenderSettings);
    // The bundle alone, outside the repository: nothing resolved from node_modules at run time.
    const child = spawn(process.execPath, [path.join(dir, 'server', 'main.js')], {
      cwd: dir,
      env: { PATH: process.env.PATH, TABLE_NAME: store.tableName, DYNAMODB_ENDPOINT: dynalite.db().endpoint, AWS_REGION: 'us-east-1', GRPC_PORT: '0', HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: string[] = [];
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    let client: AdsTestClient | undefined;
    try {
      const port = await new Promise<number>((resolve, reject) => {
        createInterface({ input: child.stdout }).on('line', (line) => {
          lines.push(line);
          const m = /ADS on 127\.0\.0\.1:(\d+)/.exec(line);
          if (m) resolve(Number(m[1]));
        });
        void exited.then((code) => reject(new Error(`the bundle exited (${code}) before listening`)));
      });
      client = new AdsTestClient(port);
      client.send({ node: { id: 'payments-1', cluster: 'payments' }, type_url: typeUrls.clusters });
      expect((await client.next()).resources?.map((c) => c.name)).toEqual(['local_app']);
      child.kill('SIGTERM');
      expect((await client.ended()).code).toBe(status.OK);
      expect(await exited).toBe(0);
      // Its last words: the metrics of the interval it did not finish, as EMF.
      const emf = lines.filter((l) => l.startsWith('{"_aws"')).map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(emf.at(-1)).toMatchObject({ service: 'push', Pushes: 1 });
    } finally {
      client?.close();
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 120_000);
});
