import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { placeholders } from './placeholders';

/** The official Envoy image, pinned; the same tag the tests' fixtures use. */
export const defaultEnvoyImage = 'envoyproxy/envoy:v1.36.2';

export interface Ec2SidecarOptions {
  /** The bootstrap JSON, with the node id and zone placeholders still in it. */
  readonly bootstrapJson: string;
  /** The mesh service the instance runs (for the unit's description and the container name). */
  readonly service: string;
  /** The Envoy image to run with Docker. Ignored when `envoyBinary` is set. @default defaultEnvoyImage */
  readonly image?: string;
  /** Run this Envoy binary directly instead of a container (e.g. baked into the AMI). @default - run `image` with Docker */
  readonly envoyBinary?: string;
  /** Seconds Envoy drains on a hot restart. @default 30 */
  readonly drainTimeSeconds?: number;
}

/**
 * envoyUserDataCommands returns the shell lines that make an instance a mesh node at boot:
 * read its instance id and zone from IMDSv2, write /etc/envoy/envoy.json from the bootstrap
 * rendered at synth time, and run Envoy as a systemd unit (restarted if it dies).
 *
 * Docker runs with the host network: Envoy must reach IMDS for the instance role's
 * credentials (with IMDSv2's default hop limit of 1 a bridged container cannot) and the
 * payload on localhost.
 */
export function envoyUserDataCommands(options: Ec2SidecarOptions): string[] {
  const drain = options.drainTimeSeconds ?? 30;
  const envoyArgs = `-c /etc/envoy/envoy.json --drain-time-s ${drain}`;
  const container = `envoy-${options.service}`;
  const exec = options.envoyBinary
    ? [`ExecStart=${options.envoyBinary} ${envoyArgs}`]
    : [
        `ExecStartPre=-/usr/bin/docker rm -f ${container}`,
        `ExecStart=/usr/bin/docker run --rm --name ${container} --network host -v /etc/envoy:/etc/envoy:ro ${options.image ?? defaultEnvoyImage} ${envoyArgs}`,
        `ExecStop=/usr/bin/docker stop --time ${drain} ${container}`,
      ];
  const installDocker = options.envoyBinary
    ? []
    : ['command -v docker >/dev/null || dnf install -y docker || yum install -y docker', 'systemctl enable --now docker'];
  return [
    'set -euo pipefail',
    `IMDS_TOKEN=$(curl -sfS -X PUT http://169.254.169.254/latest/api/token -H 'X-aws-ec2-metadata-token-ttl-seconds: 300')`,
    `imds() { curl -sfS -H "X-aws-ec2-metadata-token: $IMDS_TOKEN" "http://169.254.169.254/latest/meta-data/$1"; }`,
    'INSTANCE_ID=$(imds instance-id)',
    'ZONE=$(imds placement/availability-zone)',
    'install -d -m 0755 /etc/envoy',
    // A quoted here-document: the JSON is written byte for byte, nothing in it is expanded.
    "cat > /etc/envoy/envoy.template.json <<'MESH_BOOTSTRAP_EOF'",
    options.bootstrapJson,
    'MESH_BOOTSTRAP_EOF',
    `sed -e "s|${placeholders.nodeId}|$INSTANCE_ID|g" -e "s|${placeholders.zone}|$ZONE|g" /etc/envoy/envoy.template.json > /etc/envoy/envoy.json`,
    'chmod 0644 /etc/envoy/envoy.json',
    ...installDocker,
    "cat > /etc/systemd/system/envoy.service <<'MESH_UNIT_EOF'",
    '[Unit]',
    `Description=Envoy sidecar of mesh service ${options.service}`,
    'Wants=network-online.target',
    `After=network-online.target${options.envoyBinary ? '' : ' docker.service'}`,
    ...(options.envoyBinary ? [] : ['Requires=docker.service']),
    '[Service]',
    'Restart=always',
    'RestartSec=2',
    ...exec,
    '[Install]',
    'WantedBy=multi-user.target',
    'MESH_UNIT_EOF',
    'systemctl daemon-reload',
    'systemctl enable --now envoy.service',
  ];
}

/** addEnvoyToUserData appends the Envoy set-up to an instance's (or launch template's) user data. */
export function addEnvoyToUserData(userData: ec2.UserData, options: Ec2SidecarOptions): void {
  userData.addCommands(...envoyUserDataCommands(options));
}
