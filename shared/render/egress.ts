import { EnvoyResource, typeUrls } from '../envoy/resources';
import { names } from './names';
import { EgressPolicy, RenderSettings } from './settings';

/**
 * The mesh-wide egress policy (RenderSettings.egress) for traffic towards destinations no
 * dependency declares. It is a decision only a sidecar that intercepts outbound traffic can
 * carry out: in transparent mode (iptables redirect, issue #21) the outbound listener's last
 * filter chain catches what no declared destination matched, and sends it either on to the
 * original destination ("allow-all", App Mesh's ALLOW_ALL) or nowhere ("allow-declared",
 * DROP_ALL). A localhost-mode sidecar never sees undeclared traffic (the payload reaches other
 * hosts directly), so there the setting changes nothing: security groups and the VPC's routes
 * decide. This builder is not wired into localhost-mode snapshots; transparent listeners use it.
 */

const tcpProxyType = 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy';

/** egressPolicyOf is the mesh's egress policy, strict unless the deployment says otherwise. */
export function egressPolicyOf(settings: RenderSettings): EgressPolicy {
  return settings.egress ?? 'allow-declared';
}

/** EgressFallback is the catch-all filter chain of a transparent outbound listener and the cluster it sends to. */
export interface EgressFallback {
  readonly filterChain: Record<string, unknown>;
  readonly cluster: EnvoyResource;
}

/**
 * egressFallback renders the catch-all: under "allow-all" a TCP proxy to an ORIGINAL_DST
 * cluster (the connection goes where the payload sent it, as Istio's PassthroughCluster);
 * under "allow-declared" a TCP proxy to a cluster without hosts, which closes the connection
 * (Istio's BlackHoleCluster). Its stats (`tcp.egress_passthrough.*` / `tcp.egress_blocked.*`)
 * show how much traffic left, or tried to leave, undeclared.
 */
export function egressFallback(settings: RenderSettings): EgressFallback {
  const allowAll = egressPolicyOf(settings) === 'allow-all';
  const name = allowAll ? names.egressPassthroughCluster : names.egressBlockedCluster;
  const cluster: EnvoyResource = allowAll
    ? { '@type': typeUrls.clusters, name, type: 'ORIGINAL_DST', lb_policy: 'CLUSTER_PROVIDED', connect_timeout: '5s' }
    : { '@type': typeUrls.clusters, name, type: 'STATIC', connect_timeout: '1s', load_assignment: { cluster_name: name, endpoints: [] } };
  return {
    filterChain: {
      name,
      filters: [{ name: 'envoy.filters.network.tcp_proxy', typed_config: { '@type': tcpProxyType, stat_prefix: name, cluster: name } }],
    },
    cluster,
  };
}
