import { Duration } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { defaultEnvoyImage } from './ec2';
import { placeholders } from './placeholders';

export interface EcsSidecarOptions {
  /** The bootstrap JSON, with the node id and zone placeholders still in it. */
  readonly bootstrapJson: string;
  /** Where Envoy accepts mesh traffic (the spec's inboundPort). */
  readonly inboundPort: number;
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
  /** Seconds Envoy drains on a hot restart. @default 30 */
  readonly drainTimeSeconds?: number;
}

/**
 * envoyStartScript writes the bootstrap (from ENVOY_BOOTSTRAP: ECS has no file mounts
 * without volumes) with this task's id as node id and its zone, read from the task metadata
 * endpoint v4, then execs Envoy. bash's /dev/tcp does the HTTP GET: the image has no curl.
 */
export function envoyStartScript(drainTimeSeconds: number, configPath = '/tmp/envoy.json'): string {
  return [
    'set -euo pipefail',
    'meta="${ECS_CONTAINER_METADATA_URI_V4#http://}"',
    'authority="${meta%%/*}"',
    'host="${authority%%:*}"',
    'port=80',
    '[ "$host" = "$authority" ] || port="${authority##*:}"',
    'exec 3<>"/dev/tcp/$host/$port"',
    'printf "GET /%s/task HTTP/1.0\\r\\nHost: %s\\r\\n\\r\\n" "${meta#*/}" "$authority" >&3',
    'task=$(cat <&3)',
    'exec 3<&-',
    `task_arn=$(printf '%s' "$task" | grep -o '"TaskARN":"[^"]*"' | head -n1 | cut -d'"' -f4 || true)`,
    `zone=$(printf '%s' "$task" | grep -o '"AvailabilityZone":"[^"]*"' | head -n1 | cut -d'"' -f4 || true)`,
    'test -n "$task_arn" || { echo "no TaskARN in the task metadata" >&2; exit 1; }',
    // The node id is the task id (the ARN's last segment), as the management API expects.
    `printf '%s' "$ENVOY_BOOTSTRAP" | sed -e "s|${placeholders.nodeId}|\${task_arn##*/}|g" -e "s|${placeholders.zone}|$zone|g" > ${configPath}`,
    `exec envoy -c ${configPath} --drain-time-s ${drainTimeSeconds}`,
  ].join('\n');
}

/** envoyReadyCheck asks the admin endpoint's /ready (200 once Envoy is LIVE), with bash only. */
export function envoyReadyCheck(adminPort: number): string {
  return `exec 3<>/dev/tcp/127.0.0.1/${adminPort} && printf 'GET /ready HTTP/1.0\\r\\n\\r\\n' >&3 && head -n1 <&3 | grep -q ' 200 '`;
}

/**
 * addEnvoySidecar adds an Envoy container to a task definition: essential (the task is
 * useless without its proxy), listening on the service's inbound port, healthy when its
 * admin /ready says LIVE, and started before the payload, which waits for HEALTHY.
 */
export function addEnvoySidecar(taskDefinition: ecs.TaskDefinition, options: EcsSidecarOptions): ecs.ContainerDefinition {
  const adminPort = options.adminPort ?? 9901;
  const appContainers = options.appContainers ?? (taskDefinition.defaultContainer ? [taskDefinition.defaultContainer] : []);
  const envoy = taskDefinition.addContainer('envoy', {
    containerName: 'envoy',
    image: ecs.ContainerImage.fromRegistry(options.image ?? defaultEnvoyImage),
    essential: true,
    memoryReservationMiB: options.memoryReservationMiB ?? 128,
    // The image's entrypoint drops to the envoy user (ENVOY_UID) and runs this.
    command: ['/bin/bash', '-c', envoyStartScript(options.drainTimeSeconds ?? 30)],
    environment: { ENVOY_BOOTSTRAP: options.bootstrapJson, ENVOY_UID: '101' },
    portMappings: [{ containerPort: options.inboundPort, protocol: ecs.Protocol.TCP, name: 'mesh' }],
    healthCheck: {
      command: ['CMD', '/bin/bash', '-c', envoyReadyCheck(adminPort)],
      interval: Duration.seconds(5),
      timeout: Duration.seconds(2),
      retries: 3,
      // The first xDS answers (CDS, EDS, LDS) arrive before /ready turns 200: give a cold start room.
      startPeriod: Duration.seconds(30),
    },
    logging: ecs.LogDrivers.awsLogs({ streamPrefix: 'envoy' }),
    stopTimeout: Duration.seconds(Math.min(120, (options.drainTimeSeconds ?? 30) + 5)),
  });
  for (const app of appContainers) {
    if (app === envoy) continue;
    app.addContainerDependencies({ container: envoy, condition: ecs.ContainerDependencyCondition.HEALTHY });
  }
  return envoy;
}
