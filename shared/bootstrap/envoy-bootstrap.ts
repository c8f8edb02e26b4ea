import { RenderSettings, restConfigSource } from '../render/settings';

/**
 * The Envoy bootstrap for one sidecar: who it is, where the control plane is, and the few
 * things that cannot come from xDS (admin, the xDS cluster itself, the local cluster for
 * zone-aware routing). Everything else arrives over REST xDS.
 */
export interface BootstrapOptions {
  /** The mesh service this Envoy belongs to: `node.cluster`, which names its config. */
  readonly service: string;
  /** Unique per Envoy: an EC2 instance id or an ECS task id. */
  readonly nodeId: string;
  /** The availability zone, for zone-aware routing and locality stats. */
  readonly zone?: string;
  /** The control plane's xDS URL, e.g. `https://abc.lambda-url.eu-west-1.on.aws` or `http://127.0.0.1:18000`. */
  readonly controlPlaneUrl: string;
  /**
   * Sign each poll with SigV4 using the instance's or task's role (the front door requires IAM auth).
   * `lambda` for a function URL, `execute-api` for API Gateway.
   */
  readonly signing?: { readonly region: string; readonly serviceName: 'lambda' | 'execute-api' };
  /**
   * Send `Authorization: Bearer <token>` with each poll: the local runner's `--auth token`
   * mode, where the token binds the node to its service as an IAM role does in AWS.
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
} as const;

const upstreamTlsType = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext';
const httpProtocolOptionsType = 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions';
const awsSigningType = 'type.googleapis.com/envoy.extensions.filters.http.aws_request_signing.v3.AwsRequestSigning';
const upstreamCodecType = 'type.googleapis.com/envoy.extensions.filters.http.upstream_codec.v3.UpstreamCodec';
const headerMutationType = 'type.googleapis.com/envoy.extensions.filters.http.header_mutation.v3.HeaderMutation';
const downstreamConnectionsType =
  'type.googleapis.com/envoy.extensions.resource_monitors.downstream_connections.v3.DownstreamConnectionsConfig';

/** BootstrapError says a bootstrap cannot be made from the options given (a control plane URL Envoy cannot use). */
export class BootstrapError extends Error {
  override readonly name = 'BootstrapError';
}

function parseControlPlaneUrl(url: string): { host: string; port: number; tls: boolean } {
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
    throw new BootstrapError(`control plane URL "${url}" must have no path: Envoy POSTs to the fixed /v3/discovery:<type> paths`);
  }
  const tls = parsed.protocol === 'https:';
  return { host: parsed.hostname, port: parsed.port ? Number(parsed.port) : tls ? 443 : 80, tls };
}

/**
 * xdsCluster is the static cluster every REST subscription names. Its name is the render
 * settings' `xdsClusterName`, and since Envoy sends the cluster name as the Host header, the
 * real host is restored by the signing filter's `host_rewrite` (SigV4 signs the host, and
 * function URLs route by it). Polls pass through the cluster's upstream HTTP filters, so the
 * cluster signs its own polls with the instance's or task's role (Envoy 1.30+).
 */
function xdsCluster(options: BootstrapOptions, settings: RenderSettings): Record<string, unknown> {
  const { host, port, tls } = parseControlPlaneUrl(options.controlPlaneUrl);
  const credential = pollCredentialFilter(options, host);
  const httpFilters = credential
    ? [credential, { name: 'envoy.filters.http.upstream_codec', typed_config: { '@type': upstreamCodecType } }]
    : [];
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
        common_http_protocol_options: { idle_timeout: bootstrapDefaults.xdsIdleTimeout },
        explicit_http_config: { http_protocol_options: {} },
        ...(httpFilters.length > 0 ? { http_filters: httpFilters } : {}),
      },
    },
    ...(tls
      ? {
          transport_socket: {
            name: 'envoy.transport_sockets.tls',
            typed_config: {
              '@type': upstreamTlsType,
              sni: host,
              common_tls_context: {
                validation_context: {
                  trusted_ca: { filename: options.caBundlePath ?? bootstrapDefaults.caBundlePath },
                  match_typed_subject_alt_names: [{ san_type: 'DNS', matcher: { exact: host } }],
                },
              },
            },
          },
        }
      : {}),
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
 * envoyBootstrap renders a complete bootstrap (proto3 JSON of envoy.config.bootstrap.v3.Bootstrap)
 * for one Envoy. Admin listens on loopback only: it can change Envoy's state.
 */
export function envoyBootstrap(options: BootstrapOptions, settings: RenderSettings): Record<string, unknown> {
  const requestSettings = { ...settings, requestTimeout: settings.requestTimeout || bootstrapDefaults.requestTimeout };
  const staticClusters: Record<string, unknown>[] = [xdsCluster(options, requestSettings)];
  let localClusterName: string | undefined;
  if (options.localCluster) {
    // A static cluster is a Cluster message, not a typed Any: drop the `@type` rendering adds.
    const { '@type': _type, ...cluster } = options.localCluster;
    staticClusters.push(cluster);
    localClusterName = String(cluster.name);
  }
  return {
    node: {
      id: options.nodeId,
      cluster: options.service,
      ...(options.zone ? { locality: { zone: options.zone } } : {}),
      metadata: { 'mesh.service': options.service },
    },
    admin: {
      address: { socket_address: { address: '127.0.0.1', port_value: options.adminPort ?? bootstrapDefaults.adminPort } },
    },
    dynamic_resources: {
      lds_config: subscription(requestSettings, options.ldsRefreshDelay ?? bootstrapDefaults.ldsRefreshDelay),
      cds_config: subscription(requestSettings, options.cdsRefreshDelay ?? bootstrapDefaults.cdsRefreshDelay),
    },
    static_resources: { clusters: staticClusters },
    ...(localClusterName ? { cluster_manager: { local_cluster_name: localClusterName } } : {}),
    stats_config: {
      use_all_default_tags: true,
      stats_tags: [{ tag_name: 'mesh_service', fixed_value: options.service }],
    },
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
