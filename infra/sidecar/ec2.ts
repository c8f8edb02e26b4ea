import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { bootstrapDefaults } from '../../shared/bootstrap/envoy-bootstrap';
import { placeholders } from './placeholders';
import { defaultEnvoyImage } from './image';
import { envoyEntrypoint, envoyHealthCheck } from './scripts';
import { TelemetryAgent } from './telemetry';

/**
 * CA bundles Envoy may verify the front door's certificate with, in the order tried at boot:
 * Debian and Ubuntu (the official image), then Amazon Linux 2023 and 2 (both ship
 * /etc/pki/tls/certs/ca-bundle.crt; /etc/ssl/certs/ca-bundle.crt links to it).
 */
export const caBundleCandidates = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt', '/etc/ssl/certs/ca-bundle.crt'] as const;

export interface Ec2SidecarOptions {
  /** The bootstrap JSON, with the node id and zone placeholders still in it. */
  readonly bootstrapJson: string;
  /** The mesh service the instance runs (for the unit's description and the container name). */
  readonly service: string;
  /** The Envoy image to run with Docker. Ignored when `envoyBinary` is set. @default defaultEnvoyImage */
  readonly image?: string;
  /** Run this Envoy binary directly instead of a container (e.g. baked into the AMI). @default - run `image` with Docker */
  readonly envoyBinary?: string;
  /** Seconds the node drains on stop (health failing, listeners draining) before Envoy stops: the service's drainSeconds. @default 30 */
  readonly drainTimeSeconds?: number;
  /** Envoy's admin port (localhost), which the health check and the drain use. @default 9901 */
  readonly adminPort?: number;
  /**
   * The CloudWatch Logs group Envoy's container logs go to (Docker's awslogs driver; the
   * instance role needs logs:CreateLogStream and logs:PutLogEvents on it). A binary's logs go
   * to the journal. @default - Docker's default log driver (the journal of the host)
   */
  readonly logGroupName?: string;
  /** How long boot waits for Envoy to have configuration from the control plane. @default 240 */
  readonly readyTimeoutSeconds?: number;
  /**
   * Agents that carry Envoy's metrics and traces (telemetry.ts), run with Docker on the host
   * network before Envoy starts, restarted by Docker; their logs go where Envoy's do. @default - none
   */
  readonly agents?: readonly TelemetryAgent[];
}

/**
 * envoyUserDataCommands returns the shell lines that make an instance a mesh node at boot:
 * read its instance id, zone and region from IMDSv2, write /etc/envoy/envoy.json from the
 * bootstrap rendered at synth time (with the CA bundle this OS has), install the sidecar
 * entrypoint and health check, and run Envoy as a systemd unit (restarted if it dies) that
 * counts as started only once Envoy has configuration from the control plane, and drains on
 * stop (SIGTERM to the entrypoint).
 *
 * Docker runs with the host network: Envoy must reach IMDS for the instance role's
 * credentials (with IMDSv2's default hop limit of 1 a bridged container cannot) and the
 * payload on localhost.
 */
export function envoyUserDataCommands(options: Ec2SidecarOptions): string[] {
  const drain = options.drainTimeSeconds ?? 30;
  const adminPort = options.adminPort ?? bootstrapDefaults.adminPort;
  const readyTimeout = options.readyTimeoutSeconds ?? 240;
  const container = `envoy-${options.service}`;
  const logging = options.logGroupName
    ? ` --log-driver awslogs --log-opt awslogs-region=$REGION --log-opt awslogs-group=${options.logGroupName} --log-opt awslogs-stream=envoy/$INSTANCE_ID`
    : '';
  const runEnvoy = options.envoyBinary
    ? [`exec ${options.envoyBinary} "\\$@"`]
    : [`exec /usr/bin/docker run --rm --name ${container} --network host -v /etc/envoy:/etc/envoy:ro${logging} ${options.image ?? defaultEnvoyImage} "\\$@"`];
  const agents = options.agents ?? [];
  const installDocker =
    options.envoyBinary && agents.length === 0
      ? []
      : ['command -v docker >/dev/null || dnf install -y docker || yum install -y docker', 'systemctl enable --now docker'];
  return [
    'set -euo pipefail',
    `IMDS_TOKEN=$(curl -sfS -X PUT http://169.254.169.254/latest/api/token -H 'X-aws-ec2-metadata-token-ttl-seconds: 300')`,
    `imds() { curl -sfS -H "X-aws-ec2-metadata-token: $IMDS_TOKEN" "http://169.254.169.254/latest/meta-data/$1"; }`,
    'INSTANCE_ID=$(imds instance-id)',
    'ZONE=$(imds placement/availability-zone)',
    'REGION=$(imds placement/region)',
    'install -d -m 0755 /etc/envoy',
    // A quoted here-document: the JSON is written byte for byte, nothing in it is expanded.
    "cat > /etc/envoy/envoy.template.json <<'MESH_BOOTSTRAP_EOF'",
    options.bootstrapJson,
    'MESH_BOOTSTRAP_EOF',
    // Inside the official image the bootstrap's default bundle exists; a binary on the host uses the host's.
    options.envoyBinary
      ? `CA_BUNDLE=$(for f in ${caBundleCandidates.join(' ')}; do if [ -r "$f" ]; then echo "$f"; break; fi; done)`
      : `CA_BUNDLE=${bootstrapDefaults.caBundlePath}`,
    'test -n "$CA_BUNDLE" || { echo "envoy: no CA bundle found for the control plane\'s certificate" >&2; exit 1; }',
    `sed -e "s|${placeholders.nodeId}|$INSTANCE_ID|g" -e "s|${placeholders.zone}|$ZONE|g" -e "s|${bootstrapDefaults.caBundlePath}|$CA_BUNDLE|g" /etc/envoy/envoy.template.json > /etc/envoy/envoy.json`,
    'chmod 0644 /etc/envoy/envoy.json',
    ...installDocker,
    ...agents.flatMap((agent) => agentCommands(agent, options.logGroupName)),
    // Unquoted: region and instance id are filled in now; "$@" (escaped) is Envoy's arguments.
    'cat > /usr/local/bin/mesh-envoy-run <<MESH_RUN_EOF',
    '#!/bin/bash',
    ...runEnvoy,
    'MESH_RUN_EOF',
    "cat > /usr/local/bin/mesh-envoy <<'MESH_ENTRYPOINT_EOF'",
    '#!/bin/bash',
    envoyEntrypoint({ drainSeconds: drain, adminPort, configPath: '/etc/envoy/envoy.json', envoyCommand: '/usr/local/bin/mesh-envoy-run' }),
    'MESH_ENTRYPOINT_EOF',
    "cat > /usr/local/bin/mesh-envoy-health <<'MESH_HEALTH_EOF'",
    '#!/bin/bash',
    envoyHealthCheck(adminPort),
    'MESH_HEALTH_EOF',
    "cat > /usr/local/bin/mesh-envoy-wait-ready <<'MESH_WAIT_EOF'",
    '#!/bin/bash',
    `for _ in $(seq 1 ${Math.ceil(readyTimeout / 2)}); do /usr/local/bin/mesh-envoy-health && exit 0; sleep 2; done`,
    `echo "envoy: no configuration from the control plane after ${readyTimeout} s: are its polls refused (is the instance role bound to the service)? see the Envoy log" >&2`,
    'exit 1',
    'MESH_WAIT_EOF',
    'chmod 0755 /usr/local/bin/mesh-envoy-run /usr/local/bin/mesh-envoy /usr/local/bin/mesh-envoy-health /usr/local/bin/mesh-envoy-wait-ready',
    "cat > /etc/systemd/system/envoy.service <<'MESH_UNIT_EOF'",
    '[Unit]',
    `Description=Envoy sidecar of mesh service ${options.service}`,
    'Wants=network-online.target',
    `After=network-online.target${options.envoyBinary ? '' : ' docker.service'}`,
    ...(options.envoyBinary ? [] : ['Requires=docker.service']),
    '[Service]',
    'Restart=always',
    'RestartSec=2',
    ...(options.envoyBinary ? [] : [`ExecStartPre=-/usr/bin/docker rm -f ${container}`]),
    'ExecStart=/usr/local/bin/mesh-envoy',
    // Started means configured: units ordered after this one start once Envoy has its config.
    'ExecStartPost=/usr/local/bin/mesh-envoy-wait-ready',
    `TimeoutStartSec=${readyTimeout + 30}`,
    // SIGTERM reaches the entrypoint only, which drains, then stops Envoy.
    'KillMode=mixed',
    `TimeoutStopSec=${drain + 30}`,
    '[Install]',
    'WantedBy=multi-user.target',
    'MESH_UNIT_EOF',
    'systemctl daemon-reload',
    'systemctl enable --now envoy.service',
  ];
}

/**
 * agentCommands start one telemetry agent with Docker: its environment written byte for byte to
 * an env file (a quoted here-document: JSON values need no escaping), the host network so it
 * listens on the loopback Envoy sends to, and a restart policy so it comes back after a reboot.
 */
function agentCommands(agent: TelemetryAgent, logGroupName: string | undefined): string[] {
  const container = `mesh-${agent.name}`;
  const envFile = `/etc/mesh/${agent.name}.env`;
  const logging = logGroupName
    ? ` --log-driver awslogs --log-opt awslogs-region=$REGION --log-opt awslogs-group=${logGroupName} --log-opt awslogs-stream=${agent.name}/$INSTANCE_ID`
    : '';
  const args = agent.command.map((a) => ` '${a}'`).join('');
  return [
    'install -d -m 0755 /etc/mesh',
    `cat > ${envFile} <<'MESH_AGENT_ENV_EOF'`,
    ...Object.entries(agent.environment).map(([k, v]) => `${k}=${v}`),
    'MESH_AGENT_ENV_EOF',
    `/usr/bin/docker rm -f ${container} >/dev/null 2>&1 || true`,
    `/usr/bin/docker run -d --restart unless-stopped --name ${container} --network host --env-file ${envFile}${logging} ${agent.image}${args}`,
  ];
}

/** addEnvoyToUserData appends the Envoy set-up to an instance's (or launch template's) user data. */
export function addEnvoyToUserData(userData: ec2.UserData, options: Ec2SidecarOptions): void {
  userData.addCommands(...envoyUserDataCommands(options));
}
