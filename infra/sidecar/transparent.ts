import { Stack } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { interceptionDefaults } from '../../shared/model/defaults';
import { ServiceSpec } from '../../shared/model/spec';
import { interceptionPolicy } from '../../shared/render/transparent';
import { RedirectSettings, meshRedirectScript } from './scripts';

/**
 * The host side of transparent mode (shared/model/spec-interception.ts): what sends the
 * payload's TCP through its Envoy. On ECS, the task definition's proxy configuration (type
 * APPMESH): the ECS agent, or Fargate, has its CNI plugin write the iptables rules into the
 * task's network namespace when the task starts. It is an ECS feature that calls no App Mesh
 * API. On EC2, mesh-redirect.sh does the same, installed and removed by a systemd unit.
 */

/** redirectSettings are what a service's node redirects: its spec's interception, Envoy's UID. */
export function redirectSettings(spec: ServiceSpec, envoyUid: number = interceptionDefaults.envoyUid): RedirectSettings {
  const policy = interceptionPolicy(spec);
  return {
    ignoredUid: envoyUid,
    egressPort: policy.egressPort,
    ingressPort: spec.inboundPort,
    appPorts: [spec.appPort],
    egressIgnoredIps: policy.egressIgnoredIps,
    egressIgnoredPorts: policy.egressIgnoredPorts,
  };
}

/**
 * transparentProxyConfiguration is the ECS proxy configuration of a transparent service's
 * tasks: outbound TCP of every container but Envoy (UID `envoyUid`, the ENVOY_UID the sidecar
 * runs as) to Envoy's egress port; TCP arriving at the payload's port to Envoy's inbound port;
 * the metadata endpoints and the spec's ignored addresses and ports left alone.
 */
export function transparentProxyConfiguration(spec: ServiceSpec, containerName: string, envoyUid: number = interceptionDefaults.envoyUid): ecs.ProxyConfiguration {
  const s = redirectSettings(spec, envoyUid);
  return ecs.ProxyConfigurations.appMeshProxyConfiguration({
    containerName,
    properties: {
      ignoredUID: s.ignoredUid,
      appPorts: [...s.appPorts],
      proxyIngressPort: s.ingressPort!,
      proxyEgressPort: s.egressPort,
      egressIgnoredIPs: [...s.egressIgnoredIps],
      ...(s.egressIgnoredPorts.length > 0 ? { egressIgnoredPorts: [...s.egressIgnoredPorts] } : {}),
    },
  });
}

/**
 * refuseTransparentTask refuses a task definition ECS cannot redirect for a transparent
 * service: ECS applies a proxy configuration only in awsvpc mode (Fargate's only mode), and a
 * task definition has one proxy configuration. Each refusal names the task definition.
 */
export function refuseTransparentTask(taskDefinition: ecs.TaskDefinition, spec: ServiceSpec): void {
  if (taskDefinition.networkMode !== ecs.NetworkMode.AWS_VPC) {
    throw new Error(
      `addMeshSidecar: service "${spec.name}" is transparent, and ECS redirects traffic only in awsvpc mode; ` +
        `task definition ${taskDefinition.node.path} uses "${taskDefinition.networkMode}"`,
    );
  }
  if ((taskDefinition.node.defaultChild as ecs.CfnTaskDefinition).proxyConfiguration !== undefined) {
    throw new Error(`addMeshSidecar: task definition ${taskDefinition.node.path} already has a proxy configuration; service "${spec.name}" is transparent and sets its own`);
  }
}

/** addTransparentProxyConfiguration sets the proxy configuration on a task definition created without one. */
export function addTransparentProxyConfiguration(taskDefinition: ecs.TaskDefinition, spec: ServiceSpec, envoy: ecs.ContainerDefinition): void {
  refuseTransparentTask(taskDefinition, spec);
  const cfn = taskDefinition.node.defaultChild as ecs.CfnTaskDefinition;
  cfn.proxyConfiguration = transparentProxyConfiguration(spec, envoy.containerName).bind(Stack.of(taskDefinition), taskDefinition);
}

/** The redirection's systemd unit on EC2. */
export const redirectUnit = 'mesh-redirect.service';

/**
 * transparentUserDataCommands are the user data lines that redirect an EC2 node's traffic:
 * iptables if the image lacks it, mesh-redirect.sh as /usr/local/sbin/mesh-redirect, and a
 * oneshot unit that installs the rules once Envoy is started (configured) and removes them when
 * stopped (but not at shutdown, while Envoy drains). Run after envoyUserDataCommands. The payload must run in the host's network
 * namespace (a process, or a container with `--network host`): a bridged container's traffic
 * never passes the host's OUTPUT chain.
 */
export function transparentUserDataCommands(spec: ServiceSpec, envoyUid: number = interceptionDefaults.envoyUid): string[] {
  return [
    'command -v iptables >/dev/null || dnf install -y iptables-nft || yum install -y iptables',
    'install -d -m 0755 /usr/local/sbin',
    "cat > /usr/local/sbin/mesh-redirect <<'MESH_REDIRECT_EOF'",
    '#!/bin/bash',
    meshRedirectScript(redirectSettings(spec, envoyUid)),
    'MESH_REDIRECT_EOF',
    'chmod 0755 /usr/local/sbin/mesh-redirect',
    `cat > /etc/systemd/system/${redirectUnit} <<'MESH_REDIRECT_UNIT_EOF'`,
    '[Unit]',
    `Description=Transparent interception of mesh service ${spec.name}: the payload's TCP through Envoy`,
    // Envoy counts as started once configured (its ExecStartPost), so nothing is redirected into a listener that is not there yet.
    'Wants=envoy.service network-online.target',
    'After=envoy.service network-online.target',
    '[Service]',
    'Type=oneshot',
    'RemainAfterExit=yes',
    'ExecStart=/usr/local/sbin/mesh-redirect install',
    // Stopped by hand, the rules go. At shutdown they stay: this unit stops before envoy.service
    // (the reverse of start order), and the payload must still reach its dependencies while Envoy drains.
    // `$$` is systemd's escape for a literal `$`.
    `ExecStop=/bin/bash -c 'if [ "$$(systemctl is-system-running)" = stopping ]; then exit 0; fi; exec /usr/local/sbin/mesh-redirect remove'`,
    '[Install]',
    'WantedBy=multi-user.target',
    'MESH_REDIRECT_UNIT_EOF',
    'systemctl daemon-reload',
    `systemctl enable --now ${redirectUnit}`,
  ];
}

/**
 * envoyUserDropInCommands run a host's Envoy binary as `envoyUid` (a drop-in for envoy.service,
 * written before it starts): the redirection recognises Envoy's own traffic by that UID. The
 * official image under Docker already runs Envoy as 101.
 */
export function envoyUserDropInCommands(envoyUid: number = interceptionDefaults.envoyUid): string[] {
  return [
    'install -d -m 0755 /etc/systemd/system/envoy.service.d',
    "cat > /etc/systemd/system/envoy.service.d/mesh-transparent.conf <<'MESH_DROPIN_EOF'",
    '[Service]',
    `User=${envoyUid}`,
    `Group=${envoyUid}`,
    'MESH_DROPIN_EOF',
  ];
}
