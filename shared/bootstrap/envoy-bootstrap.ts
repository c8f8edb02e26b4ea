import { AdsFormOptions, adsResource } from '../render/ads-forms';
import { upstreamTlsTransportSocket } from '../render/secret';
import { BootstrapTelemetry, statsConfig, statsSinks } from '../render/stats';
import { otelCollectorCluster } from '../render/tracing';
import { RenderSettings, adsConfigSource, adsNodeMetadata, restConfigSource, restSdsNodeMetadata } from '../render/settings';
import { pushTierIdentityName } from '../pki/identity';

/**
 * The Envoy bootstrap for one sidecar: who it is, where the control plane is, and the few
 * things that cannot come from xDS (admin, the xDS cluster itself, the local cluster for
 * zone-aware routing). Everything else arrives over xDS: REST polls of the xDS function, or
 * (tier `grpc`) one ADS stream to the push tier.
 */
export interface BootstrapOptions {
  /** The mesh service this Envoy belongs to: `node.cluster`, which names its config. */
  readonly service: string;
  /** Unique per Envoy: an EC2 instance id or an ECS task id. */
  readonly nodeId: string;
  /** The availability zone, for zone-aware routing and locality stats. */
  readonly zone?: string;
  /**
   * Labels of the node's endpoint that its stats carry as tags (with metrics on), e.g. the ECS
   * task definition's `revision`: a rollout judges each subset on them (render/stats.ts, labelTag).
   */
  readonly labels?: Readonly<Record<string, string>>;
  /**
   * The control plane's xDS URL, e.g. `https://abc.lambda-url.eu-west-1.on.aws` or `http://127.0.0.1:18000`;
   * for the `grpc` tier, the push tier's gRPC address as a URL (`http://127.0.0.1:18001`: plaintext HTTP/2; `https://`: TLS).
   */
  readonly controlPlaneUrl: string;
  /**
   * `rest` (default): every type polled over REST. `grpc`: one ADS stream (state of the world)
   * carries every type, and the node says `mesh.xds: ads` so it is served resources whose RDS,
   * EDS and SDS config sources are that stream too. gRPC carries no SigV4: no `signing` here.
   */
  readonly tier?: 'rest' | 'grpc';
  /**
   * The push tier in AWS, for tier `grpc`: the ADS stream goes to this host (the internal NLB)
   * in its own static cluster (`pushTierClusterName`) over mutual TLS, presenting the service's
   * mesh certificate and pinning the server's `spiffe://<mesh>/service/_xds`. Both the
   * certificate and the trust bundle come over SDS from the REST tier: `controlPlaneUrl` is then
   * the REST front door, its cluster signed with `signing` exactly as in the REST bootstrap. The
   * node says `mesh.sds: rest`, so its listeners' and clusters' SDS stays on the REST tier too
   * (render/ads-forms.ts: the push tier opens no private keys). Without it, tier `grpc` is the
   * local form: `controlPlaneUrl` is the push tier itself, plaintext or TLS with a bearer token.
   */
  readonly pushTier?: { readonly host: string; readonly port?: number };
  /**
   * Sign each poll with SigV4 using the instance's or task's role (the front door requires IAM auth).
   * `lambda` for a function URL, `execute-api` for API Gateway.
   */
  readonly signing?: { readonly region: string; readonly serviceName: 'lambda' | 'execute-api' };
  /**
   * Send `Authorization: Bearer <token>` with each poll (on the `grpc` tier, as the stream's
   * initial metadata): the local runner's `--auth token` mode, where the token binds the node to
   * its service as an IAM role does in AWS.
   */
  readonly bearerToken?: string;
  /** LDS changes rarely (a dependency added or removed), so it polls slower than CDS. */
  readonly ldsRefreshDelay?: string;
  readonly cdsRefreshDelay?: string;
  /**
   * The service's own EDS cluster, for zone-aware routing: Envoy requires `local_cluster_name`
   * to name a cluster of the bootstrap's static resources (bootstrap.proto), so it cannot come
   * from CDS. See `localClusterName` / `localServiceCluster` in shared/render/cluster.ts.
   */
  readonly localCluster?: Record<string, unknown>;
  readonly adminPort?: number;
  /** Trusted CAs for the control plane's TLS certificate. */
  readonly caBundlePath?: string;
  /**
   * How the xDS cluster resolves the control plane's host. Function URLs are dual-stack, so
   * where the node's subnet has an IPv6 route to the internet (an egress-only internet gateway),
   * `AUTO` (IPv6 when the host has an AAAA record) sends the polls around the NAT gateway and its
   * per-GB charge (docs/cost.md, "Data transfer"). Only where IPv6 egress exists: Envoy does not
   * fall back to IPv4 when an IPv6 connect fails. @default 'V4_PREFERRED'
   */
  readonly xdsDnsLookupFamily?: 'V4_PREFERRED' | 'AUTO' | 'V6_ONLY';
  /**
   * The service's observability as its nodes start with it (render/stats.ts, bootstrapTelemetry):
   * the DogStatsD sink, inclusion list and tags of its metrics, and the static cluster of the
   * OpenTelemetry collector its tracer names. @default - no sink, Envoy's default tags
   */
  readonly telemetry?: BootstrapTelemetry;
}

/**
 * ldsRefreshDelayOf is how often LDS polls when the bootstrap does not say: the default, or,
 * when routes are inline in listeners, the render settings' refresh delay, so a route change
 * reaches Envoys as soon as it would over RDS.
 */
export function ldsRefreshDelayOf(settings: Pick<RenderSettings, 'routeDelivery' | 'refreshDelay'>): string {
  return settings.routeDelivery === 'inline' ? settings.refreshDelay : bootstrapDefaults.ldsRefreshDelay;
}

/** bootstrapDefaults are the deliberate choices behind every generated bootstrap. */
export const bootstrapDefaults = {
  /** A listener change drains connections; dependencies change rarely: poll LDS every 30-60 s. */
  ldsRefreshDelay: '30s',
  /** Clusters carry policy (timeouts, breakers): 10-20 s keeps a policy change under half a minute. */
  cdsRefreshDelay: '10s',
  /** Envoy's default is 1 s, shorter than a Lambda cold start: a slow first answer must not count as a failure. */
  requestTimeout: '5s',
  /** How long start-up waits for each type's first answer before going on without it (0 waits forever). */
  initialFetchTimeout: '15s',
  /**
   * Envoy closes a connection to the control plane once it has been idle this long (its
   * default is 1 h). HTTP/1.1 cannot announce a close, so the side that closes an idle
   * connection must be the one that knows when it will speak next: the poller. Longer than
   * every refresh delay (polls keep reusing their connections), shorter than the servers' idle
   * timeouts (60 s is the common load-balancer default; the local server keeps 120 s).
   */
  xdsIdleTimeout: '55s',
  adminPort: 9901,
  caBundlePath: '/etc/ssl/certs/ca-certificates.crt',
  /**
   * How an ADS stream is re-established after it ends (a push-tier task replaced, a deploy):
   * jittered exponential back-off from 1 s to 30 s (Envoy's default starts at 0.5 s), so a
   * fleet whose server went away spreads its reconnects over the remaining servers.
   */
  adsRetryBaseInterval: '1s',
  adsRetryMaxInterval: '30s',
  /**
   * HTTP/2 PINGs on the stream's connection: a control plane that vanished without a FIN (a
   * killed task, a dropped NLB flow) is noticed within interval + timeout, and an idle stream
   * keeps its flow alive (an NLB forgets idle TCP flows after 350 s). The push tier permits a
   * ping every 10 s (server/ads-server.ts), so 30 s never counts as abuse.
   */
  xdsKeepaliveInterval: '30s',
  xdsKeepaliveTimeout: '10s',
} as const;

const upstreamTlsType = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext';
const httpProtocolOptionsType = 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions';
const awsSigningType = 'type.googleapis.com/envoy.extensions.filters.http.aws_request_signing.v3.AwsRequestSigning';
const upstreamCodecType = 'type.googleapis.com/envoy.extensions.filters.http.upstream_codec.v3.UpstreamCodec';
const headerMutationType = 'type.googleapis.com/envoy.extensions.filters.http.header_mutation.v3.HeaderMutation';
const downstreamConnectionsType =
  'type.googleapis.com/envoy.extensions.resource_monitors.downstream_connections.v3.DownstreamConnectionsConfig';

/** pushTierClusterName names the static cluster of the ADS stream when the REST cluster stays beside it (BootstrapOptions.pushTier). */
export const pushTierClusterName = 'xds_grpc';

/** BootstrapError says a bootstrap cannot be made from the options given (a control plane URL Envoy cannot use). */
export class BootstrapError extends Error {
  override readonly name = 'BootstrapError';
}

function parseControlPlaneUrl(url: string, tier: 'rest' | 'grpc'): { host: string; port: number; tls: boolean } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new BootstrapError(`control plane URL "${url}" is not a URL`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new BootstrapError(`control plane URL "${url}" must be http or https`);
  }
  if (parsed.pathname !== '/' && parsed.pathname !== '') {
    const why = tier === 'grpc' ? 'the ADS stream has the fixed path of its gRPC method' : 'Envoy POSTs to the fixed /v3/discovery:<type> paths';
    throw new BootstrapError(`control plane URL "${url}" must have no path: ${why}`);
  }
  const tls = parsed.protocol === 'https:';
  return { host: parsed.hostname, port: parsed.port ? Number(parsed.port) : tls ? 443 : 80, tls };
}

/**
 * xdsCluster is the static cluster that reaches the control plane; its name is the render
 * settings' `xdsClusterName`. On the REST tier every subscription names it, and since Envoy
 * sends the cluster name as the Host header, the real host is restored by the signing filter's
 * `host_rewrite` (SigV4 signs the host, and function URLs route by it); polls pass through the
 * cluster's upstream HTTP filters, so the cluster signs its own polls with the instance's or
 * task's role (Envoy 1.30+). On the gRPC tier it carries the ADS stream: HTTP/2, with pings.
 */
function xdsCluster(options: BootstrapOptions, settings: RenderSettings): Record<string, unknown> {
  // With a push tier beside it, the control plane URL is the REST tier's (for SDS).
  const tier = options.pushTier ? 'rest' : (options.tier ?? 'rest');
  const { host, port, tls } = parseControlPlaneUrl(options.controlPlaneUrl, tier);
  return {
    name: settings.xdsClusterName,
    type: 'LOGICAL_DNS',
    dns_lookup_family: options.xdsDnsLookupFamily ?? 'V4_PREFERRED',
    connect_timeout: '3s',
    load_assignment: {
      cluster_name: settings.xdsClusterName,
      endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: host, port_value: port } } } }] }],
    },
    typed_extension_protocol_options: {
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
        '@type': httpProtocolOptionsType,
        ...(tier === 'grpc' ? grpcProtocolOptions() : restProtocolOptions(options, host)),
      },
    },
    ...(tls ? { transport_socket: tlsTransportSocket(host, options.caBundlePath, tier === 'grpc' ? ['h2'] : []) } : {}),
  };
}

/**
 * pushTierCluster reaches the push tier's load balancer, which passes TCP through to a task:
 * HTTP/2 with pings, and mutual TLS whose both halves come over SDS from the REST tier (the
 * same secrets and config source as the service's own TLS contexts, so one subscription each).
 * The server must prove the push tier's identity: any other mesh certificate is refused.
 */
function pushTierCluster(options: BootstrapOptions, settings: RenderSettings, pushTier: NonNullable<BootstrapOptions['pushTier']>): Record<string, unknown> {
  const port = pushTier.port ?? 443;
  if (!pushTier.host || /[\s/:]/.test(pushTier.host)) throw new BootstrapError(`push tier host "${pushTier.host}" must be a host name, without scheme, port or path`);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new BootstrapError(`push tier port ${port} must be a whole number from 1 to 65535`);
  const restSds = { ...settings, configSources: 'rest' as const };
  return {
    name: pushTierClusterName,
    type: 'LOGICAL_DNS',
    dns_lookup_family: 'V4_PREFERRED',
    connect_timeout: '3s',
    load_assignment: {
      cluster_name: pushTierClusterName,
      endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: pushTier.host, port_value: port } } } }] }],
    },
    typed_extension_protocol_options: {
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': { '@type': httpProtocolOptionsType, ...grpcProtocolOptions() },
    },
    transport_socket: upstreamTlsTransportSocket({ caller: options.service, dependency: pushTierIdentityName, mesh: settings.meshName }, restSds, {
      alpnProtocols: ['h2'],
      sni: pushTier.host,
    }),
  };
}

/** restProtocolOptions: HTTP/1.1 polls, closed when idle by Envoy itself, through the credential filter. */
function restProtocolOptions(options: BootstrapOptions, host: string): Record<string, unknown> {
  const credential = pollCredentialFilter(options, host);
  const httpFilters = credential
    ? [credential, { name: 'envoy.filters.http.upstream_codec', typed_config: { '@type': upstreamCodecType } }]
    : [];
  return {
    common_http_protocol_options: { idle_timeout: bootstrapDefaults.xdsIdleTimeout },
    explicit_http_config: { http_protocol_options: {} },
    ...(httpFilters.length > 0 ? { http_filters: httpFilters } : {}),
  };
}

/** grpcProtocolOptions: HTTP/2 (gRPC), with keepalive pings on the connection. */
function grpcProtocolOptions(): Record<string, unknown> {
  return {
    explicit_http_config: {
      http2_protocol_options: {
        connection_keepalive: { interval: bootstrapDefaults.xdsKeepaliveInterval, timeout: bootstrapDefaults.xdsKeepaliveTimeout },
      },
    },
  };
}

/** tlsTransportSocket verifies the control plane's certificate for its host name. */
function tlsTransportSocket(host: string, caBundlePath: string | undefined, alpn: readonly string[]): Record<string, unknown> {
  return {
    name: 'envoy.transport_sockets.tls',
    typed_config: {
      '@type': upstreamTlsType,
      sni: host,
      common_tls_context: {
        ...(alpn.length > 0 ? { alpn_protocols: [...alpn] } : {}),
        validation_context: {
          trusted_ca: { filename: caBundlePath ?? bootstrapDefaults.caBundlePath },
          match_typed_subject_alt_names: [{ san_type: 'DNS', matcher: { exact: host } }],
        },
      },
    },
  };
}

/**
 * pollCredentialFilter is the upstream HTTP filter that proves who polls: SigV4 with the
 * instance's or task's role (AWS), or the service's bearer token (the local `--auth token`).
 */
function pollCredentialFilter(options: BootstrapOptions, host: string): Record<string, unknown> | undefined {
  if (options.signing && options.bearerToken) throw new Error('a bootstrap signs its polls with IAM or carries a bearer token, not both');
  if (options.signing) {
    return {
      name: 'envoy.filters.http.aws_request_signing',
      typed_config: {
        '@type': awsSigningType,
        service_name: options.signing.serviceName,
        region: options.signing.region,
        host_rewrite: host,
        match_excluded_headers: [{ prefix: 'x-envoy' }, { prefix: 'x-forwarded' }, { exact: 'te' }],
      },
    };
  }
  if (options.bearerToken) {
    return {
      // header_mutation runs as an upstream filter (Envoy 1.27+): every poll through the cluster carries the token.
      name: 'envoy.filters.http.header_mutation',
      typed_config: {
        '@type': headerMutationType,
        mutations: {
          request_mutations: [
            { append: { header: { key: 'authorization', value: `Bearer ${options.bearerToken}` }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' } },
          ],
        },
      },
    };
  }
  return undefined;
}

function subscription(settings: RenderSettings, refreshDelay: string): Record<string, unknown> {
  const source = restConfigSource({ ...settings, refreshDelay, requestTimeout: settings.requestTimeout });
  return { ...source, initial_fetch_timeout: bootstrapDefaults.initialFetchTimeout };
}

/**
 * dynamicResources says where LDS and CDS come from: REST polls at their own rates, or the
 * ADS stream, which `ads_config` describes. On the stream the node is sent once, in the first
 * request (the push tier keeps it for the stream), not in every request: Envoy's node carries
 * every compiled-in extension, several KB.
 */
function dynamicResources(options: BootstrapOptions, settings: RenderSettings): Record<string, unknown> {
  if ((options.tier ?? 'rest') === 'rest') {
    return {
      lds_config: subscription(settings, options.ldsRefreshDelay ?? ldsRefreshDelayOf(settings)),
      cds_config: subscription(settings, options.cdsRefreshDelay ?? bootstrapDefaults.cdsRefreshDelay),
    };
  }
  if (options.signing && !options.pushTier) {
    throw new BootstrapError('an ADS (grpc tier) bootstrap cannot sign with SigV4: gRPC carries no SigV4; reach the push tier inside the VPC (pushTier: mutual TLS)');
  }
  const overAds = { ...adsConfigSource(), initial_fetch_timeout: bootstrapDefaults.initialFetchTimeout };
  return {
    ads_config: {
      api_type: 'GRPC',
      transport_api_version: 'V3',
      set_node_on_first_message_only: true,
      grpc_services: [
        {
          envoy_grpc: {
            cluster_name: options.pushTier ? pushTierClusterName : settings.xdsClusterName,
            retry_policy: {
              retry_back_off: { base_interval: bootstrapDefaults.adsRetryBaseInterval, max_interval: bootstrapDefaults.adsRetryMaxInterval },
            },
          },
          ...(options.bearerToken ? { initial_metadata: [{ key: 'authorization', value: `Bearer ${options.bearerToken}` }] } : {}),
        },
      ],
    },
    lds_config: overAds,
    cds_config: overAds,
  };
}

/**
 * envoyBootstrap renders a complete bootstrap (proto3 JSON of envoy.config.bootstrap.v3.Bootstrap)
 * for one Envoy. Admin listens on loopback only: it can change Envoy's state.
 */
export function envoyBootstrap(options: BootstrapOptions, settings: RenderSettings): Record<string, unknown> {
  const requestSettings = { ...settings, requestTimeout: settings.requestTimeout || bootstrapDefaults.requestTimeout };
  const ads = options.tier === 'grpc';
  if (options.pushTier && !ads) throw new BootstrapError('pushTier is for tier grpc: a REST bootstrap polls the front door only');
  if (options.pushTier && options.bearerToken) throw new BootstrapError('a push tier stream proves its service with the mesh certificate (mutual TLS), not a bearer token');
  const formOptions: AdsFormOptions = options.pushTier ? { sds: 'rest' } : {};
  const staticClusters: Record<string, unknown>[] = [
    xdsCluster(options, requestSettings),
    ...(options.pushTier ? [pushTierCluster(options, requestSettings, options.pushTier)] : []),
    ...(options.telemetry?.tracing?.provider === 'opentelemetry' ? [otelCollectorCluster(options.telemetry.tracing.collectorPort)] : []),
  ];
  let localClusterName: string | undefined;
  if (options.localCluster) {
    // A static cluster is a Cluster message, not a typed Any: drop the `@type` rendering adds.
    // On ADS its EDS comes over the stream too (the same rewrite as the served clusters').
    const { '@type': _type, ...cluster } = ads ? adsResource(options.localCluster, formOptions) : options.localCluster;
    staticClusters.push(cluster);
    localClusterName = String(cluster.name);
  }
  return {
    node: {
      id: options.nodeId,
      cluster: options.service,
      ...(options.zone ? { locality: { zone: options.zone } } : {}),
      metadata: {
        'mesh.service': options.service,
        ...(ads ? { [adsNodeMetadata.key]: adsNodeMetadata.value } : {}),
        ...(options.pushTier ? { [restSdsNodeMetadata.key]: restSdsNodeMetadata.value } : {}),
      },
    },
    admin: {
      address: { socket_address: { address: '127.0.0.1', port_value: options.adminPort ?? bootstrapDefaults.adminPort } },
    },
    dynamic_resources: dynamicResources(options, requestSettings),
    static_resources: { clusters: staticClusters },
    ...(localClusterName ? { cluster_manager: { local_cluster_name: localClusterName } } : {}),
    stats_config: statsConfig(options.service, options.zone, options.telemetry?.metrics, options.labels),
    ...(options.telemetry?.metrics ? { stats_sinks: statsSinks(options.telemetry.metrics) } : {}),
    overload_manager: {
      resource_monitors: [
        {
          name: 'envoy.resource_monitors.global_downstream_max_connections',
          typed_config: { '@type': downstreamConnectionsType, max_active_downstream_connections: 50000 },
        },
      ],
    },
  };
}
