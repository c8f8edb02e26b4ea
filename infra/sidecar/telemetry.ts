import { Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { BootstrapTelemetry } from '../../shared/render/stats';

/**
 * The agents beside Envoy that carry its telemetry to AWS, as plain descriptions the ECS and
 * EC2 helpers turn into containers: the CloudWatch agent (StatsD in, CloudWatch metrics out),
 * the X-Ray daemon (segments over UDP in, X-Ray out) and the AWS Distro for OpenTelemetry
 * collector (OTLP over gRPC in, X-Ray out). Each listens on loopback only, at the port the
 * service's bootstrap and listeners name, and needs a few permissions on the node's role.
 */

/** dataPlaneMetricsNamespace is where the sidecars' metrics land (the control plane's own are in EnvoyControlPlane). */
export const dataPlaneMetricsNamespace = 'EnvoyMesh';

/**
 * The agents' default images, from Amazon ECR Public (no Docker Hub rate limits). Tagged
 * `latest` because this repository cannot check a release offline: pin a version or digest in
 * production (`TelemetryAgentOptions.images`).
 */
export const defaultTelemetryImages = {
  cloudWatchAgent: 'public.ecr.aws/cloudwatch-agent/cloudwatch-agent:latest',
  xrayDaemon: 'public.ecr.aws/xray/aws-xray-daemon:latest',
  otelCollector: 'public.ecr.aws/aws-observability/aws-otel-collector:latest',
} as const;

export interface TelemetryAgentOptions {
  /** Other images for the agents (a pinned version, a mirror). @default defaultTelemetryImages */
  readonly images?: Partial<Record<keyof typeof defaultTelemetryImages, string>>;
  /** The CloudWatch namespace of the sidecars' metrics. @default dataPlaneMetricsNamespace */
  readonly metricsNamespace?: string;
}

/** TelemetryAgent is one agent container: what runs, its configuration, and what its role may do. */
export interface TelemetryAgent {
  readonly name: 'cloudwatch-agent' | 'xray-daemon' | 'otel-collector';
  readonly image: string;
  readonly environment: Readonly<Record<string, string>>;
  readonly command: readonly string[];
  /** The IAM statements the node's role needs for it. */
  readonly statements: readonly iam.PolicyStatementProps[];
}

/**
 * cloudWatchAgentConfig is the agent's configuration: StatsD on loopback, aggregated to one data
 * point a minute per metric. The host name is left out of the dimensions: on ECS it is the task,
 * and a dimension per task would make every metric a metric per task.
 */
export function cloudWatchAgentConfig(statsdPort: number, namespace: string): Record<string, unknown> {
  return {
    agent: { omit_hostname: true },
    metrics: {
      namespace,
      metrics_collected: {
        statsd: { service_address: `127.0.0.1:${statsdPort}`, metrics_collection_interval: 10, metrics_aggregation_interval: 60 },
      },
    },
  };
}

/** otelCollectorConfig is the collector's configuration (JSON is YAML): OTLP over gRPC on loopback in, X-Ray out. */
export function otelCollectorConfig(port: number): Record<string, unknown> {
  return {
    receivers: { otlp: { protocols: { grpc: { endpoint: `127.0.0.1:${port}` } } } },
    processors: { batch: { timeout: '1s' } },
    exporters: { awsxray: {} },
    service: { pipelines: { traces: { receivers: ['otlp'], processors: ['batch'], exporters: ['awsxray'] } } },
  };
}

const xrayWrite: iam.PolicyStatementProps = {
  // X-Ray has no resource-level permissions for these: '*' is the only resource they take.
  actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords', 'xray:GetSamplingRules', 'xray:GetSamplingTargets', 'xray:GetSamplingStatisticSummaries'],
  resources: ['*'],
};

/**
 * telemetryAgents lists the agents a node of a service needs for its observability (none
 * without metrics or tracing), each configured for the ports its bootstrap names. `region` is
 * where the X-Ray daemon sends (Fargate has no instance metadata to tell it).
 */
export function telemetryAgents(telemetry: BootstrapTelemetry, region: string, options: TelemetryAgentOptions = {}): TelemetryAgent[] {
  const images = { ...defaultTelemetryImages, ...options.images };
  const namespace = options.metricsNamespace ?? dataPlaneMetricsNamespace;
  const agents: TelemetryAgent[] = [];
  if (telemetry.metrics) {
    agents.push({
      name: 'cloudwatch-agent',
      image: images.cloudWatchAgent,
      environment: { CW_CONFIG_CONTENT: JSON.stringify(cloudWatchAgentConfig(telemetry.metrics.statsdPort, namespace)) },
      command: [],
      statements: [{ actions: ['cloudwatch:PutMetricData'], resources: ['*'], conditions: { StringEquals: { 'cloudwatch:namespace': namespace } } }],
    });
  }
  const tracing = telemetry.tracing;
  if (tracing?.provider === 'xray') {
    const address = `127.0.0.1:${tracing.collectorPort}`;
    agents.push({
      name: 'xray-daemon',
      image: images.xrayDaemon,
      environment: { AWS_REGION: region },
      command: ['--bind', address, '--bind-tcp', address, '--region', region],
      statements: [xrayWrite],
    });
  } else if (tracing?.provider === 'opentelemetry') {
    agents.push({
      name: 'otel-collector',
      image: images.otelCollector,
      environment: { AOT_CONFIG_CONTENT: JSON.stringify(otelCollectorConfig(tracing.collectorPort)), AWS_REGION: region },
      command: [],
      statements: [xrayWrite],
    });
  }
  return agents;
}

/** grantTelemetry gives a node's role what its agents need to send. */
export function grantTelemetry(role: iam.IRole, agents: readonly TelemetryAgent[]): void {
  for (const agent of agents) for (const statement of agent.statements) role.addToPrincipalPolicy(new iam.PolicyStatement(statement));
  if (agents.length === 0) return;
  Validations.of(role).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason:
      'The telemetry agents send with actions that take no resource: PutMetricData is held to the sidecar namespace by its condition, and X-Ray writes and sampling reads have no resource-level permissions',
  });
}
