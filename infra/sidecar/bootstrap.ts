import { Stack } from 'aws-cdk-lib';
import { envoyBootstrap } from '../../shared/bootstrap/envoy-bootstrap';
import { ServiceSpec } from '../../shared/model/spec';
import { localClusterName, localServiceCluster } from '../../shared/render/cluster';
import { bootstrapTelemetry } from '../../shared/render/stats';
import type { ControlPlane } from '../control-plane';
import { placeholders, substitute } from './placeholders';

export interface SidecarBootstrapOptions {
  /** Envoy's admin port (localhost). @default the generator's default, 9901 */
  readonly adminPort?: number;
  /** Reach the front door over IPv6 where the subnet has IPv6 egress (docs/cost.md, "Data transfer"). @default false */
  readonly pollOverIpv6?: boolean;
  /**
   * Which tier the node takes its configuration from: `rest` polls the front door; `push`
   * holds one ADS stream to the control plane's push tier (ControlPlaneProps.pushTier) over
   * mutual TLS, with its certificate and trust bundle (and every SDS secret) still polled from
   * the signed front door (docs/deploy.md, "The push tier"). @default 'rest'
   */
  readonly tier?: SidecarTier;
  /**
   * Endpoint labels the node's stats carry as tags, with placeholders the host fills at boot:
   * an ECS task tags them with its task definition's revision (placeholders.revision), the
   * label a rollout's subsets are told apart by in CloudWatch. @default none
   */
  readonly statsLabels?: Readonly<Record<string, string>>;
}

/** SidecarTier is where a sidecar takes its configuration from: REST polls, or the push tier's ADS stream. */
export type SidecarTier = 'rest' | 'push';

/**
 * sidecarBootstrapJson renders the Envoy bootstrap for a service's nodes at synth time, with
 * the generator the management API's bootstrap endpoint uses, and the same inputs. What synth
 * cannot know is left as placeholders: the node id and zone (replaced on the host at boot)
 * and the front door's host and region (replaced here by CloudFormation tokens, resolved at
 * deploy).
 *
 * With tier `push`, the ADS stream goes to the push tier's load balancer (its DNS name, a
 * token too), and the front door stays in the bootstrap for SDS.
 *
 * The xDS cluster keeps the control plane's fixed name (`xds_cluster` by default) that the
 * functions render into config sources; the bootstrap's signing filter rewrites the Host
 * header to the front door's real host before signing (docs/deploy.md, "The xDS host").
 */
export function sidecarBootstrapJson(controlPlane: ControlPlane, spec: ServiceSpec, options: SidecarBootstrapOptions = {}): string {
  const settings = controlPlane.renderSettings;
  const push = (options.tier ?? 'rest') === 'push';
  if (push && !controlPlane.xdsServer) {
    throw new Error(`tier "push" for service "${spec.name}": the control plane has no push tier (set ControlPlaneProps.pushTier), or use tier "rest"`);
  }
  const bootstrap = envoyBootstrap(
    {
      ...(push ? { tier: 'grpc' as const, pushTier: { host: placeholders.pushTierHost, port: controlPlane.xdsServer!.port } } : {}),
      service: spec.name,
      nodeId: placeholders.nodeId,
      zone: placeholders.zone,
      controlPlaneUrl: `https://${placeholders.xdsHost}`,
      signing: { region: placeholders.region, serviceName: 'lambda' },
      ...(options.adminPort !== undefined ? { adminPort: options.adminPort } : {}),
      ...(options.pollOverIpv6 ? { xdsDnsLookupFamily: 'AUTO' as const } : {}),
      ...(localClusterName(spec) ? { localCluster: localServiceCluster(spec, settings) } : {}),
      telemetry: bootstrapTelemetry(spec, settings),
      ...(options.statsLabels ? { labels: options.statsLabels } : {}),
    },
    settings,
  );
  return substitute(JSON.stringify(bootstrap), {
    ...(push ? { [placeholders.pushTierHost]: controlPlane.xdsServer!.host } : {}),
    [placeholders.xdsHost]: controlPlane.xdsHost,
    [placeholders.region]: Stack.of(controlPlane).region,
  });
}
