import type { ObservabilitySpec } from '../model/spec-observability';

/**
 * RenderSettings are the deployment-wide facts rendering needs that no spec carries: how the
 * rendered resources point back at the control plane for their own sub-resources (EDS, RDS, SDS).
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
  /**
   * Where EDS, RDS and SDS config sources point: REST polls of the xDS cluster, or the node's
   * ADS stream. Snapshots are stored in the REST forms; the ADS forms of an Envoy on the push
   * tier are derived from them when served (render/ads-forms.ts). @default 'rest'
   */
  readonly configSources?: ConfigSourceKind;
  /**
   * How route configurations reach Envoys: over RDS (one subscription per HTTP listener, polled
   * at `refreshDelay`), or inline in the listener that uses them (no RDS polls: on the REST tier
   * about half the polls, docs/cost.md; the price is that a route change is a listener change,
   * which drains the listener's connections, and reaches Envoys at the LDS refresh delay, which
   * the generated bootstrap then sets to `refreshDelay`). Proxyless gRPC clients keep RDS.
   * @default 'rds'
   */
  readonly routeDelivery?: RouteDelivery;
  /**
   * The mesh-wide observability default (metrics to CloudWatch, request tracing): a service's
   * own `observability` overrides it field by field (render/stats.ts, render/tracing.ts).
   * Set by ControlPlaneProps.observability (MESH_OBSERVABILITY) and the local runner. @default - off
   */
  readonly observability?: ObservabilitySpec;
  /**
   * The domain every service has a name under, `<service>.<serviceDomain>`: transparent callers
   * route requests for it (render/transparent.ts), and MeshDns serves it as a private hosted
   * zone. @default 'mesh.internal' (interceptionDefaults.serviceDomain)
   */
  readonly serviceDomain?: string;
  /**
   * The CA bundle TLS to hosts outside the mesh is verified against (external services): the
   * system bundle of Envoy's official images. @default '/etc/ssl/certs/ca-certificates.crt'
   */
  readonly systemCaBundlePath?: string;
  /**
   * Whether a sidecar may reach destinations no dependency declares: 'allow-declared' (App
   * Mesh's DROP_ALL) or 'allow-all' (ALLOW_ALL). It takes effect where the sidecar intercepts
   * outbound traffic (transparent mode, render/egress.ts); a localhost-mode sidecar only ever
   * sees the traffic its payload sends to its dependencies' local ports. @default 'allow-declared'
   */
  readonly egress?: EgressPolicy;
  /**
   * Whether proxyless gRPC nodes do mutual TLS (render/proxyless-tls.ts): their clusters of
   * strict-mTLS dependencies carry an UpstreamTlsContext, and a proxyless server of an mTLS
   * service a DownstreamTlsContext and the caller allow-list, both naming the certificate
   * provider instance every proxyless bootstrap must then declare (bootstrap/grpc-bootstrap.ts:
   * gRPC rejects a cluster or listener naming an instance its bootstrap lacks). Off, proxyless
   * nodes speak plaintext and a proxyless server enforces no allow-list (no identity to match).
   * Set by ControlPlaneProps.proxylessMtls (MESH_PROXYLESS_MTLS) and the local runner. @default false
   */
  readonly proxylessMtls?: boolean;
}

/** RouteDelivery says whether route configurations are served over RDS or inline in their listeners. */
export type RouteDelivery = 'rds' | 'inline';
export const routeDeliveries: readonly RouteDelivery[] = ['rds', 'inline'];

/** EgressPolicy says what happens to traffic towards a destination no dependency declares. */
export type EgressPolicy = 'allow-declared' | 'allow-all';

/** ConfigSourceKind says how an Envoy fetches a sub-resource: polling over REST, or on its ADS stream. */
export type ConfigSourceKind = 'rest' | 'ads';

export const defaultRenderSettings: RenderSettings = {
  xdsClusterName: 'xds_cluster',
  /**
   * EDS and RDS poll every 10 s (Envoy waits 1-2x this between polls, ENVOY-REST.md): an
   * endpoint change reaches every poller within about 2.4 delays (docs/benchmarks.md,
   * convergence), inside ECS's 30 s stop timeout and the default drain, at half the REST tier's
   * cost of 5 s. docs/cost.md prices 5, 10, 30 and 60 s; the cost model reads this value.
   */
  refreshDelay: '10s',
  requestTimeout: '5s',
  meshName: 'mesh.local',
};

/**
 * adsNodeMetadata is what an Envoy on the push tier says in its bootstrap's node metadata (the
 * ADS bootstrap sets it): it is then served the ADS forms, whatever transport carries the
 * request, so the REST and gRPC tiers answer the same node identically.
 */
export const adsNodeMetadata = { key: 'mesh.xds', value: 'ads' } as const;

/**
 * restSdsNodeMetadata is what an Envoy on the push tier in AWS says beside adsNodeMetadata:
 * its SDS stays on the REST tier (render/ads-forms.ts, AdsFormOptions), where its bootstrap
 * fetches the certificate its mutual-TLS stream presents.
 */
export const restSdsNodeMetadata = { key: 'mesh.sds', value: 'rest' } as const;

/** configSource is the ConfigSource the settings call for (REST unless they say ADS). */
export function configSource(settings: RenderSettings): Record<string, unknown> {
  return settings.configSources === 'ads' ? adsConfigSource() : restConfigSource(settings);
}

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

/** adsConfigSource is a ConfigSource that says "over the same ADS stream" (Envoys on the push tier, and gRPC clients). */
export function adsConfigSource(): Record<string, unknown> {
  return { ads: {}, resource_api_version: 'V3' };
}
