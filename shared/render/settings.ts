/**
 * RenderSettings are the deployment-wide facts rendering needs that no spec carries: how the
 * rendered resources point back at the control plane for their own sub-resources (EDS, RDS).
 */
export interface RenderSettings {
  /** The bootstrap's static xDS cluster: REST config sources name it. */
  readonly xdsClusterName: string;
  /** How often Envoy polls EDS and RDS (protobuf Duration string, e.g. "5s"). */
  readonly refreshDelay: string;
  /** How long one poll may take before Envoy counts it failed: covers a Lambda cold start. */
  readonly requestTimeout: string;
  /** The mesh's trust domain: identities are `spiffe://<meshName>/service/<name>`. */
  readonly meshName: string;
}

export const defaultRenderSettings: RenderSettings = {
  xdsClusterName: 'xds_cluster',
  refreshDelay: '5s',
  requestTimeout: '5s',
  meshName: 'mesh.local',
};

/** restConfigSource is a ConfigSource that polls the control plane over REST. */
export function restConfigSource(settings: RenderSettings): Record<string, unknown> {
  return {
    api_config_source: {
      api_type: 'REST',
      transport_api_version: 'V3',
      cluster_names: [settings.xdsClusterName],
      refresh_delay: settings.refreshDelay,
      request_timeout: settings.requestTimeout,
    },
    resource_api_version: 'V3',
  };
}
