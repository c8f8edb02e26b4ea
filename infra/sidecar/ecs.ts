import { Duration } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { checkEnvoyImage, defaultEnvoyImage } from './image';
import { envoyEntrypoint, envoyHealthCheck } from './scripts';
import { TelemetryAgent } from './telemetry';

export interface EcsSidecarOptions {
  /** The bootstrap JSON, with the node id and zone placeholders still in it. */
  readonly bootstrapJson: string;
  /** Where Envoy accepts mesh traffic (the spec's inboundPort). */
  readonly inboundPort: number;
  /** Where Envoy accepts traffic from a load balancer (the spec's inbound.external.port). @default - none */
  readonly externalPort?: number;
  /** Envoy's admin port, on localhost only; the health check reads /ready there. @default 9901 */
  readonly adminPort?: number;
  /** The payload containers that start once Envoy is ready. @default - the task's default container */
  readonly appContainers?: readonly ecs.ContainerDefinition[];
  /**
   * The Envoy image. It must have bash (the start script and the health check use it): the
   * official image does; its distroless variant has no shell at all. @default defaultEnvoyImage
   */
  readonly image?: string;
  /** @default 128 */
  readonly memoryReservationMiB?: number;
  /**
   * Seconds the sidecar drains after SIGTERM (health check failing, listeners draining) before
   * Envoy stops: the service's drainSeconds. ECS gives a container at most 120 s after SIGTERM
   * (stopTimeout), so the drain is capped at 115 s. @default 30
   */
  readonly drainTimeSeconds?: number;
  /** Where Envoy's output (its JSON access log and its own log) and the agents' go. @default - a group the log driver creates */
  readonly logGroup?: logs.ILogGroup;
  /**
   * Agents that carry Envoy's metrics and traces (telemetry.ts): each a non-essential container
   * beside Envoy, sharing its loopback (awsvpc or host networking). @default - none
   */
  readonly agents?: readonly TelemetryAgent[];
}

/** The longest drain ECS allows: stopTimeout is at most 120 s, and Envoy needs a moment to stop. */
export const maxEcsDrainSeconds = 115;

/**
 * addEnvoySidecar adds an Envoy container to a task definition: essential (the task is
 * useless without its proxy), listening on the service's inbound port, healthy only once it
 * has configuration from the control plane (envoy-health.sh), started before the payload,
 * which waits for HEALTHY, and drained on stop (envoy-entrypoint.sh).
 */
export function addEnvoySidecar(taskDefinition: ecs.TaskDefinition, options: EcsSidecarOptions): ecs.ContainerDefinition {
  const adminPort = options.adminPort ?? 9901;
  const drainSeconds = Math.min(options.drainTimeSeconds ?? 30, maxEcsDrainSeconds);
  const appContainers = options.appContainers ?? (taskDefinition.defaultContainer ? [taskDefinition.defaultContainer] : []);
  const envoy = taskDefinition.addContainer('envoy', {
    containerName: 'envoy',
    image: ecs.ContainerImage.fromRegistry(checkEnvoyImage(taskDefinition, options.image ?? defaultEnvoyImage)),
    essential: true,
    memoryReservationMiB: options.memoryReservationMiB ?? 128,
    // The image's entrypoint drops to the envoy user (ENVOY_UID) and runs this.
    command: ['/bin/bash', '-c', envoyEntrypoint({ drainSeconds, adminPort, configPath: '/tmp/envoy.json' })],
    environment: { ENVOY_BOOTSTRAP: options.bootstrapJson, ENVOY_UID: '101' },
    portMappings: [
      { containerPort: options.inboundPort, protocol: ecs.Protocol.TCP, name: 'mesh' },
      ...(options.externalPort !== undefined ? [{ containerPort: options.externalPort, protocol: ecs.Protocol.TCP, name: 'external' }] : []),
    ],
    healthCheck: {
      command: ['CMD', '/bin/bash', '-c', envoyHealthCheck(adminPort)],
      interval: Duration.seconds(5),
      timeout: Duration.seconds(2),
      retries: 3,
      // The first xDS answers (CDS, EDS, LDS) must arrive and be applied: give a cold start room.
      startPeriod: Duration.seconds(30),
    },
    logging: ecs.LogDrivers.awsLogs({ streamPrefix: 'envoy', ...(options.logGroup ? { logGroup: options.logGroup } : {}) }),
    // SIGTERM starts the drain; ECS kills the container after stopTimeout.
    stopTimeout: Duration.seconds(drainSeconds + 5),
  });
  for (const agent of options.agents ?? []) {
    // Not essential: a failed agent costs metrics or traces, never the task's traffic; and Envoy
    // does not wait for it (StatsD and X-Ray segments are UDP, fire and forget; OTLP export retries).
    taskDefinition.addContainer(agent.name, {
      containerName: agent.name,
      image: ecs.ContainerImage.fromRegistry(agent.image),
      essential: false,
      memoryReservationMiB: 64,
      environment: { ...agent.environment },
      ...(agent.command.length > 0 ? { command: [...agent.command] } : {}),
      logging: ecs.LogDrivers.awsLogs({ streamPrefix: agent.name, ...(options.logGroup ? { logGroup: options.logGroup } : {}) }),
    });
  }
  for (const app of appContainers) {
    if (app === envoy) continue;
    app.addContainerDependencies({ container: envoy, condition: ecs.ContainerDependencyCondition.HEALTHY });
  }
  return envoy;
}
