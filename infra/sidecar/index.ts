import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { Stack } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import { bootstrapTelemetry } from '../../shared/render/stats';
import type { ControlPlane } from '../control-plane';
import type { MeshService } from '../mesh-service';
import { SidecarTier, sidecarBootstrapJson } from './bootstrap';
import { placeholders } from './placeholders';
import { Ec2SidecarOptions, addEnvoyToUserData } from './ec2';
import { EcsSidecarOptions, addEnvoySidecar } from './ecs';
import { checkEnvoyImage, defaultEnvoyImage } from './image';
import { addAccessLogQueries } from './access-logs';
import { TelemetryAgentOptions, grantTelemetry, telemetryAgents } from './telemetry';
import { isTransparent } from '../../shared/render/transparent';
import { addTransparentProxyConfiguration, envoyUserDropInCommands, refuseTransparentTask, transparentUserDataCommands } from './transparent';

export { envoyUserDataCommands } from './ec2';
export { checkEnvoyImage, defaultEnvoyImage } from './image';
export { maxEcsDrainSeconds } from './ecs';
export { envoyEntrypoint, envoyHealthCheck } from './scripts';
export { placeholders } from './placeholders';
export { sidecarBootstrapJson } from './bootstrap';
export { meshRedirectScript } from './scripts';
export { transparentProxyConfiguration, transparentUserDataCommands, redirectUnit } from './transparent';
export type { SidecarTier } from './bootstrap';
export { accessLogQueries, accessLogQueryText, addAccessLogQueries } from './access-logs';
export { dataPlaneMetricsNamespace, defaultTelemetryImages, telemetryAgents } from './telemetry';
export type { TelemetryAgentOptions } from './telemetry';

export interface MeshSidecarOptions {
  readonly controlPlane: ControlPlane;
  readonly service: MeshService;
  /**
   * Poll the front door over IPv6 (the xDS cluster resolves it with `dns_lookup_family: AUTO`).
   * Function URLs are dual-stack; from dual-stack subnets with an egress-only internet gateway
   * the polls then skip the NAT gateway and its per-GB charge (docs/cost.md, "Data transfer").
   * Only where IPv6 egress exists: Envoy does not fall back to IPv4. @default false
   */
  readonly pollOverIpv6?: boolean;
  /**
   * `rest` polls the front door; `push` holds one ADS stream to the control plane's push tier
   * (it must have one: ControlPlaneProps.pushTier) over mutual TLS, the node's certificate and
   * secrets still polled from the front door, so the role is granted and bound as for `rest`.
   * The node must reach the push tier's load balancer (PushTierOptions.allowFrom). @default 'rest'
   */
  readonly tier?: SidecarTier;
  /**
   * The agents that carry the service's metrics and traces when its observability (or the
   * mesh's default) turns them on: the CloudWatch agent, the X-Ray daemon or the OpenTelemetry
   * collector, beside Envoy, with the role allowed to send. @default - the default images
   */
  readonly telemetryAgents?: TelemetryAgentOptions;
}

/**
 * addMeshSidecar makes an ECS task a node of a mesh service: an Envoy container with the
 * service's bootstrap, the task role's permission to poll the front door, and that role bound
 * to the service's identity (its polls get this service's configuration, and only those).
 */
export function addMeshSidecar(
  taskDefinition: ecs.TaskDefinition,
  options: MeshSidecarOptions & Omit<EcsSidecarOptions, 'bootstrapJson' | 'inboundPort' | 'externalPort' | 'agents'>,
): ecs.ContainerDefinition {
  const { controlPlane, service, pollOverIpv6, tier, telemetryAgents: agentOptions, ...rest } = options;
  refuseNetworkModeWithoutLocalhost(taskDefinition);
  if (isTransparent(service.spec)) refuseTransparentTask(taskDefinition, service.spec);
  controlPlane.grantPoll(taskDefinition.taskRole);
  service.bindNodeRole(taskDefinition.taskRole);
  const agents = telemetryAgents(bootstrapTelemetry(service.spec, controlPlane.renderSettings), Stack.of(taskDefinition).region, agentOptions);
  grantTelemetry(taskDefinition.taskRole, agents);
  // Envoy's access log is its stdout: a group of our own (a month), with the saved queries beside it.
  const logGroup = rest.logGroup ?? new logs.LogGroup(taskDefinition, 'EnvoyLogs', { retention: logs.RetentionDays.ONE_MONTH });
  if (!rest.logGroup) addAccessLogQueries(taskDefinition, service.serviceName, logGroup);
  const envoy = addEnvoySidecar(taskDefinition, {
    drainTimeSeconds: service.drainSeconds,
    ...rest,
    logGroup,
    agents,
    // The task's stats carry its task definition revision, the `revision` label its endpoint has.
    bootstrapJson: sidecarBootstrapJson(controlPlane, service.spec, { adminPort: rest.adminPort, pollOverIpv6, tier, statsLabels: { revision: placeholders.revision } }),
    inboundPort: service.spec.inboundPort,
    ...(service.spec.inbound?.external ? { externalPort: service.spec.inbound.external.port } : {}),
  });
  // Transparent mode: the task's traffic is redirected through Envoy (sidecar/transparent.ts).
  if (isTransparent(service.spec)) addTransparentProxyConfiguration(taskDefinition, service.spec, envoy);
  return envoy;
}

/**
 * addMeshUserData makes the instances of a launch template nodes of a mesh service: Envoy
 * started from user data, the instance role's permission to poll the front door, and that
 * role bound to the service's identity.
 */
export function addMeshUserData(
  launchTemplate: ec2.LaunchTemplate,
  options: MeshSidecarOptions &
    Omit<Ec2SidecarOptions, 'bootstrapJson' | 'service' | 'logGroupName' | 'agents'> & {
      /**
       * Where Envoy's container logs go. @default - a new log group (one month), the instance
       * role allowed to write to it; ignored with `envoyBinary` (its logs go to the journal)
       */
      readonly logGroup?: logs.ILogGroup;
    },
): void {
  const { controlPlane, service, adminPort, logGroup, pollOverIpv6, tier, telemetryAgents: agentOptions, ...rest } = options;
  if (!launchTemplate.userData) throw new Error('addMeshUserData: the launch template has no user data (pass userData when creating it)');
  if (!launchTemplate.role) throw new Error('addMeshUserData: the launch template has no role (pass role when creating it)');
  controlPlane.grantPoll(launchTemplate.role);
  service.bindNodeRole(launchTemplate.role);
  const agents = telemetryAgents(bootstrapTelemetry(service.spec, controlPlane.renderSettings), Stack.of(launchTemplate).region, agentOptions);
  grantTelemetry(launchTemplate.role, agents);
  let logGroupName: string | undefined;
  if (!rest.envoyBinary) {
    checkEnvoyImage(launchTemplate, rest.image ?? defaultEnvoyImage);
    const group = logGroup ?? new logs.LogGroup(launchTemplate, 'EnvoyLogs', { retention: logs.RetentionDays.ONE_MONTH });
    group.grantWrite(launchTemplate.role);
    if (!logGroup) addAccessLogQueries(launchTemplate, service.serviceName, group);
    logGroupName = group.logGroupName;
  }
  // Transparent mode: a host's Envoy binary runs as the UID the redirection leaves alone.
  if (isTransparent(service.spec) && rest.envoyBinary) launchTemplate.userData.addCommands(...envoyUserDropInCommands());
  addEnvoyToUserData(launchTemplate.userData, {
    drainTimeSeconds: service.drainSeconds,
    adminPort,
    ...(logGroupName ? { logGroupName } : {}),
    ...rest,
    service: service.serviceName,
    bootstrapJson: sidecarBootstrapJson(controlPlane, service.spec, { adminPort, pollOverIpv6, tier }),
    agents,
  });
  if (isTransparent(service.spec)) launchTemplate.userData.addCommands(...transparentUserDataCommands(service.spec));
}

/**
 * refuseNetworkModeWithoutLocalhost: the mesh's model is that the payload and its Envoy share
 * localhost (the payload calls 127.0.0.1:<localPort>, Envoy forwards to 127.0.0.1:<appPort>).
 * In bridge mode every container has its own network namespace, so neither works; awsvpc
 * (Fargate's only mode) and host mode share one.
 */
function refuseNetworkModeWithoutLocalhost(taskDefinition: ecs.TaskDefinition): void {
  const mode = taskDefinition.networkMode;
  if (mode === ecs.NetworkMode.AWS_VPC || mode === ecs.NetworkMode.HOST) return;
  throw new Error(
    `addMeshSidecar: task definition ${taskDefinition.node.path} uses network mode "${mode}", where containers do not share localhost ` +
      'and the payload cannot reach its Envoy; use awsvpc (networkMode: ecs.NetworkMode.AWS_VPC) or host',
  );
}
